//! Each kind of problem, found on an otherwise valid model, with the path it names.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use rstest::rstest;

use super::*;
use crate::domain::scoring::{
    fixture::{d, model},
    input::Input,
    mapping::{CurvePoint, Mapping},
    model::MissingPolicy,
};

fn bands_of(
    model: &mut ScoringModel,
    criterion: usize,
) -> &mut Vec<crate::domain::scoring::mapping::Band> {
    match &mut model.criteria[criterion].mapping {
        Mapping::Bands(bands) => bands,
        other => panic!("criterion {criterion} has {other:?}"),
    }
}

fn curve_of(model: &mut ScoringModel) -> &mut Vec<CurvePoint> {
    match &mut model.criteria[1].mapping {
        Mapping::Curve(corners) => corners,
        other => panic!("criterion 1 has {other:?}"),
    }
}

#[test]
fn the_test_model_is_valid() {
    assert_eq!(validate(&model()), vec![]);
}

#[rstest]
#[case::weights_not_summing_to_100(|m: &mut ScoringModel| m.criteria[0].weight_percent = d("31"), "criteria", "weights must sum to 100, got 101")]
#[case::weight_not_positive(|m: &mut ScoringModel| { m.criteria[0].weight_percent = d("0"); m.criteria[1].weight_percent = d("50"); }, "criteria[0].weight_percent", "must be above 0")]
#[case::duplicate_key(|m: &mut ScoringModel| m.criteria[3].key = "on_time_payment".into(), "criteria[3].key", "duplicates criteria[0].key")]
#[case::key_not_snake_case(|m: &mut ScoringModel| m.criteria[3].key = "Sales".into(), "criteria[3].key", "must be snake_case")]
#[case::band_gap(|m: &mut ScoringModel| bands_of(m, 0)[2].lower = Some(d("91")), "criteria[0].mapping.bands[2]", "leaves a gap after the previous band: nothing covers 90 to 91")]
#[case::band_overlap(|m: &mut ScoringModel| bands_of(m, 0)[2].lower = Some(d("85")), "criteria[0].mapping.bands[2]", "overlaps the previous band, which runs to 90")]
#[case::band_points_out_of_range(|m: &mut ScoringModel| bands_of(m, 0)[1].points = d("101"), "criteria[0].mapping.bands[1].points", "must be 0 to 100")]
#[case::band_inverted(|m: &mut ScoringModel| bands_of(m, 3)[1].upper = Some(d("50000")), "criteria[3].mapping.bands[1]", "lower must be below upper")]
#[case::band_open_in_the_middle(|m: &mut ScoringModel| bands_of(m, 3)[1].lower = None, "criteria[3].mapping.bands[1].lower", "only the first band may be open below")]
#[case::band_open_above_not_last(|m: &mut ScoringModel| bands_of(m, 0)[2].upper = None, "criteria[0].mapping.bands[2].upper", "only the last band may be open above")]
#[case::inclusive_upper_not_last(|m: &mut ScoringModel| bands_of(m, 0)[1].upper_inclusive = true, "criteria[0].mapping.bands[1].upper_inclusive", "only the last band may include its upper end")]
#[case::curve_x_not_increasing(|m: &mut ScoringModel| curve_of(m)[2].x = d("30"), "criteria[1].mapping.curve[2].x", "must be above the previous point's 30")]
#[case::curve_against_its_direction(|m: &mut ScoringModel| curve_of(m)[2].points = d("70"), "criteria[1].mapping.curve[2].points", "must not rise above the previous point's 60: lower is better")]
#[case::curve_against_higher_is_better(|m: &mut ScoringModel| m.criteria[1].higher_is_better = true, "criteria[1].mapping.curve[1].points", "must not fall below the previous point's 100: higher is better")]
#[case::lookup_on_a_number(|m: &mut ScoringModel| m.criteria[4].input = Input::CooperationYears, "criteria[4].mapping", "a lookup needs a category input")]
#[case::bands_on_a_rating(|m: &mut ScoringModel| m.criteria[0].input = Input::CreditRating, "criteria[0].mapping", "bands and curves need a numeric input, credit_rating is a category")]
#[case::lookup_key_not_a_value(|m: &mut ScoringModel| if let Mapping::Lookup { entries, .. } = &mut m.criteria[2].mapping { entries.insert("AAA+".into(), d("100")); }, "criteria[2].mapping.lookup.entries.AAA+", "is not a value of this input")]
#[case::lookup_default_out_of_range(|m: &mut ScoringModel| if let Mapping::Lookup { default, .. } = &mut m.criteria[2].mapping { *default = Some(d("-1")); }, "criteria[2].mapping.lookup.default", "must be 0 to 100")]
#[case::neutral_out_of_range(|m: &mut ScoringModel| m.criteria[1].missing = MissingPolicy::Neutral { points: d("150") }, "criteria[1].missing.neutral.points", "must be 0 to 100")]
#[case::thresholds_out_of_order(|m: &mut ScoringModel| m.grades[1].min_score = d("90"), "grades[1].min_score", "must be below the previous grade's 85")]
#[case::last_threshold_not_zero(|m: &mut ScoringModel| m.grades[3].min_score = d("10"), "grades[3].min_score", "must be 0 so that every score has a grade")]
#[case::duplicate_grade(|m: &mut ScoringModel| m.grades[2].grade = "B".into(), "grades[2].grade", "duplicates grade B")]
#[case::grade_without_policy(|m: &mut ScoringModel| { m.policies.remove("B"); }, "grades[1].grade", "has no policy")]
#[case::policy_without_grade(|m: &mut ScoringModel| { let c = m.policies["C"].clone(); m.policies.insert("E".into(), c); }, "policies.E", "is for a grade the model does not have")]
#[case::rounding_step_not_positive(|m: &mut ScoringModel| m.policies.get_mut("A").unwrap().credit_limit.round_down_to = d("0"), "policies.A.credit_limit.round_down_to", "must be 0.01 to 1000000000")]
#[case::rounding_step_too_fine(|m: &mut ScoringModel| m.policies.get_mut("A").unwrap().credit_limit.round_down_to = d("0.0000000000000000000000000001"), "policies.A.credit_limit.round_down_to", "must be 0.01 to 1000000000")]
#[case::too_many_months(|m: &mut ScoringModel| m.policies.get_mut("A").unwrap().credit_limit.months_of_purchases = d("121"), "policies.A.credit_limit.months_of_purchases", "must be 0 to 120")]
#[case::cap_too_high(|m: &mut ScoringModel| m.policies.get_mut("A").unwrap().credit_limit.cap_percent_of_revenue = Some(d("1000.5")), "policies.A.credit_limit.cap_percent_of_revenue", "must be 0 to 1000")]
#[case::validity_too_long(|m: &mut ScoringModel| m.validity_months = 121, "validity_months", "must be 1 to 120")]
#[case::cap_to_unknown_grade(|m: &mut ScoringModel| m.knock_outs[0].effect = Effect::CapGrade("E".into()), "knock_outs[0].effect.cap_grade", "names grade E, which the model does not have")]
#[case::number_expected(|m: &mut ScoringModel| m.knock_outs[0].when_any[0].value = Some("ninety".into()), "knock_outs[0].when_any[0].value", "must be a number for this input, got \"ninety\"")]
#[case::category_expected(|m: &mut ScoringModel| m.knock_outs[1].when_any[0].value = Some("DDD".into()), "knock_outs[1].when_any[0].value", "must be one of AAA, AA, A, BBB, BB, B, CCC, CC, C, D, got \"DDD\"")]
#[case::ordering_a_category(|m: &mut ScoringModel| m.knock_outs[1].when_any[0].op = Comparison::Gt, "knock_outs[1].when_any[0].op", "orders values, which only a numeric input has")]
#[case::value_missing(|m: &mut ScoringModel| m.knock_outs[0].when_any[0].value = None, "knock_outs[0].when_any[0].value", "is required")]
#[case::value_with_is_missing(|m: &mut ScoringModel| m.knock_outs[2].when_any[0].value = Some("true".into()), "knock_outs[2].when_any[0].value", "must be absent for is_missing")]
#[case::no_condition(|m: &mut ScoringModel| m.knock_outs[3].when_any.clear(), "knock_outs[3].when_any", "must have at least one condition")]
#[case::validity_zero(|m: &mut ScoringModel| m.validity_months = 0, "validity_months", "must be 1 to 120")]
fn validation_names_each_problem_where_it_is(
    #[case] break_it: fn(&mut ScoringModel),
    #[case] path: &str,
    #[case] message: &str,
) {
    let mut broken = model();
    break_it(&mut broken);
    let problems = validate(&broken);
    assert!(
        problems
            .iter()
            .any(|p| p.path == path && p.message.starts_with(message)),
        "expected {path}: {message}, got {problems:#?}"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let mut broken = model();
    broken.criteria[0].weight_percent = d("31");
    broken.grades[3].min_score = d("10");
    broken.validity_months = 0;
    let paths: Vec<String> = validate(&broken).into_iter().map(|p| p.path).collect();
    assert_eq!(
        paths,
        vec!["criteria", "grades[3].min_score", "validity_months"]
    );
}

#[test]
fn an_empty_model_says_what_it_lacks() {
    let mut empty = model();
    empty.criteria.clear();
    empty.grades.clear();
    empty.policies.clear();
    empty.knock_outs.clear();
    let problems: Vec<String> = validate(&empty).iter().map(ToString::to_string).collect();
    assert_eq!(
        problems,
        vec![
            "criteria: must have at least one criterion",
            "grades: must name at least one grade"
        ]
    );
}
