//! Model validation: every problem of a model at once, each with the path of the field it is
//! about (`criteria[2].mapping.bands[1]`), so an operator fixes a document in one pass. The
//! engine never refuses a model; a model is checked here before it is published.

mod criteria;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{
    input::{InputKind, categories},
    knockout::{Comparison, Condition, Effect},
    model::ScoringModel,
};

/// Bounds that keep a published model's arithmetic and dates within what every caller can
/// read: a grade valid for ten years at most (so `valid_until` stays a plain calendar date), a
/// credit limit of at most ten years of purchases or ten times net assets or revenue, and a
/// rounding step between a cent and a billion.
const MAX_VALIDITY_MONTHS: u32 = 120;
const MAX_MONTHS: Decimal = Decimal::from_parts(120, 0, 0, false, 0);
const MAX_CAP_PERCENT: Decimal = Decimal::from_parts(1000, 0, 0, false, 0);
const MIN_ROUNDING: Decimal = Decimal::from_parts(1, 0, 0, false, 2);
const MAX_ROUNDING: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

/// One thing wrong with a model: where, and what to change (lowercase, no trailing period).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelProblem {
    pub path: String,
    pub message: String,
}

impl fmt::Display for ModelProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every problem of `model`, in document order; empty when the model can be published.
pub fn validate(model: &ScoringModel) -> Vec<ModelProblem> {
    let mut problems = Problems::default();
    if model.name.trim().is_empty() {
        problems.add("name", "is required");
    }
    if model.version.trim().is_empty() {
        problems.add("version", "is required");
    }
    criteria::check(model, &mut problems);
    check_grades(model, &mut problems);
    check_knock_outs(model, &mut problems);
    if !(1..=MAX_VALIDITY_MONTHS).contains(&model.validity_months) {
        problems.add(
            "validity_months",
            format!("must be 1 to {MAX_VALIDITY_MONTHS}"),
        );
    }
    problems.0
}

/// The problems found so far.
#[derive(Default)]
struct Problems(Vec<ModelProblem>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(ModelProblem {
            path: path.into(),
            message: message.into(),
        });
    }
}

fn is_points(points: Decimal) -> bool {
    (Decimal::ZERO..=Decimal::ONE_HUNDRED).contains(&points)
}

fn check_grades(model: &ScoringModel, problems: &mut Problems) {
    if model.grades.is_empty() {
        problems.add("grades", "must name at least one grade");
    }
    let mut seen = BTreeSet::new();
    for (index, threshold) in model.grades.iter().enumerate() {
        let path = format!("grades[{index}]");
        if threshold.grade.trim().is_empty() {
            problems.add(format!("{path}.grade"), "is required");
        } else if !seen.insert(threshold.grade.as_str()) {
            problems.add(
                format!("{path}.grade"),
                format!("duplicates grade {}", threshold.grade),
            );
        }
        if !is_points(threshold.min_score) {
            problems.add(format!("{path}.min_score"), "must be 0 to 100");
        }
        if let Some(previous) = index.checked_sub(1).and_then(|i| model.grades.get(i))
            && threshold.min_score >= previous.min_score
        {
            problems.add(
                format!("{path}.min_score"),
                format!(
                    "must be below the previous grade's {} (highest grade first)",
                    previous.min_score
                ),
            );
        }
        if !model.policies.contains_key(&threshold.grade) {
            problems.add(format!("{path}.grade"), "has no policy");
        }
    }
    if let Some(last) = model.grades.last()
        && !last.min_score.is_zero()
    {
        let path = format!("grades[{}].min_score", model.grades.len() - 1);
        problems.add(path, "must be 0 so that every score has a grade");
    }
    for (grade, policy) in &model.policies {
        let path = format!("policies.{grade}");
        if model.grade_rank(grade).is_none() {
            problems.add(&path, "is for a grade the model does not have");
        }
        let rule = &policy.credit_limit;
        if rule.months_of_purchases.is_sign_negative() || rule.months_of_purchases > MAX_MONTHS {
            problems.add(
                format!("{path}.credit_limit.months_of_purchases"),
                format!("must be 0 to {MAX_MONTHS}"),
            );
        }
        if rule.round_down_to < MIN_ROUNDING || rule.round_down_to > MAX_ROUNDING {
            problems.add(
                format!("{path}.credit_limit.round_down_to"),
                format!("must be {MIN_ROUNDING} to {MAX_ROUNDING}"),
            );
        }
        let caps = [
            ("cap_percent_of_net_assets", rule.cap_percent_of_net_assets),
            ("cap_percent_of_revenue", rule.cap_percent_of_revenue),
        ];
        for (field, cap) in caps {
            if cap.is_some_and(|cap| cap.is_sign_negative() || cap > MAX_CAP_PERCENT) {
                problems.add(
                    format!("{path}.credit_limit.{field}"),
                    format!("must be 0 to {MAX_CAP_PERCENT}"),
                );
            }
        }
    }
}

fn check_knock_outs(model: &ScoringModel, problems: &mut Problems) {
    let mut seen = BTreeSet::new();
    for (index, rule) in model.knock_outs.iter().enumerate() {
        let path = format!("knock_outs[{index}]");
        if !seen.insert(rule.key.as_str()) {
            problems.add(
                format!("{path}.key"),
                format!("duplicates knock-out {}", rule.key),
            );
        }
        if rule.when_any.is_empty() {
            problems.add(
                format!("{path}.when_any"),
                "must have at least one condition",
            );
        }
        for (number, condition) in rule.when_any.iter().enumerate() {
            check_condition(condition, &format!("{path}.when_any[{number}]"), problems);
        }
        if let Effect::CapGrade(grade) = &rule.effect
            && model.grade_rank(grade).is_none()
        {
            problems.add(
                format!("{path}.effect.cap_grade"),
                format!("names grade {grade}, which the model does not have"),
            );
        }
    }
}

fn check_condition(condition: &Condition, path: &str, problems: &mut Problems) {
    let kind = condition.input.kind();
    let value = condition.value.as_deref();
    if condition.op == Comparison::IsMissing {
        if value.is_some() {
            problems.add(format!("{path}.value"), "must be absent for is_missing");
        }
        return;
    }
    if condition.op.is_ordering() && !kind.is_numeric() {
        problems.add(
            format!("{path}.op"),
            "orders values, which only a numeric input has",
        );
    }
    let Some(value) = value else {
        problems.add(format!("{path}.value"), "is required");
        return;
    };
    let fits = if kind.is_numeric() {
        value.trim().parse::<Decimal>().is_ok()
    } else {
        categories(kind).contains(&value)
    };
    if !fits {
        problems.add(format!("{path}.value"), expected_value(kind, value));
    }
}

fn expected_value(kind: InputKind, value: &str) -> String {
    if kind.is_numeric() {
        format!("must be a number for this input, got {value:?}")
    } else {
        format!(
            "must be one of {}, got {value:?}",
            categories(kind).join(", ")
        )
    }
}
