//! A scoring model as the contract's structured messages (`ScoringModelDefinition`), to and
//! from the domain's `ScoringModel`. Decimals travel as strings; enums are matched by name
//! (`FIGURE_INPUT_ON_TIME_PAYMENT_RATE_PERCENT` is the input `on_time_payment_rate_percent`),
//! so the contract and the domain cannot drift apart without a test noticing.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Serialize, de::DeserializeOwned};

use super::status::FieldViolations;
use crate::{
    domain::{
        InvalidValue,
        scoring::{
            ScoringModel,
            knockout::{Comparison, Condition, Effect, KnockOut},
            mapping::{Band, CurvePoint, Mapping},
            model::{Criterion, GradeThreshold, MissingPolicy},
            policy::{CreditLimitRule, GradePolicy},
        },
    },
    proto::custgrade::v1::{self as pb, condition, criterion, missing_policy},
};

/// The model as messages; the name and version travel in `ModelVersion.name`.
pub fn definition_to_proto(model: &ScoringModel) -> pb::ScoringModelDefinition {
    pb::ScoringModelDefinition {
        criteria: model.criteria.iter().map(criterion_to_proto).collect(),
        grades: model
            .grades
            .iter()
            .map(|threshold| pb::GradeThreshold {
                grade: threshold.grade.clone(),
                min_score: text(threshold.min_score),
            })
            .collect(),
        knock_outs: model.knock_outs.iter().map(knock_out_to_proto).collect(),
        policies: model
            .policies
            .iter()
            .map(|(grade, policy)| (grade.clone(), policy_to_proto(policy)))
            .collect(),
        validity_months: i32::try_from(model.validity_months).unwrap_or(i32::MAX),
    }
}

/// Reads a definition, recording a violation under `path` for every malformed value. Only
/// the form is checked here; whether the model makes sense is `validate`'s business.
pub fn definition_from_proto(
    definition: &pb::ScoringModelDefinition,
    path: &str,
    violations: &mut FieldViolations,
) -> Option<ScoringModel> {
    let before = violations.len();
    let mut reader = Reader { violations };
    let criteria = definition
        .criteria
        .iter()
        .enumerate()
        .map(|(index, line)| reader.criterion(line, &format!("{path}.criteria[{index}]")))
        .collect::<Vec<_>>();
    let grades = definition
        .grades
        .iter()
        .enumerate()
        .map(|(index, threshold)| GradeThreshold {
            grade: threshold.grade.clone(),
            min_score: reader.number(
                &threshold.min_score,
                &format!("{path}.grades[{index}].min_score"),
            ),
        })
        .collect();
    let knock_outs = definition
        .knock_outs
        .iter()
        .enumerate()
        .map(|(index, rule)| reader.knock_out(rule, &format!("{path}.knock_outs[{index}]")))
        .collect::<Vec<_>>();
    let policies: BTreeMap<String, GradePolicy> = definition
        .policies
        .iter()
        .map(|(grade, policy)| {
            let here = format!("{path}.policies[{grade}]");
            (grade.clone(), reader.policy(policy, &here))
        })
        .collect();
    let validity_months = reader.violations.check(
        &format!("{path}.validity_months"),
        u32::try_from(definition.validity_months)
            .map_err(|_| InvalidValue::new("must not be negative")),
    );
    if reader.violations.len() > before {
        return None;
    }
    Some(ScoringModel {
        name: String::new(),
        version: String::new(),
        criteria: criteria.into_iter().flatten().collect(),
        grades,
        knock_outs: knock_outs.into_iter().flatten().collect(),
        policies,
        validity_months: validity_months.unwrap_or_default(),
    })
}

fn criterion_to_proto(line: &Criterion) -> pb::Criterion {
    let mapping = match &line.mapping {
        Mapping::Bands(bands) => criterion::Mapping::Bands(pb::Bands {
            bands: bands
                .iter()
                .map(|band| pb::Band {
                    lower: optional_text(band.lower),
                    upper: optional_text(band.upper),
                    upper_inclusive: band.upper_inclusive,
                    points: text(band.points),
                })
                .collect(),
        }),
        Mapping::Curve(corners) => criterion::Mapping::Curve(pb::Curve {
            points: corners
                .iter()
                .map(|corner| pb::CurvePoint {
                    x: text(corner.x),
                    points: text(corner.points),
                })
                .collect(),
        }),
        Mapping::Lookup { entries, default } => criterion::Mapping::Lookup(pb::Lookup {
            entries: entries
                .iter()
                .map(|(key, points)| (key.clone(), text(*points)))
                .collect(),
            default_points: optional_text(*default),
        }),
    };
    let (kind, neutral_points) = match &line.missing {
        MissingPolicy::Zero => (missing_policy::Kind::Zero, String::new()),
        MissingPolicy::Neutral { points } => (missing_policy::Kind::Neutral, text(*points)),
        MissingPolicy::Drop => (missing_policy::Kind::Drop, String::new()),
    };
    pb::Criterion {
        key: line.key.clone(),
        input: by_name(&line.input, "FIGURE_INPUT_", pb::FigureInput::from_str_name)
            .unwrap_or_default()
            .into(),
        weight_percent: text(line.weight_percent),
        higher_is_better: line.higher_is_better,
        mapping: Some(mapping),
        missing: Some(pb::MissingPolicy {
            kind: kind.into(),
            neutral_points,
        }),
    }
}

fn knock_out_to_proto(rule: &KnockOut) -> pb::KnockOutRule {
    let (effect, cap_grade) = effect_to_proto(&rule.effect);
    pb::KnockOutRule {
        key: rule.key.clone(),
        description_en: rule.description_en.clone(),
        description_zh: rule.description_zh.clone(),
        when_any: rule
            .when_any
            .iter()
            .map(|test| pb::Condition {
                input: by_name(&test.input, "FIGURE_INPUT_", pb::FigureInput::from_str_name)
                    .unwrap_or_default()
                    .into(),
                op: by_name(
                    &test.op,
                    "COMPARISON_",
                    condition::Comparison::from_str_name,
                )
                .unwrap_or_default()
                .into(),
                value: test.value.clone().unwrap_or_default(),
            })
            .collect(),
        effect: effect.into(),
        cap_grade,
    }
}

/// A knock-out's effect as the contract writes it: the kind, and the grade it caps at.
pub(super) fn effect_to_proto(effect: &Effect) -> (pb::KnockOutEffect, String) {
    match effect {
        Effect::CapGrade(grade) => (pb::KnockOutEffect::CapGrade, grade.clone()),
        Effect::BlockCredit => (pb::KnockOutEffect::BlockCredit, String::new()),
        Effect::FlagReview => (pb::KnockOutEffect::FlagReview, String::new()),
    }
}

fn policy_to_proto(policy: &GradePolicy) -> pb::GradePolicy {
    let rule = &policy.credit_limit;
    pb::GradePolicy {
        credit_limit: Some(pb::CreditLimitRule {
            months_of_purchases: text(rule.months_of_purchases),
            cap_percent_of_net_assets: optional_text(rule.cap_percent_of_net_assets),
            cap_percent_of_revenue: optional_text(rule.cap_percent_of_revenue),
            round_down_to: text(rule.round_down_to),
        }),
        payment_terms_days: i32::try_from(policy.payment_terms_days).unwrap_or(i32::MAX),
        service_level: policy.service_level.clone(),
    }
}

/// Reads the parts of a definition, recording what is malformed.
struct Reader<'a> {
    violations: &'a mut FieldViolations,
}

impl Reader<'_> {
    fn number(&mut self, raw: &str, path: &str) -> Decimal {
        self.violations
            .check(path, decimal(raw))
            .unwrap_or_default()
    }

    fn optional_number(&mut self, raw: &str, path: &str) -> Option<Decimal> {
        (!raw.is_empty()).then(|| self.number(raw, path))
    }

    fn enumerated<T: DeserializeOwned>(
        &mut self,
        name: &str,
        prefix: &str,
        path: &str,
    ) -> Option<T> {
        let value = name
            .strip_prefix(prefix)
            .filter(|rest| *rest != "UNSPECIFIED")
            .and_then(|rest| {
                serde_json::from_value(serde_json::Value::String(rest.to_ascii_lowercase())).ok()
            });
        if value.is_none() {
            self.violations.add(path, "is required");
        }
        value
    }

    fn input(&mut self, raw: i32, path: &str) -> Option<crate::domain::scoring::input::Input> {
        let name = pb::FigureInput::try_from(raw).map_or("", |input| input.as_str_name());
        self.enumerated(name, "FIGURE_INPUT_", path)
    }

    fn criterion(&mut self, line: &pb::Criterion, path: &str) -> Option<Criterion> {
        let input = self.input(line.input, &format!("{path}.input"));
        let weight_percent = self.number(&line.weight_percent, &format!("{path}.weight_percent"));
        let mapping = match &line.mapping {
            Some(criterion::Mapping::Bands(bands)) => Some(Mapping::Bands(
                bands
                    .bands
                    .iter()
                    .enumerate()
                    .map(|(index, band)| {
                        let here = format!("{path}.bands.bands[{index}]");
                        Band {
                            lower: self.optional_number(&band.lower, &format!("{here}.lower")),
                            upper: self.optional_number(&band.upper, &format!("{here}.upper")),
                            upper_inclusive: band.upper_inclusive,
                            points: self.number(&band.points, &format!("{here}.points")),
                        }
                    })
                    .collect(),
            )),
            Some(criterion::Mapping::Curve(curve)) => Some(Mapping::Curve(
                curve
                    .points
                    .iter()
                    .enumerate()
                    .map(|(index, corner)| {
                        let here = format!("{path}.curve.points[{index}]");
                        CurvePoint {
                            x: self.number(&corner.x, &format!("{here}.x")),
                            points: self.number(&corner.points, &format!("{here}.points")),
                        }
                    })
                    .collect(),
            )),
            Some(criterion::Mapping::Lookup(lookup)) => Some(Mapping::Lookup {
                entries: lookup
                    .entries
                    .iter()
                    .map(|(key, points)| {
                        let here = format!("{path}.lookup.entries[{key}]");
                        (key.clone(), self.number(points, &here))
                    })
                    .collect(),
                default: self.optional_number(
                    &lookup.default_points,
                    &format!("{path}.lookup.default_points"),
                ),
            }),
            None => {
                self.violations.add(
                    format!("{path}.mapping"),
                    "is required: bands, curve or lookup",
                );
                None
            }
        };
        let missing = self.missing(line.missing.as_ref(), &format!("{path}.missing"));
        Some(Criterion {
            key: line.key.clone(),
            input: input?,
            weight_percent,
            mapping: mapping?,
            missing: missing?,
            higher_is_better: line.higher_is_better,
        })
    }

    fn missing(&mut self, policy: Option<&pb::MissingPolicy>, path: &str) -> Option<MissingPolicy> {
        let policy = policy.cloned().unwrap_or_default();
        match policy.kind() {
            missing_policy::Kind::Zero => Some(MissingPolicy::Zero),
            missing_policy::Kind::Drop => Some(MissingPolicy::Drop),
            missing_policy::Kind::Neutral => Some(MissingPolicy::Neutral {
                points: self.number(&policy.neutral_points, &format!("{path}.neutral_points")),
            }),
            missing_policy::Kind::Unspecified => {
                self.violations
                    .add(format!("{path}.kind"), "is required: zero, neutral or drop");
                None
            }
        }
    }

    fn knock_out(&mut self, rule: &pb::KnockOutRule, path: &str) -> Option<KnockOut> {
        let when_any = rule
            .when_any
            .iter()
            .enumerate()
            .map(|(index, test)| {
                let here = format!("{path}.when_any[{index}]");
                let op_name =
                    condition::Comparison::try_from(test.op).map_or("", |op| op.as_str_name());
                let op: Option<Comparison> =
                    self.enumerated(op_name, "COMPARISON_", &format!("{here}.op"));
                Some(Condition {
                    input: self.input(test.input, &format!("{here}.input"))?,
                    op: op?,
                    value: (!test.value.is_empty()).then(|| test.value.clone()),
                })
            })
            .collect::<Vec<_>>();
        let effect = match rule.effect() {
            pb::KnockOutEffect::CapGrade => Some(Effect::CapGrade(rule.cap_grade.clone())),
            pb::KnockOutEffect::BlockCredit => Some(Effect::BlockCredit),
            pb::KnockOutEffect::FlagReview => Some(Effect::FlagReview),
            pb::KnockOutEffect::Unspecified => {
                self.violations.add(format!("{path}.effect"), "is required");
                None
            }
        };
        Some(KnockOut {
            key: rule.key.clone(),
            description_en: rule.description_en.clone(),
            description_zh: rule.description_zh.clone(),
            when_any: when_any.into_iter().collect::<Option<_>>()?,
            effect: effect?,
        })
    }

    fn policy(&mut self, policy: &pb::GradePolicy, path: &str) -> GradePolicy {
        let rule = policy.credit_limit.clone().unwrap_or_default();
        let here = format!("{path}.credit_limit");
        GradePolicy {
            credit_limit: CreditLimitRule {
                months_of_purchases: self.number(
                    &rule.months_of_purchases,
                    &format!("{here}.months_of_purchases"),
                ),
                cap_percent_of_net_assets: self.optional_number(
                    &rule.cap_percent_of_net_assets,
                    &format!("{here}.cap_percent_of_net_assets"),
                ),
                cap_percent_of_revenue: self.optional_number(
                    &rule.cap_percent_of_revenue,
                    &format!("{here}.cap_percent_of_revenue"),
                ),
                round_down_to: self.number(&rule.round_down_to, &format!("{here}.round_down_to")),
            },
            payment_terms_days: self
                .violations
                .check(
                    &format!("{path}.payment_terms_days"),
                    u32::try_from(policy.payment_terms_days)
                        .map_err(|_| InvalidValue::new("must not be negative")),
                )
                .unwrap_or_default(),
            service_level: policy.service_level.clone(),
        }
    }
}

/// The contract's enum value named like the domain's serde name: `on_time_payment_rate_percent`
/// under `FIGURE_INPUT_` is `FIGURE_INPUT_ON_TIME_PAYMENT_RATE_PERCENT`.
fn by_name<D: Serialize, P>(
    value: &D,
    prefix: &str,
    from_name: fn(&str) -> Option<P>,
) -> Option<P> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => {
            from_name(&format!("{prefix}{}", name.to_ascii_uppercase()))
        }
        _ => None,
    }
}

fn decimal(raw: &str) -> Result<Decimal, InvalidValue> {
    raw.trim().parse::<Decimal>().map_err(|_| {
        InvalidValue::new(format!(
            "must be a decimal number such as \"62.5\", got {raw:?}"
        ))
    })
}

/// A decimal as the contract writes it: its shortest exact text (`62.5`, `100`).
fn text(number: Decimal) -> String {
    number.normalize().to_string()
}

fn optional_text(number: Option<Decimal>) -> String {
    number.map(text).unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::domain::scoring::{default_models, input::Input};

    #[test]
    fn both_default_models_survive_the_messages_unchanged() {
        for model in default_models().unwrap() {
            let mut violations = FieldViolations::default();
            let message = definition_to_proto(&model);
            let back = definition_from_proto(&message, "definition", &mut violations)
                .expect("the messages read back");
            assert!(violations.is_empty(), "{violations:?}");
            assert_eq!(
                ScoringModel {
                    name: model.name.clone(),
                    version: model.version.clone(),
                    ..back
                },
                model
            );
        }
    }

    #[test]
    fn every_input_has_a_figure_input_of_the_same_name_and_back() {
        for input in Input::ALL {
            let value = by_name(&input, "FIGURE_INPUT_", pb::FigureInput::from_str_name)
                .unwrap_or_else(|| panic!("{input:?} has no FigureInput"));
            let mut violations = FieldViolations::default();
            let back: Option<Input> = Reader {
                violations: &mut violations,
            }
            .input(value.into(), "input");
            assert_eq!(back, Some(input));
        }
        let listed = (1..)
            .map_while(|n| pb::FigureInput::try_from(n).ok())
            .count();
        assert_eq!(
            listed,
            Input::ALL.len(),
            "the contract lists no other input"
        );
    }

    #[test]
    fn every_comparison_has_a_contract_name() {
        for op in [
            Comparison::Gt,
            Comparison::Ge,
            Comparison::Lt,
            Comparison::Le,
            Comparison::Eq,
            Comparison::Ne,
            Comparison::IsMissing,
        ] {
            assert!(by_name(&op, "COMPARISON_", condition::Comparison::from_str_name).is_some());
        }
    }

    #[test]
    fn malformed_values_are_named_by_their_path() {
        let mut message = definition_to_proto(&default_models().unwrap()[0]);
        message.criteria[0].weight_percent = "a lot".to_owned();
        message.criteria[1].input = 0;
        message.criteria[2].missing = None;
        message.validity_months = -1;
        let mut violations = FieldViolations::default();
        assert!(definition_from_proto(&message, "d", &mut violations).is_none());
        let status = violations.finish().unwrap_err();
        for path in [
            "d.criteria[0].weight_percent",
            "d.criteria[1].input",
            "d.criteria[2].missing.kind",
            "d.validity_months",
        ] {
            assert!(
                status.message().contains(path),
                "{path}: {}",
                status.message()
            );
        }
    }
}
