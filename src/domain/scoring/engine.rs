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
//!
//! The arithmetic itself is one piece of code (`tally`) that [`assess`] explains line by line
//! and [`score`] returns bare, for callers that want the score and grade and no sentence.

use chrono::{Months, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};

use super::{
    assessment::{Assessment, CriterionResult, FiredKnockOut, ReasonCode},
    input::InputValue,
    knockout::{Effect, KnockOut},
    model::ScoringModel,
    rationale::Locale,
    tally::{capped_grade, caps_grade, fired, tally},
};
use crate::domain::figures::{FigureSet, FiguresSnapshot};

/// How many reason codes an assessment gives: enough to answer "why not A?", few enough to read.
const REASON_CODES: usize = 3;

/// The score and the grade alone: what [`assess`] decides, without the rationale that explains
/// it, for callers that rank or re-grade many customers and show no sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Score<'m> {
    /// The sum of the criteria's contributions, 0-100, two decimals.
    pub total_score: Decimal,
    pub grade_before_knock_outs: &'m str,
    /// The lower of the score's grade and every fired knock-out's cap.
    pub grade: &'m str,
}

/// Grades `figures` with `model`: the same score and grade as [`assess`], by the same
/// arithmetic, without writing the rationale.
pub fn score<'m>(model: &'m ScoringModel, figures: &FigureSet) -> Score<'m> {
    let values = model
        .criteria
        .iter()
        .map(|criterion| criterion.input.value(figures));
    let total_score = tally(model, values).total;
    let grade_before_knock_outs = model.grade_at(total_score);
    // Only the caps can change the grade; the other knock-outs are not even evaluated.
    let caps = model.knock_outs.iter().filter(caps_grade);
    let grade = capped_grade(model, grade_before_knock_outs, fired(caps, figures));
    Score {
        total_score,
        grade_before_knock_outs,
        grade,
    }
}

/// Grades `snapshot` with `model`, explaining every step in `locale`.
pub fn assess(model: &ScoringModel, snapshot: &FiguresSnapshot, locale: Locale) -> Assessment {
    assess_without_sentences(model, snapshot, locale).with_sentences()
}

/// [`assess`] without rendering the criteria's sentences: every fact of the rationale, as
/// storage keeps it (sentences follow from the facts and are rendered on read), for callers
/// that store many assessments and show none.
pub fn assess_without_sentences(
    model: &ScoringModel,
    snapshot: &FiguresSnapshot,
    locale: Locale,
) -> Assessment {
    let figures = &snapshot.figures;
    let values: Vec<Option<InputValue>> = model
        .criteria
        .iter()
        .map(|criterion| criterion.input.value(figures))
        .collect();
    let tally = tally(model, values.iter().map(Option::as_ref));
    let criteria: Vec<CriterionResult> = model
        .criteria
        .iter()
        .zip(values)
        .zip(tally.lines)
        .map(|((criterion, value), scored)| CriterionResult {
            key: criterion.key.clone(),
            input: criterion.input,
            matched: scored
                .hit
                .zip(value.as_ref())
                .map(|(hit, value)| hit.matched(value)),
            value,
            missing: scored.missing,
            points: scored.points,
            weight_percent: criterion.weight_percent,
            effective_weight_percent: scored.effective_weight,
            contribution: scored.contribution,
            max_contribution: scored.effective_weight,
            sentence: String::new(),
        })
        .collect();
    let total_score = tally.total;

    let grade_before = model.grade_at(total_score);
    let fired: Vec<&KnockOut> = fired(&model.knock_outs, figures).collect();
    let grade = capped_grade(model, grade_before, fired.iter().copied()).to_owned();
    let knock_outs: Vec<FiredKnockOut> = fired
        .iter()
        .map(|rule| FiredKnockOut {
            key: rule.key.clone(),
            description_en: rule.description_en.clone(),
            description_zh: rule.description_zh.clone(),
            effect: rule.effect.clone(),
        })
        .collect();
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
        grade_before_knock_outs: grade_before.to_owned(),
        knock_outs,
        grade,
        credit,
        review_required,
    }
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
    // Most numbers have two decimals or fewer and stay as they are, scale included, as
    // rust_decimal would leave them; checked here, where it inlines, rather than in its call.
    if number.scale() <= 2 {
        return number;
    }
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
}
