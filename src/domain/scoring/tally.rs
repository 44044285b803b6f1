//! The arithmetic of a grade: each criterion's points, the weights they count with, what each
//! contributes, the total, and the grade that the fired knock-outs leave. One piece of code that
//! [`super::assess`] explains line by line and [`super::score`] returns bare, so the two cannot
//! disagree. The rounding rule is the engine's (see [`super::engine`]).

use std::borrow::Borrow;

use rust_decimal::Decimal;

use super::{
    assessment::MissingTreatment,
    decimal::hundredth_rounded,
    engine::round2,
    input::InputValue,
    knockout::{Effect, KnockOut},
    mapping::Hit,
    model::{Criterion, MissingPolicy, ScoringModel},
};
use crate::domain::figures::FigureSet;

/// Every criterion's line, in the model's order, and their total.
pub(super) struct Tally<'m> {
    pub lines: Vec<Line<'m>>,
    /// The exact sum of the rounded contributions.
    pub total: Decimal,
}

/// One criterion's numbers.
pub(super) struct Line<'m> {
    /// Where the value fell in the mapping; `None` when it was missing or not covered.
    pub hit: Option<Hit<'m>>,
    /// What the missing-input policy did, when it applied.
    pub missing: Option<MissingTreatment>,
    /// 0-100, two decimals.
    pub points: Decimal,
    /// The weight the model gives the criterion.
    pub weight: Decimal,
    /// The weight it counts with once dropped criteria are left out.
    pub effective_weight: Decimal,
    pub contribution: Decimal,
}

impl Line<'_> {
    fn kept(&self) -> bool {
        self.missing != Some(MissingTreatment::Dropped)
    }
}

/// The lines for `values`, each criterion's input as read (`None` when missing), in the
/// model's order.
pub(super) fn tally<'m, V: Borrow<InputValue>>(
    model: &'m ScoringModel,
    values: impl IntoIterator<Item = Option<V>>,
) -> Tally<'m> {
    let mut lines: Vec<Line<'m>> = model
        .criteria
        .iter()
        .zip(values)
        .map(|(criterion, value)| criterion_points(criterion, value.as_ref().map(V::borrow)))
        .collect();
    reweigh(&mut lines);
    let mut total = Decimal::ZERO;
    for line in &mut lines {
        line.contribution = contribution(line.points, line.effective_weight);
        total += line.contribution;
    }
    Tally { lines, total }
}

/// A criterion's points before weighting; the weights and contribution are filled in later.
fn criterion_points<'m>(criterion: &'m Criterion, value: Option<&InputValue>) -> Line<'m> {
    let line = |hit, missing, points| Line {
        hit,
        missing,
        points,
        weight: criterion.weight_percent,
        effective_weight: Decimal::ZERO,
        contribution: Decimal::ZERO,
    };
    if let Some(located) = value.and_then(|v| criterion.mapping.locate(v)) {
        return line(Some(located.hit), None, clamp_points(located.points));
    }
    let (missing, points) = match &criterion.missing {
        MissingPolicy::Zero => (MissingTreatment::CountedAsZero, Decimal::ZERO),
        MissingPolicy::Neutral { points } => {
            (MissingTreatment::CountedAsNeutral, clamp_points(*points))
        }
        MissingPolicy::Drop => (MissingTreatment::Dropped, Decimal::ZERO),
    };
    line(None, Some(missing), points)
}

/// Points stay within 0-100 even if a model that skipped validation says otherwise. Points
/// whose digits, read without the decimal point, make at most 100 (85, 7.5) are known to be in
/// range without comparing.
fn clamp_points(points: Decimal) -> Decimal {
    let surely_in_range = !points.is_sign_negative() && points.mantissa() <= 100;
    if surely_in_range {
        return round2(points);
    }
    round2(points.clamp(Decimal::ZERO, Decimal::ONE_HUNDRED))
}

/// Scales the kept lines' weights to sum to exactly 100, each rounded and the last kept one
/// taking the remainder; dropped lines keep 0.
fn reweigh(lines: &mut [Line<'_>]) {
    if model_weights_hold(lines) {
        for line in lines.iter_mut() {
            line.effective_weight = line.weight;
        }
        return;
    }
    scale_kept_weights(lines);
}

/// Whether nothing was dropped and the weights are whole, not negative and sum to exactly 100,
/// as a validated model's usually are. Then [`scale_kept_weights`] would give every weight back
/// to the digit: `weight × 100 / 100` is the weight, whole, so rounding leaves it, and the
/// remainder left for the last is its own weight; this finds so without the arithmetic.
fn model_weights_hold(lines: &[Line<'_>]) -> bool {
    let mut total: u64 = 0;
    for line in lines {
        let weight = line.weight;
        if !line.kept() || weight.scale() != 0 || weight.is_sign_negative() {
            return false;
        }
        let Some(sum) = u64::try_from(weight.mantissa())
            .ok()
            .and_then(|whole| total.checked_add(whole))
        else {
            return false;
        };
        total = sum;
    }
    total == 100
}

/// The arithmetic of [`reweigh`].
fn scale_kept_weights(lines: &mut [Line<'_>]) {
    let kept_sum: Decimal = lines
        .iter()
        .filter(|line| line.kept())
        .map(|line| line.weight)
        .sum();
    let last_kept = lines.iter().rposition(Line::kept);
    let (Some(last_kept), true) = (last_kept, kept_sum > Decimal::ZERO) else {
        return;
    };
    let mut assigned = Decimal::ZERO;
    for (index, line) in lines.iter_mut().enumerate() {
        if !line.kept() || index == last_kept {
            continue;
        }
        line.effective_weight = round2(line.weight * Decimal::ONE_HUNDRED / kept_sum);
        assigned += line.effective_weight;
    }
    if let Some(line) = lines.get_mut(last_kept) {
        line.effective_weight = Decimal::ONE_HUNDRED - assigned;
    }
}

/// `points × weight / 100`, rounded. Zero points or a zero weight contribute exactly the zero
/// the division returns for a zero dividend, without the arithmetic; small numbers are done in
/// 64-bit integers, to the same digits and scale.
fn contribution(points: Decimal, weight: Decimal) -> Decimal {
    if points.is_zero() || weight.is_zero() {
        return Decimal::ZERO;
    }
    hundredth_rounded(points, weight)
        .unwrap_or_else(|| round2(points * weight / Decimal::ONE_HUNDRED))
}

/// The `rules` that fire on `figures`, in their order.
pub(super) fn fired<'m>(
    rules: impl IntoIterator<Item = &'m KnockOut>,
    figures: &FigureSet,
) -> impl Iterator<Item = &'m KnockOut> {
    rules
        .into_iter()
        .filter(move |rule| rule.fires(|input| input.value(figures)))
}

/// Whether a rule can lower the grade; the others block credit or ask for a review.
pub(super) fn caps_grade(rule: &&KnockOut) -> bool {
    matches!(rule.effect, Effect::CapGrade(_))
}

/// The lowest of the score's grade and every fired cap; caps naming no grade are ignored.
pub(super) fn capped_grade<'a>(
    model: &'a ScoringModel,
    computed: &'a str,
    fired: impl Iterator<Item = &'a KnockOut>,
) -> &'a str {
    let caps = fired.filter_map(|knock_out| match &knock_out.effect {
        Effect::CapGrade(cap) => model.grade_rank(cap).map(|rank| (rank, cap.as_str())),
        Effect::BlockCredit | Effect::FlagReview => None,
    });
    let start = model.grade_rank(computed).map(|rank| (rank, computed));
    // Nothing ranks below the lowest grade: the knock-outs need not even be evaluated.
    if start.is_some_and(|(rank, _)| rank + 1 == model.grades.len()) {
        return computed;
    }
    let lowest = caps.fold(start, |lowest, cap| match lowest {
        Some(current) if current.0 >= cap.0 => Some(current),
        _ => Some(cap),
    });
    lowest.map_or(computed, |(_, grade)| grade)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap_or_default()
    }

    fn line(weight: Decimal, kept: bool) -> Line<'static> {
        Line {
            hit: None,
            missing: (!kept).then_some(MissingTreatment::Dropped),
            points: Decimal::ZERO,
            weight,
            effective_weight: Decimal::ZERO,
            contribution: Decimal::ZERO,
        }
    }

    /// The effective weights of lines with these model weights, kept or dropped.
    fn reweighed(weights: &[(&str, bool)]) -> Vec<Decimal> {
        let mut lines: Vec<Line<'static>> = weights
            .iter()
            .map(|(weight, kept)| line(d(weight), *kept))
            .collect();
        reweigh(&mut lines);
        lines.iter().map(|line| line.effective_weight).collect()
    }

    #[test]
    fn three_equal_kept_weights_share_100_with_the_remainder_last() {
        let effective = reweighed(&[("10", true), ("10", true), ("10", true), ("70", false)]);
        assert_eq!(effective, vec![d("33.33"), d("33.33"), d("33.34"), d("0")]);
    }

    #[test]
    fn no_kept_weight_leaves_every_weight_at_zero() {
        let effective = reweighed(&[("50", false), ("50", false)]);
        assert_eq!(effective, vec![Decimal::ZERO, Decimal::ZERO]);
    }

    /// Decimals as a model or the engine writes them: whole, or up to four decimals, either sign.
    fn any_decimal() -> impl Strategy<Value = Decimal> {
        (-1_000_000i64..=1_000_000, 0u32..=4)
            .prop_map(|(mantissa, scale)| Decimal::new(mantissa, scale))
    }

    proptest! {
        #[test]
        fn whole_weights_summing_to_100_are_the_weights_the_arithmetic_gives(
            weights in proptest::collection::vec(0u32..=60, 1..9),
        ) {
            let whole: u32 = weights.iter().sum();
            let mut to_100 = weights.clone();
            if let Some(last) = to_100.last_mut() {
                *last += 100u32.saturating_sub(whole);
            }
            for weights in [weights, to_100] {
                let mut lines: Vec<Line<'static>> = weights
                    .iter()
                    .map(|weight| line(Decimal::from(*weight), true))
                    .collect();
                let mut scaled: Vec<Line<'static>> = weights
                    .iter()
                    .map(|weight| line(Decimal::from(*weight), true))
                    .collect();
                reweigh(&mut lines);
                scale_kept_weights(&mut scaled);
                let text = |lines: &[Line<'_>]| -> Vec<String> {
                    lines.iter().map(|line| line.effective_weight.to_string()).collect()
                };
                prop_assert_eq!(text(&lines), text(&scaled));
            }
        }

        #[test]
        fn a_contribution_is_points_times_weight_over_100_to_the_last_digit(
            points in prop_oneof![any_decimal(), Just(Decimal::new(0, 2))],
            weight in prop_oneof![any_decimal(), Just(Decimal::new(0, 2))],
        ) {
            let divided = round2(points * weight / Decimal::ONE_HUNDRED);
            prop_assert_eq!(contribution(points, weight).to_string(), divided.to_string());
        }
    }
}
