//! Tests of the rationale report: one row per criterion, aligned columns in both
//! languages, knock-outs, credit and missing inputs shown as such.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use rstest::rstest;

use super::*;
use crate::domain::{
    figures::{CreditRating, FigureSet},
    scoring::{
        ScoringModel, assess,
        document::{DEFAULT_EXISTING, DEFAULT_PROSPECTS},
        fixture::{self, d, good_figures, snapshot},
    },
};

fn existing() -> ScoringModel {
    ScoringModel::from_yaml(DEFAULT_EXISTING).unwrap()
}

fn strong_customer() -> FigureSet {
    FigureSet {
        sales_last_12_months: Some(d("6000000")),
        gross_margin_percent: Some(25.0),
        on_time_payment_rate_percent: Some(97.0),
        longest_overdue_days: Some(5),
        cooperation_years: Some(6.0),
        credit_rating: Some(CreditRating::Aa),
        revenue_growth_percent: Some(12.0),
        financial_statements_provided: Some(true),
        net_assets: Some(d("1823456")),
        annual_revenue: Some(d("50000000")),
        ..FigureSet::default()
    }
}

/// 120 days overdue caps at D and rating D blocks credit.
fn knocked_out_customer() -> FigureSet {
    FigureSet {
        longest_overdue_days: Some(120),
        credit_rating: Some(CreditRating::D),
        ..strong_customer()
    }
}

/// The fixture's good customer without a payment record, a rating or sales.
fn customer_with_gaps() -> FigureSet {
    FigureSet {
        on_time_payment_rate_percent: None,
        longest_overdue_days: None,
        credit_rating: None,
        sales_last_12_months: None,
        ..good_figures()
    }
}

/// One assessment of each shape: clean, knocked out, re-weighted prospect, gaps.
fn assessments(locale: Locale) -> Vec<Assessment> {
    let prospect = FigureSet {
        annual_revenue: Some(d("150000000")),
        credit_rating: Some(CreditRating::A),
        annual_purchase_budget: Some(d("1200000")),
        ..FigureSet::default()
    };
    let prospects = ScoringModel::from_yaml(DEFAULT_PROSPECTS).unwrap();
    vec![
        assess(&existing(), &snapshot(strong_customer()), locale),
        assess(&existing(), &snapshot(knocked_out_customer()), locale),
        assess(&prospects, &snapshot(prospect), locale),
        assess(&fixture::model(), &snapshot(good_figures()), locale),
        assess(&fixture::model(), &snapshot(customer_with_gaps()), locale),
    ]
}

/// The non-empty cells of a table line.
fn cells(line: &str) -> Vec<&str> {
    line.split(GAP)
        .map(str::trim)
        .filter(|cell| !cell.is_empty())
        .collect()
}

fn row_of<'a>(lines: &'a [String], name: &str) -> Vec<&'a str> {
    let line = lines.iter().find(|line| line.starts_with(name));
    cells(line.unwrap_or_else(|| panic!("no row for {name} in {lines:#?}")))
}

#[test]
fn the_table_has_a_row_per_criterion_and_a_total_row_equal_to_the_score() {
    for locale in [Locale::En, Locale::ZhCn] {
        for assessment in assessments(Locale::En) {
            let lines = criterion_table(&assessment, locale);
            for line in &assessment.criteria {
                let row = row_of(&lines, line.input.display_name(locale));
                assert_eq!(row[row.len() - 2], format!("{:.2}", line.contribution));
            }
            let sum: Decimal = assessment.criteria.iter().map(|l| l.contribution).sum();
            let total = row_of(&lines, Words::of(locale).total);
            assert_eq!(total[total.len() - 2], format!("{sum:.2}"), "{lines:#?}");
            assert_eq!(total[1], "100 %");
            let report = explain(&assessment, locale);
            assert!(report.contains(&lines.join("\n")), "{report}");
        }
    }
}

#[test]
fn every_table_line_has_the_same_display_width_in_both_languages() {
    for locale in [Locale::En, Locale::ZhCn] {
        for assessment in assessments(locale) {
            let lines = criterion_table(&assessment, locale);
            let widths: Vec<usize> = lines.iter().map(|line| line.width()).collect();
            assert!(widths.iter().all(|w| *w == widths[0]), "{lines:#?}");
        }
    }
    // The Chinese table really has wide characters to line up.
    let assessment = &assessments(Locale::ZhCn)[0];
    let heading = &criterion_table(assessment, Locale::ZhCn)[0];
    assert!(heading.width() > heading.chars().count());
}

#[test]
fn the_chinese_report_uses_chinese_names_headings_and_sentences() {
    let assessment = assess(&existing(), &snapshot(strong_customer()), Locale::En);
    let report = explain(&assessment, Locale::ZhCn);
    for expected in [
        "评估说明",
        "模型：models/existing-customers，版本 1",
        "数据日期：2026-06-30",
        "评分项",
        "满分贡献",
        "按时付款率",
        "合计",
        "授信建议：",
        "账期：",
        "未获更高等级的原因：",
        "评分说明：",
        "分 × ",
    ] {
        assert!(report.contains(expected), "{expected} in {report}");
    }
    for english in ["On-time payment rate", "Criterion", "points ×", "Why not"] {
        assert!(!report.contains(english), "{english} in {report}");
    }
}

#[test]
fn an_english_report_of_a_chinese_assessment_has_no_chinese_in_it() {
    let assessment = assess(
        &fixture::model(),
        &snapshot(customer_with_gaps()),
        Locale::ZhCn,
    );
    let report = explain(&assessment, Locale::En);
    assert!(
        report.chars().all(|c| c.to_string().width() <= 1),
        "{report}"
    );
    assert!(report.contains("Why not a higher grade:"), "{report}");
}

#[test]
fn knock_outs_and_a_blocked_credit_limit_appear_with_their_reasons() {
    let assessment = assess(&existing(), &snapshot(knocked_out_customer()), Locale::En);
    assert_ne!(assessment.grade, assessment.grade_before_knock_outs);
    let english = explain(&assessment, Locale::En);
    let grade = format!(
        "Grade: {} ({} before knock-outs)",
        assessment.grade, assessment.grade_before_knock_outs
    );
    for fired in &assessment.knock_outs {
        assert!(english.contains(fired.description(Locale::En)), "{english}");
    }
    for expected in [
        grade.as_str(),
        "  - overdue_over_90_days: ",
        "(caps the grade at D)",
        "  - rating_d: ",
        "(blocks credit)",
        "Credit limit: 0 (credit blocked by knock-out rating_d)",
    ] {
        assert!(english.contains(expected), "{expected} in {english}");
    }
    let chinese = explain(&assessment, Locale::ZhCn);
    for fired in &assessment.knock_outs {
        assert!(
            chinese.contains(fired.description(Locale::ZhCn)),
            "{chinese}"
        );
    }
    for expected in [
        "  - rating_d：",
        "（停止授信）",
        "信用额度：0（否决规则 rating_d 停止授信）",
    ] {
        assert!(chinese.contains(expected), "{expected} in {chinese}");
    }
}

#[test]
fn missing_inputs_show_as_missing_with_what_their_policy_did() {
    let assessment = assess(
        &fixture::model(),
        &snapshot(customer_with_gaps()),
        Locale::En,
    );
    let lines = criterion_table(&assessment, Locale::En);
    // Kept weights 30 + 20 + 10 = 60 of 100 once rating and sales are dropped.
    let on_time = row_of(&lines, "On-time payment rate");
    assert_eq!(on_time[1..3], ["missing", "counted as zero"]);
    assert_eq!(on_time[4], "50 % (model 30 %)");
    let overdue = row_of(&lines, "Longest overdue");
    assert_eq!(overdue[1..4], ["missing", "counted as neutral", "50.00"]);
    let rating = row_of(&lines, "Credit rating");
    assert_eq!(
        rating[1..5],
        [
            "missing",
            "left out, re-weighted",
            "0.00",
            "0 % (model 20 %)"
        ]
    );
    let report = explain(&assessment, Locale::En);
    assert!(
        report.contains("Credit limit: 0 (neither sales in the last 12 months nor an annual"),
        "{report}"
    );
    let chinese = criterion_table(&assessment, Locale::ZhCn);
    assert_eq!(
        row_of(&chinese, "信用评级")[1..3],
        ["缺失", "不计入，重新加权"]
    );
}

#[test]
fn explaining_the_same_assessment_twice_gives_the_same_text() {
    for assessment in assessments(Locale::En) {
        assert_eq!(
            explain(&assessment, Locale::ZhCn),
            explain(&assessment, Locale::ZhCn)
        );
    }
}

#[rstest]
#[case("0", "0")]
#[case("999", "999")]
#[case("1000", "1,000")]
#[case("1500000", "1,500,000")]
#[case("273518.40", "273,518.4")]
#[case("-1234.5", "-1,234.5")]
fn money_is_written_in_groups_of_thousands(#[case] amount: &str, #[case] text: &str) {
    assert_eq!(grouped(d(amount)), text);
}

#[rstest]
#[case(None, Some("80"), false, "< 80")]
#[case(None, Some("80"), true, "<= 80")]
#[case(Some("90"), Some("95"), false, "[90, 95)")]
#[case(Some("95"), Some("100"), true, "[95, 100]")]
#[case(Some("1000000"), None, false, ">= 1,000,000")]
fn a_band_is_written_in_plain_ascii(
    #[case] lower: Option<&str>,
    #[case] upper: Option<&str>,
    #[case] upper_inclusive: bool,
    #[case] text: &str,
) {
    let band = Band {
        lower: lower.map(d),
        upper: upper.map(d),
        upper_inclusive,
        points: Decimal::ZERO,
    };
    assert_eq!(interval(&band), text);
}
