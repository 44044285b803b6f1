//! The scoring engine: a pure function from a model and a snapshot to an [`Assessment`].
//! No clock, no I/O, no randomness: the same model and figures give the same assessment, byte
//! for byte, which is what makes a past grade reproducible.
//!
//! # Rounding
//! One rule, applied at three places and nowhere else: round to 2 decimals, half away from
//! zero (`12.345` → `12.35`, `-12.345` → `-12.35`). Points are rounded after mapping;
//! effective weights are rounded when re-weighting (the last kept criterion takes the
//! remainder so they sum to exactly 100); each contribution is rounded as
//! `points × effective weight / 100`. The total is the exact sum of the rounded contributions,
//! so the rationale adds up to the total by construction.

use chrono::{Months, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};

use super::{
    assessment::{Assessment, CriterionResult, FiredKnockOut, MissingTreatment, ReasonCode},
    knockout::Effect,
    model::{Criterion, MissingPolicy, ScoringModel},
    rationale::{Locale, criterion_sentence},
};
use crate::domain::figures::FiguresSnapshot;

/// How many reason codes an assessment gives: enough to answer "why not A?", few enough to read.
const REASON_CODES: usize = 3;

/// Grades `snapshot` with `model`, explaining every step in `locale`.
pub fn assess(model: &ScoringModel, snapshot: &FiguresSnapshot, locale: Locale) -> Assessment {
    let figures = &snapshot.figures;
    let scored: Vec<Scored> = model
        .criteria
        .iter()
        .map(|criterion| score(criterion, snapshot))
        .collect();
    let weights: Vec<Decimal> = model.criteria.iter().map(|c| c.weight_percent).collect();
    let kept: Vec<bool> = scored
        .iter()
        .map(|s| s.missing != Some(MissingTreatment::Dropped))
        .collect();
    let effective = effective_weights(&weights, &kept);

    let criteria: Vec<CriterionResult> = model
        .criteria
        .iter()
        .zip(scored)
        .zip(effective)
        .map(|((criterion, scored), weight)| {
            let mut line = CriterionResult {
                key: criterion.key.clone(),
                input: criterion.input,
                value: scored.value,
                matched: scored.matched,
                missing: scored.missing,
                points: scored.points,
                weight_percent: criterion.weight_percent,
                effective_weight_percent: weight,
                contribution: round2(scored.points * weight / Decimal::ONE_HUNDRED),
                max_contribution: weight,
                sentence: String::new(),
            };
            line.sentence = criterion_sentence(&line, locale);
            line
        })
        .collect();
    let total_score: Decimal = criteria.iter().map(|line| line.contribution).sum();

    let grade_before_knock_outs = model.grade_for(total_score);
    let knock_outs: Vec<FiredKnockOut> = model
        .knock_outs
        .iter()
        .filter(|rule| rule.fires(|input| input.value(figures)))
        .map(|rule| FiredKnockOut {
            key: rule.key.clone(),
            description_en: rule.description_en.clone(),
            description_zh: rule.description_zh.clone(),
            effect: rule.effect.clone(),
        })
        .collect();
    let grade = capped_grade(model, &grade_before_knock_outs, &knock_outs);
    let blocked_by: Vec<String> = knock_outs
        .iter()
        .filter(|fired| fired.effect == Effect::BlockCredit)
        .map(|fired| fired.key.clone())
        .collect();
    let credit = model
        .policies
        .get(&grade)
        .map(|policy| policy.recommend(&grade, figures, blocked_by));
    let review_required = knock_outs
        .iter()
        .any(|fired| fired.effect == Effect::FlagReview);

    Assessment {
        model_name: model.name.clone(),
        model_version: model.version.clone(),
        as_of: snapshot.as_of,
        valid_until: valid_until(snapshot.as_of, model.validity_months),
        locale,
        reason_codes: reason_codes(&criteria),
        criteria,
        total_score,
        grade_before_knock_outs,
        knock_outs,
        grade,
        credit,
        review_required,
    }
}

/// A criterion's points before weighting.
struct Scored {
    value: Option<super::input::InputValue>,
    matched: Option<super::mapping::Matched>,
    missing: Option<MissingTreatment>,
    points: Decimal,
}

fn score(criterion: &Criterion, snapshot: &FiguresSnapshot) -> Scored {
    let value = criterion.input.value(&snapshot.figures);
    let mapped = value.as_ref().and_then(|v| criterion.mapping.map(v));
    if let Some(mapped) = mapped {
        return Scored {
            value,
            matched: Some(mapped.matched),
            missing: None,
            points: clamp_points(mapped.points),
        };
    }
    let (missing, points) = match &criterion.missing {
        MissingPolicy::Zero => (MissingTreatment::CountedAsZero, Decimal::ZERO),
        MissingPolicy::Neutral { points } => {
            (MissingTreatment::CountedAsNeutral, clamp_points(*points))
        }
        MissingPolicy::Drop => (MissingTreatment::Dropped, Decimal::ZERO),
    };
    Scored {
        value,
        matched: None,
        missing: Some(missing),
        points,
    }
}

/// Points stay within 0-100 even if a model that skipped validation says otherwise.
fn clamp_points(points: Decimal) -> Decimal {
    round2(points.clamp(Decimal::ZERO, Decimal::ONE_HUNDRED))
}

/// The kept criteria's weights scaled to sum to exactly 100, 0 for the dropped ones.
fn effective_weights(weights: &[Decimal], kept: &[bool]) -> Vec<Decimal> {
    let kept_sum: Decimal = weights
        .iter()
        .zip(kept)
        .filter(|(_, kept)| **kept)
        .map(|(weight, _)| *weight)
        .sum();
    let last_kept = kept.iter().rposition(|kept| *kept);
    let mut effective = vec![Decimal::ZERO; weights.len()];
    let (Some(last_kept), true) = (last_kept, kept_sum > Decimal::ZERO) else {
        return effective;
    };
    let mut assigned = Decimal::ZERO;
    for (index, (weight, kept)) in weights.iter().zip(kept).enumerate() {
        if !*kept || index == last_kept {
            continue;
        }
        let scaled = round2(*weight * Decimal::ONE_HUNDRED / kept_sum);
        assigned += scaled;
        if let Some(slot) = effective.get_mut(index) {
            *slot = scaled;
        }
    }
    if let Some(slot) = effective.get_mut(last_kept) {
        *slot = Decimal::ONE_HUNDRED - assigned;
    }
    effective
}

/// The lowest of the score's grade and every fired cap; caps naming no grade are ignored.
fn capped_grade(model: &ScoringModel, computed: &str, fired: &[FiredKnockOut]) -> String {
    let caps = fired
        .iter()
        .filter_map(|knock_out| match &knock_out.effect {
            Effect::CapGrade(cap) => model.grade_rank(cap).map(|rank| (rank, cap)),
            Effect::BlockCredit | Effect::FlagReview => None,
        });
    let start = model.grade_rank(computed).map(|rank| (rank, computed));
    let lowest = caps.fold(start, |lowest, cap| match lowest {
        Some(current) if current.0 >= cap.0 => Some(current),
        _ => Some((cap.0, cap.1.as_str())),
    });
    lowest.map_or_else(|| computed.to_owned(), |(_, grade)| grade.to_owned())
}

/// The criteria that lost the most, worst first, ties in model order, none that lost nothing.
fn reason_codes(criteria: &[CriterionResult]) -> Vec<ReasonCode> {
    let mut losses: Vec<ReasonCode> = criteria
        .iter()
        .map(|line| ReasonCode {
            criterion: line.key.clone(),
            points_lost: line.max_contribution - line.contribution,
        })
        .filter(|code| code.points_lost > Decimal::ZERO)
        .collect();
    losses.sort_by_key(|code| std::cmp::Reverse(code.points_lost));
    losses.truncate(REASON_CODES);
    losses
}

/// `as_of` plus `months`; a day that month lacks (31 August + 1 month) becomes its last day.
fn valid_until(as_of: NaiveDate, months: u32) -> NaiveDate {
    as_of
        .checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX)
}

/// The crate's one rounding rule for points, weights and contributions, and for every other
/// amount it reports to the cent or to two decimals (monthly purchases, gross profit, shares).
pub fn round2(number: Decimal) -> Decimal {
    number.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap_or_default()
    }

    #[rstest]
    #[case("12.345", "12.35")]
    #[case("12.344", "12.34")]
    #[case("-12.345", "-12.35")]
    #[case("16.665", "16.67")]
    #[case("7.5", "7.5")]
    fn rounding_is_to_two_decimals_half_away_from_zero(#[case] exact: &str, #[case] rounded: &str) {
        assert_eq!(round2(d(exact)), d(rounded));
    }

    #[test]
    fn three_equal_kept_weights_share_100_with_the_remainder_last() {
        let weights = [d("10"), d("10"), d("10"), d("70")];
        let effective = effective_weights(&weights, &[true, true, true, false]);
        assert_eq!(effective, vec![d("33.33"), d("33.33"), d("33.34"), d("0")]);
    }

    #[rstest]
    #[case("2026-03-31", 12, "2027-03-31")]
    #[case("2026-08-31", 1, "2026-09-30")]
    #[case("2024-02-29", 12, "2025-02-28")]
    #[case("2026-01-15", 0, "2026-01-15")]
    fn a_grade_holds_for_calendar_months_from_its_snapshot(
        #[case] as_of: NaiveDate,
        #[case] months: u32,
        #[case] until: NaiveDate,
    ) {
        assert_eq!(valid_until(as_of, months), until);
    }

    #[test]
    fn no_kept_weight_leaves_every_weight_at_zero() {
        let effective = effective_weights(&[d("50"), d("50")], &[false, false]);
        assert_eq!(effective, vec![Decimal::ZERO, Decimal::ZERO]);
    }
}
