//! Invariants of the engine over generated figures and weights: the score stays in range,
//! adds up, moves the right way, re-weights to exactly 100 and is reproducible; and the score
//! alone agrees with the full assessment on every model.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use rust_decimal::Decimal;

use super::{
    document::default_models,
    engine::{assess, assess_without_sentences, score},
    fixture::{model, snapshot},
    model::MissingPolicy,
    rationale::Locale,
};
use crate::domain::figures::{CreditRating, FigureSet};

fn any_rating() -> impl Strategy<Value = CreditRating> {
    prop::sample::select(CreditRating::ALL.to_vec())
}

fn any_money() -> impl Strategy<Value = Decimal> {
    (0i64..=1_000_000_000_000).prop_map(|cents| Decimal::new(cents, 2))
}

prop_compose! {
    fn any_figures()(
        on_time in proptest::option::of(0.0f64..=100.0),
        overdue in proptest::option::of(0i32..=3660),
        rating in proptest::option::of(any_rating()),
        sales in proptest::option::of(any_money()),
        fit in proptest::option::of(1i32..=5),
        statements in proptest::option::of(any::<bool>()),
        margin in proptest::option::of(-1000.0f64..=100.0),
        net_assets in proptest::option::of(any_money()),
    ) -> FigureSet {
        FigureSet {
            on_time_payment_rate_percent: on_time,
            longest_overdue_days: overdue,
            credit_rating: rating,
            sales_last_12_months: sales,
            strategic_fit: fit,
            financial_statements_provided: statements,
            net_profit_margin_percent: margin,
            net_assets,
            ..FigureSet::default()
        }
    }
}

/// Amounts from cents to billions, spread over every order of magnitude.
fn any_amount() -> impl Strategy<Value = Decimal> {
    (-100_000i64..=1_000_000, 0u32..=7)
        .prop_map(|(cents, zeros)| Decimal::new(cents, 2) * Decimal::from(10i64.pow(zeros)))
}

prop_compose! {
    /// Every input the default models and the test model read, any of them missing.
    fn any_model_figures()(
        figures in any_figures(),
        growth in proptest::option::of(-100.0f64..=200.0),
        gross_margin in proptest::option::of(-100.0f64..=100.0),
        cooperation in proptest::option::of(0.0f64..=30.0),
        debt_to_asset in proptest::option::of(0.0f64..=150.0),
        revenue in proptest::option::of(any_amount()),
        budget in proptest::option::of(any_amount()),
        amounts in (proptest::option::of(any_amount()), proptest::option::of(any_amount())),
    ) -> FigureSet {
        FigureSet {
            revenue_growth_percent: growth,
            gross_margin_percent: gross_margin,
            cooperation_years: cooperation,
            debt_to_asset_ratio_percent: debt_to_asset,
            annual_revenue: revenue,
            annual_purchase_budget: budget,
            sales_last_12_months: amounts.0.or(figures.sales_last_12_months),
            net_assets: amounts.1.or(figures.net_assets),
            ..figures
        }
    }
}

fn total(figures: FigureSet) -> Decimal {
    assess(&model(), &snapshot(figures), Locale::En).total_score
}

proptest! {
    #[test]
    fn the_score_is_always_between_0_and_100(figures in any_figures()) {
        let score = total(figures);
        prop_assert!((Decimal::ZERO..=Decimal::ONE_HUNDRED).contains(&score), "{score}");
    }

    #[test]
    fn grading_without_sentences_keeps_every_fact(figures in any_figures(), zh in any::<bool>()) {
        let locale = if zh { Locale::ZhCn } else { Locale::En };
        let bare = assess_without_sentences(&model(), &snapshot(figures.clone()), locale);
        prop_assert!(!bare.has_sentences());
        prop_assert_eq!(bare.with_sentences(), assess(&model(), &snapshot(figures), locale));
    }

    #[test]
    fn the_contributions_add_up_to_the_total(figures in any_figures(), zh in any::<bool>()) {
        let locale = if zh { Locale::ZhCn } else { Locale::En };
        let assessment = assess(&model(), &snapshot(figures), locale);
        let sum: Decimal = assessment.criteria.iter().map(|line| line.contribution).sum();
        prop_assert_eq!(sum, assessment.total_score);
    }

    #[test]
    fn a_better_payment_rate_never_lowers_the_score(
        figures in any_figures(), a in 0.0f64..=100.0, b in 0.0f64..=100.0,
    ) {
        let (low, high) = if a <= b { (a, b) } else { (b, a) };
        let worse = total(FigureSet { on_time_payment_rate_percent: Some(low), ..figures.clone() });
        let better = total(FigureSet { on_time_payment_rate_percent: Some(high), ..figures });
        prop_assert!(better >= worse, "{low} → {worse}, {high} → {better}");
    }

    #[test]
    fn more_sales_or_a_better_fit_never_lower_the_score(
        figures in any_figures(), sales in (any_money(), any_money()), fit in (1i32..=5, 1i32..=5),
    ) {
        let (low, high) = (sales.0.min(sales.1), sales.0.max(sales.1));
        let worse = total(FigureSet { sales_last_12_months: Some(low), ..figures.clone() });
        let better = total(FigureSet { sales_last_12_months: Some(high), ..figures.clone() });
        prop_assert!(better >= worse);
        let worse = total(FigureSet { strategic_fit: Some(fit.0.min(fit.1)), ..figures.clone() });
        let better = total(FigureSet { strategic_fit: Some(fit.0.max(fit.1)), ..figures });
        prop_assert!(better >= worse);
    }

    #[test]
    fn a_longer_overdue_never_raises_the_score(
        figures in any_figures(), a in 0i32..=3660, b in 0i32..=3660,
    ) {
        let shorter = total(FigureSet { longest_overdue_days: Some(a.min(b)), ..figures.clone() });
        let longer = total(FigureSet { longest_overdue_days: Some(a.max(b)), ..figures });
        prop_assert!(longer <= shorter);
    }

    #[test]
    fn dropping_criteria_keeps_the_weights_summing_to_exactly_100(
        figures in any_figures(),
        weights in proptest::collection::vec(1i64..=10_000, 5),
    ) {
        let mut all_drop = model();
        for (criterion, weight) in all_drop.criteria.iter_mut().zip(&weights) {
            criterion.weight_percent = Decimal::new(*weight, 2);
            criterion.missing = MissingPolicy::Drop;
        }
        let assessment = assess(&all_drop, &snapshot(figures), Locale::En);
        let kept = assessment.criteria.iter().filter(|line| line.missing.is_none()).count();
        let sum: Decimal = assessment.criteria.iter().map(|line| line.effective_weight_percent).sum();
        let expected = if kept == 0 { Decimal::ZERO } else { Decimal::ONE_HUNDRED };
        prop_assert_eq!(sum, expected);
        prop_assert!(assessment.criteria.iter().all(|line| line.effective_weight_percent >= Decimal::ZERO));
    }

    #[test]
    fn the_same_model_and_figures_give_the_identical_assessment(figures in any_figures()) {
        let first = assess(&model(), &snapshot(figures.clone()), Locale::ZhCn);
        let again = assess(&model().clone(), &snapshot(figures), Locale::ZhCn);
        prop_assert_eq!(serde_json::to_string(&first).unwrap(), serde_json::to_string(&again).unwrap());
        let stored: super::assessment::Assessment = serde_json::from_str(&serde_json::to_string(&first).unwrap()).unwrap();
        prop_assert_eq!(&first, &again);
        prop_assert_eq!(stored, first);
    }

    #[test]
    fn the_score_alone_is_the_full_assessments_score_and_grade(figures in any_model_figures()) {
        let [existing, prospects] = default_models().unwrap();
        for model in [model(), existing, prospects] {
            let assessment = assess(&model, &snapshot(figures.clone()), Locale::En);
            let alone = score(&model, &figures);
            prop_assert_eq!(alone.total_score, assessment.total_score, "{}", model.name);
            prop_assert_eq!(alone.grade_before_knock_outs, assessment.grade_before_knock_outs.as_str());
            prop_assert_eq!(alone.grade, assessment.grade.as_str());
        }
    }
}
