//! The engine on the test model, with every expected number worked out by hand from the
//! model's bands, curve and tables (see `fixture`), never copied from the output.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use rust_decimal::Decimal;

use super::{
    assessment::{Assessment, MissingTreatment, ReasonCode},
    engine::assess,
    fixture::{d, good_figures, model, snapshot},
    knockout::Effect,
    model::MissingPolicy,
    policy::ZeroLimitReason,
    rationale::Locale,
};
use crate::domain::figures::{CreditRating, FigureSet};

fn assess_en(figures: FigureSet) -> Assessment {
    assess(&model(), &snapshot(figures), Locale::En)
}

fn line<'a>(assessment: &'a Assessment, key: &str) -> &'a super::assessment::CriterionResult {
    assessment
        .criteria
        .iter()
        .find(|line| line.key == key)
        .unwrap()
}

fn fired(assessment: &Assessment) -> Vec<&str> {
    assessment
        .knock_outs
        .iter()
        .map(|k| k.key.as_str())
        .collect()
}

#[test]
fn a_good_customer_scores_the_hand_computed_total_and_grade_a() {
    let assessment = assess_en(good_figures());
    // 80 × 30 % + 80 × 20 % + 90 × 20 % + 100 × 20 % + 75 × 10 %
    let expected = [
        ("on_time_payment", "80", "24"),
        ("longest_overdue", "80", "16"),
        ("credit_rating", "90", "18"),
        ("sales", "100", "20"),
        ("strategic_fit", "75", "7.5"),
    ];
    for (key, points, contribution) in expected {
        let line = line(&assessment, key);
        assert_eq!(
            (line.points, line.contribution),
            (d(points), d(contribution)),
            "{key}"
        );
        assert_eq!(line.max_contribution, line.weight_percent, "{key}");
        assert_eq!(line.missing, None, "{key}");
    }
    assert_eq!(assessment.total_score, d("85.5"));
    assert_eq!(assessment.grade_before_knock_outs, "A");
    assert_eq!(assessment.grade, "A");
    assert!(assessment.knock_outs.is_empty());
    assert!(!assessment.review_required);
    assert_eq!(
        (
            assessment.model_name.as_str(),
            assessment.model_version.as_str()
        ),
        ("models/test", "v1")
    );
    assert_eq!(assessment.as_of, snapshot(FigureSet::default()).as_of);
}

#[test]
fn the_grade_policy_gives_the_credit_of_the_final_grade() {
    let credit = assess_en(good_figures()).credit.unwrap();
    // grade A: 3 months of 1 200 000 / 12 = 300 000; no net assets, so no cap.
    assert_eq!(
        (credit.grade.as_str(), credit.credit_limit),
        ("A", d("300000"))
    );
    assert_eq!(
        (credit.payment_terms_days, credit.service_level.as_str()),
        (90, "strategic account team")
    );

    let no_statements = FigureSet {
        financial_statements_provided: None,
        ..good_figures()
    };
    let capped = assess_en(no_statements).credit.unwrap();
    // capped to C: 1 month of 100 000.
    assert_eq!(
        (capped.grade.as_str(), capped.credit_limit),
        ("C", d("100000"))
    );
}

#[test]
fn a_missing_input_under_zero_counts_nothing_but_keeps_its_maximum() {
    let assessment = assess_en(FigureSet {
        on_time_payment_rate_percent: None,
        ..good_figures()
    });
    let line = line(&assessment, "on_time_payment");
    assert_eq!(line.missing, Some(MissingTreatment::CountedAsZero));
    assert_eq!(
        (line.points, line.contribution, line.max_contribution),
        (d("0"), d("0"), d("30"))
    );
    // 85.5 without the 24 on-time points.
    assert_eq!(assessment.total_score, d("61.5"));
}

#[test]
fn a_missing_input_under_neutral_counts_the_neutral_points() {
    let assessment = assess_en(FigureSet {
        longest_overdue_days: None,
        ..good_figures()
    });
    let line = line(&assessment, "longest_overdue");
    assert_eq!(line.missing, Some(MissingTreatment::CountedAsNeutral));
    // 50 × 20 % = 10 instead of 16.
    assert_eq!((line.points, line.contribution), (d("50"), d("10")));
    assert_eq!(assessment.total_score, d("79.5"));
}

#[test]
fn a_dropped_criterion_hands_its_weight_to_the_others_in_proportion() {
    let assessment = assess_en(FigureSet {
        sales_last_12_months: None,
        ..good_figures()
    });
    let sales = line(&assessment, "sales");
    assert_eq!(sales.missing, Some(MissingTreatment::Dropped));
    assert_eq!(
        (
            sales.effective_weight_percent,
            sales.contribution,
            sales.max_contribution
        ),
        (d("0"), d("0"), d("0"))
    );
    // kept weights 30 + 20 + 20 + 10 = 80, scaled by 100 / 80.
    let expected = [
        ("on_time_payment", "37.5"),
        ("longest_overdue", "25"),
        ("credit_rating", "25"),
        ("strategic_fit", "12.5"),
    ];
    for (key, weight) in expected {
        assert_eq!(
            line(&assessment, key).effective_weight_percent,
            d(weight),
            "{key}"
        );
    }
    // 80 × 37.5 % + 80 × 25 % + 90 × 25 % + 75 × 12.5 % = 30 + 20 + 22.5 + 9.375 → 9.38
    assert_eq!(line(&assessment, "strategic_fit").contribution, d("9.38"));
    assert_eq!(assessment.total_score, d("81.88"));
}

#[test]
fn re_weighting_gives_the_rounding_remainder_to_the_last_kept_criterion() {
    let figures = FigureSet {
        sales_last_12_months: None,
        credit_rating: None,
        ..good_figures()
    };
    let assessment = assess_en(figures);
    // kept 30 + 20 + 10 = 60: 50, 33.33 (33.333...), and 100 − 83.33 = 16.67 for the last.
    let weights: Vec<Decimal> = assessment
        .criteria
        .iter()
        .map(|l| l.effective_weight_percent)
        .collect();
    assert_eq!(
        weights,
        vec![d("50"), d("33.33"), d("0"), d("0"), d("16.67")]
    );
}

#[test]
fn when_every_criterion_is_dropped_the_score_is_zero_and_the_grade_the_lowest() {
    let mut all_drop = model();
    for criterion in &mut all_drop.criteria {
        criterion.missing = MissingPolicy::Drop;
    }
    let assessment = assess(&all_drop, &snapshot(FigureSet::default()), Locale::En);
    assert_eq!(assessment.total_score, Decimal::ZERO);
    assert_eq!(assessment.grade_before_knock_outs, "D");
    assert_eq!(assessment.grade, "D");
    assert!(
        assessment
            .criteria
            .iter()
            .all(|l| l.effective_weight_percent.is_zero())
    );
    assert!(assessment.reason_codes.is_empty());
}

#[test]
fn all_missing_under_mixed_policies_counts_only_the_neutral_points() {
    let assessment = assess_en(FigureSet::default());
    // on-time zero (30), overdue neutral 50, rating and sales dropped, fit neutral 50: kept 60.
    // overdue 50 × 33.33 % = 16.665 → 16.67; fit 50 × 16.67 % = 8.335 → 8.34 (half away from 0).
    assert_eq!(
        line(&assessment, "longest_overdue").contribution,
        d("16.67")
    );
    assert_eq!(line(&assessment, "strategic_fit").contribution, d("8.34"));
    assert_eq!(assessment.total_score, d("25.01"));
    assert_eq!(assessment.grade, "D");
}

#[test]
fn a_value_no_band_covers_is_treated_as_missing_and_says_so() {
    let assessment = assess_en(FigureSet {
        on_time_payment_rate_percent: Some(100.5),
        ..good_figures()
    });
    let line = line(&assessment, "on_time_payment");
    assert_eq!(line.missing, Some(MissingTreatment::CountedAsZero));
    assert!(line.value.is_some());
    assert!(
        line.sentence.contains("is not covered by the mapping"),
        "{}",
        line.sentence
    );
}

#[test]
fn an_overdue_of_91_days_caps_the_grade_at_d() {
    let assessment = assess_en(FigureSet {
        longest_overdue_days: Some(91),
        ..good_figures()
    });
    // overdue beyond the curve's end: 0 points; 24 + 0 + 18 + 20 + 7.5 = 69.5 → C, capped to D.
    assert_eq!(assessment.total_score, d("69.5"));
    assert_eq!(assessment.grade_before_knock_outs, "C");
    assert_eq!(assessment.grade, "D");
    assert_eq!(fired(&assessment), vec!["overdue_over_90_days"]);
    assert_eq!(
        assessment.knock_outs[0].effect,
        Effect::CapGrade("D".into())
    );
}

#[test]
fn the_lowest_cap_wins_whatever_the_order_of_the_rules() {
    let figures = FigureSet {
        longest_overdue_days: Some(120),
        financial_statements_provided: Some(false),
        ..good_figures()
    };
    assert_eq!(assess_en(figures.clone()).grade, "D");
    let mut reversed = model();
    reversed.knock_outs.reverse();
    let assessment = assess(&reversed, &snapshot(figures), Locale::En);
    assert_eq!(assessment.grade, "D");
    // every rule that fired is named, in the model's order
    assert_eq!(
        fired(&assessment),
        vec!["no_financial_statements", "overdue_over_90_days"]
    );
}

#[test]
fn a_cap_above_the_computed_grade_does_not_raise_it() {
    let figures = FigureSet {
        on_time_payment_rate_percent: Some(50.0),
        sales_last_12_months: Some(d("50000")),
        financial_statements_provided: None,
        ..good_figures()
    };
    let assessment = assess_en(figures);
    // 0 + 16 + 18 + 0 + 7.5 = 41.5 → D; the C cap leaves it at D.
    assert_eq!(assessment.total_score, d("41.5"));
    assert_eq!(
        (
            assessment.grade_before_knock_outs.as_str(),
            assessment.grade.as_str()
        ),
        ("D", "D")
    );
    assert_eq!(fired(&assessment), vec!["no_financial_statements"]);
}

#[test]
fn a_rating_of_d_blocks_credit_without_changing_the_grade() {
    let assessment = assess_en(FigureSet {
        credit_rating: Some(CreditRating::D),
        ..good_figures()
    });
    // rating D scores 0: 24 + 16 + 0 + 20 + 7.5 = 67.5 → C.
    assert_eq!(assessment.grade, "C");
    let credit = assessment.credit.unwrap();
    assert_eq!(credit.credit_limit, Decimal::ZERO);
    assert_eq!(
        credit.zero_reason,
        Some(ZeroLimitReason::CreditBlocked(vec!["rating_d".into()]))
    );
}

#[test]
fn a_net_loss_flags_the_assessment_for_review() {
    let assessment = assess_en(FigureSet {
        net_profit_margin_percent: Some(-0.5),
        ..good_figures()
    });
    assert!(assessment.review_required);
    assert_eq!(assessment.grade, "A");
    assert_eq!(fired(&assessment), vec!["net_loss"]);
}

fn codes(assessment: &Assessment) -> Vec<(String, Decimal)> {
    assessment
        .reason_codes
        .iter()
        .map(
            |ReasonCode {
                 criterion,
                 points_lost,
             }| (criterion.clone(), *points_lost),
        )
        .collect()
}

#[test]
fn reason_codes_rank_the_three_biggest_losses() {
    // losses: on-time 30 − 24 = 6, overdue 20 − 16 = 4, rating 20 − 18 = 2, sales 0, fit 10 − 7.5 = 2.5
    let expected = vec![
        ("on_time_payment".to_owned(), d("6")),
        ("longest_overdue".to_owned(), d("4")),
        ("strategic_fit".to_owned(), d("2.5")),
    ];
    assert_eq!(codes(&assess_en(good_figures())), expected);
}

#[test]
fn equal_losses_are_ranked_in_model_order() {
    let figures = FigureSet {
        longest_overdue_days: Some(30),
        credit_rating: Some(CreditRating::Bbb),
        ..good_figures()
    };
    // overdue 60 points loses 8, rating BBB 60 points loses 8, on-time loses 6, fit 2.5.
    let expected = vec![
        ("longest_overdue".to_owned(), d("8")),
        ("credit_rating".to_owned(), d("8")),
        ("on_time_payment".to_owned(), d("6")),
    ];
    assert_eq!(codes(&assess_en(figures)), expected);
}

#[test]
fn criteria_that_lost_nothing_are_not_reasons() {
    let perfect = FigureSet {
        on_time_payment_rate_percent: Some(99.0),
        longest_overdue_days: Some(0),
        credit_rating: Some(CreditRating::Aaa),
        strategic_fit: Some(5),
        ..good_figures()
    };
    let assessment = assess_en(perfect.clone());
    assert_eq!(assessment.total_score, d("100"));
    assert!(assessment.reason_codes.is_empty());
    let one_loss = assess_en(FigureSet {
        strategic_fit: Some(3),
        ..perfect
    });
    assert_eq!(codes(&one_loss), vec![("strategic_fit".to_owned(), d("5"))]);
}

#[test]
fn both_locales_explain_every_criterion_in_one_sentence() {
    for locale in [Locale::En, Locale::ZhCn] {
        let assessment = assess(
            &model(),
            &snapshot(FigureSet {
                sales_last_12_months: None,
                ..good_figures()
            }),
            locale,
        );
        assert_eq!(assessment.criteria.len(), 5);
        for line in &assessment.criteria {
            let name = line.input.display_name(locale);
            assert!(
                line.sentence.starts_with(name),
                "{locale:?}: {}",
                line.sentence
            );
            assert!(line.sentence.ends_with(['.', '。']), "{}", line.sentence);
        }
    }
}

#[test]
fn the_english_sentences_read_as_the_arithmetic() {
    let assessment = assess_en(good_figures());
    let sentences: Vec<&str> = assessment
        .criteria
        .iter()
        .map(|l| l.sentence.as_str())
        .collect();
    assert_eq!(
        sentences,
        vec![
            "On-time payment rate 92 % falls in band [90, 95): 80 points × 30 % = 24.00 of 30.00.",
            "Longest overdue 15 days lies between 0 (100 points) and 30 (60 points): 80 points × 20 % = 16.00 of 20.00.",
            "Credit rating AA matches table entry \"AA\": 90 points × 20 % = 18.00 of 20.00.",
            "Sales in the last 12 months 1200000 falls in band [1000000, +∞): 100 points × 20 % = 20.00 of 20.00.",
            "Strategic fit 4 matches table entry \"4\": 75 points × 10 % = 7.50 of 10.00.",
        ]
    );
}

#[test]
fn the_chinese_sentences_read_as_the_arithmetic() {
    let assessment = assess(&model(), &snapshot(good_figures()), Locale::ZhCn);
    assert_eq!(
        assessment.criteria[0].sentence,
        "按时付款率 92 % 落在区间 [90, 95)：80 分 × 30 % = 24.00（满分 30.00）。"
    );
    assert_eq!(
        assessment.criteria[1].sentence,
        "最长逾期天数 15 天 位于 0（100 分）与 30（60 分）之间：80 分 × 20 % = 16.00（满分 20.00）。"
    );
}

#[test]
fn missing_inputs_say_which_policy_applied_in_both_languages() {
    let figures = FigureSet {
        on_time_payment_rate_percent: None,
        longest_overdue_days: None,
        sales_last_12_months: None,
        ..good_figures()
    };
    let en = assess(&model(), &snapshot(figures.clone()), Locale::En);
    assert_eq!(
        en.criteria[0].sentence,
        "On-time payment rate is not provided, so it counts as zero: 0 points × 37.5 % (re-weighted from 30 %) = 0.00 of 37.50."
    );
    assert_eq!(
        en.criteria[1].sentence,
        "Longest overdue is not provided, so it counts as neutral: 50 points × 25 % (re-weighted from 20 %) = 12.50 of 25.00."
    );
    assert_eq!(
        en.criteria[3].sentence,
        "Sales in the last 12 months is not provided, so the criterion is left out and the other weights are scaled up to 100 %."
    );
    let zh = assess(&model(), &snapshot(figures), Locale::ZhCn);
    assert_eq!(
        zh.criteria[0].sentence,
        "按时付款率未提供，按 0 分计：0 分 × 37.5 %（由 30 % 重新加权） = 0.00（满分 37.50）。"
    );
    assert_eq!(
        zh.criteria[1].sentence,
        "最长逾期天数未提供，按中性分计：50 分 × 25 %（由 20 % 重新加权） = 12.50（满分 25.00）。"
    );
    assert_eq!(
        zh.criteria[3].sentence,
        "近 12 个月销售额未提供，该项不计入，其余权重按比例放大至 100 %。"
    );
}

#[test]
fn a_fired_knock_out_carries_its_description_in_both_languages() {
    let figures = FigureSet {
        financial_statements_provided: None,
        ..good_figures()
    };
    let assessment = assess(&model(), &snapshot(figures), Locale::En);
    let fired = &assessment.knock_outs[0];
    assert_eq!(
        fired.description(Locale::En),
        "no_financial_statements (en)"
    );
    assert_eq!(
        fired.description(Locale::ZhCn),
        "no_financial_statements（中文）"
    );
}
