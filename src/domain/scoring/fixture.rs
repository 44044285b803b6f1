//! A small scoring model and snapshots for the tests: one criterion per mapping kind and per
//! missing policy, the three knock-outs of the domain page and a review flag. Not a production
//! model: those are data files, written and justified elsewhere.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::{
    input::Input,
    knockout::{Comparison, Condition, Effect, KnockOut},
    mapping::{Band, CurvePoint, Mapping},
    model::{Criterion, GradeThreshold, MissingPolicy, ScoringModel},
    policy::{CreditLimitRule, GradePolicy},
};
use crate::domain::figures::{CreditRating, FigureSet, FiguresSnapshot};

pub fn d(text: &str) -> Decimal {
    text.parse().unwrap_or_default()
}

pub fn band(lower: Option<&str>, upper: Option<&str>, points: &str) -> Band {
    Band {
        lower: lower.map(d),
        upper: upper.map(d),
        upper_inclusive: false,
        points: d(points),
    }
}

fn criterion(
    key: &str,
    input: Input,
    weight: &str,
    mapping: Mapping,
    missing: MissingPolicy,
) -> Criterion {
    Criterion {
        key: key.into(),
        input,
        weight_percent: d(weight),
        mapping,
        missing,
        higher_is_better: true,
    }
}

fn table(entries: &[(&str, &str)], default: Option<&str>) -> Mapping {
    Mapping::Lookup {
        entries: entries
            .iter()
            .map(|(k, v)| ((*k).to_owned(), d(v)))
            .collect(),
        default: default.map(d),
    }
}

fn condition(input: Input, op: Comparison, value: Option<&str>) -> Condition {
    Condition {
        input,
        op,
        value: value.map(str::to_owned),
    }
}

fn knock_out(key: &str, when_any: Vec<Condition>, effect: Effect) -> KnockOut {
    KnockOut {
        key: key.into(),
        description_en: format!("{key} (en)"),
        description_zh: format!("{key}（中文）"),
        when_any,
        effect,
    }
}

fn policy(months: &str, terms: u32, service: &str) -> GradePolicy {
    GradePolicy {
        credit_limit: CreditLimitRule {
            months_of_purchases: d(months),
            cap_percent_of_net_assets: Some(d("20")),
            cap_percent_of_revenue: None,
            round_down_to: d("1000"),
        },
        payment_terms_days: terms,
        service_level: service.into(),
    }
}

/// Weights 30 / 20 / 20 / 20 / 10:
/// - `on_time_payment` (bands): below 80 → 0, [80, 90) → 40, [90, 95) → 80, [95, 100] → 100;
///   missing counts as zero.
/// - `longest_overdue` (curve, lower is better): 0 days → 100, 30 → 60, 90 → 0; missing is
///   neutral 50.
/// - `credit_rating` (lookup): AAA 100, AA 90, A 80, BBB 60, BB 40, B 20, D 0, others 10;
///   missing is dropped.
/// - `sales` (bands): below 100 000 → 0, [100 000, 1 000 000) → 50, 1 000 000 and more → 100;
///   missing is dropped.
/// - `strategic_fit` (lookup on a 1-5 scale): 1 → 0, 2 → 25, 3 → 50, 4 → 75, 5 → 100;
///   missing is neutral 50.
///
/// Grades A ≥ 85, B ≥ 70, C ≥ 55, D ≥ 0. Knock-outs: overdue > 90 days caps at D; rating D
/// blocks credit; statements missing or false caps at C; a net loss flags a review.
pub fn model() -> ScoringModel {
    let mut top_band = band(Some("95"), Some("100"), "100");
    top_band.upper_inclusive = true;
    let mut overdue = criterion(
        "longest_overdue",
        Input::LongestOverdueDays,
        "20",
        Mapping::Curve(vec![
            CurvePoint {
                x: d("0"),
                points: d("100"),
            },
            CurvePoint {
                x: d("30"),
                points: d("60"),
            },
            CurvePoint {
                x: d("90"),
                points: d("0"),
            },
        ]),
        MissingPolicy::Neutral { points: d("50") },
    );
    overdue.higher_is_better = false;
    ScoringModel {
        name: "models/test".into(),
        version: "v1".into(),
        criteria: vec![
            criterion(
                "on_time_payment",
                Input::OnTimePaymentRatePercent,
                "30",
                Mapping::Bands(vec![
                    band(None, Some("80"), "0"),
                    band(Some("80"), Some("90"), "40"),
                    band(Some("90"), Some("95"), "80"),
                    top_band,
                ]),
                MissingPolicy::Zero,
            ),
            overdue,
            criterion(
                "credit_rating",
                Input::CreditRating,
                "20",
                table(
                    &[
                        ("AAA", "100"),
                        ("AA", "90"),
                        ("A", "80"),
                        ("BBB", "60"),
                        ("BB", "40"),
                        ("B", "20"),
                        ("D", "0"),
                    ],
                    Some("10"),
                ),
                MissingPolicy::Drop,
            ),
            criterion(
                "sales",
                Input::SalesLast12Months,
                "20",
                Mapping::Bands(vec![
                    band(None, Some("100000"), "0"),
                    band(Some("100000"), Some("1000000"), "50"),
                    band(Some("1000000"), None, "100"),
                ]),
                MissingPolicy::Drop,
            ),
            criterion(
                "strategic_fit",
                Input::StrategicFit,
                "10",
                table(
                    &[
                        ("1", "0"),
                        ("2", "25"),
                        ("3", "50"),
                        ("4", "75"),
                        ("5", "100"),
                    ],
                    None,
                ),
                MissingPolicy::Neutral { points: d("50") },
            ),
        ],
        grades: [("A", "85"), ("B", "70"), ("C", "55"), ("D", "0")]
            .into_iter()
            .map(|(grade, min)| GradeThreshold {
                grade: grade.into(),
                min_score: d(min),
            })
            .collect(),
        knock_outs: vec![
            knock_out(
                "overdue_over_90_days",
                vec![condition(
                    Input::LongestOverdueDays,
                    Comparison::Gt,
                    Some("90"),
                )],
                Effect::CapGrade("D".into()),
            ),
            knock_out(
                "rating_d",
                vec![condition(Input::CreditRating, Comparison::Eq, Some("D"))],
                Effect::BlockCredit,
            ),
            knock_out(
                "no_financial_statements",
                vec![
                    condition(
                        Input::FinancialStatementsProvided,
                        Comparison::IsMissing,
                        None,
                    ),
                    condition(
                        Input::FinancialStatementsProvided,
                        Comparison::Eq,
                        Some("false"),
                    ),
                ],
                Effect::CapGrade("C".into()),
            ),
            knock_out(
                "net_loss",
                vec![condition(
                    Input::NetProfitMarginPercent,
                    Comparison::Lt,
                    Some("0"),
                )],
                Effect::FlagReview,
            ),
        ],
        policies: [
            ("A", policy("3", 90, "strategic account team")),
            ("B", policy("2", 60, "key account manager")),
            ("C", policy("1", 30, "standard service")),
            ("D", policy("0", 0, "cash in advance")),
        ]
        .into_iter()
        .map(|(grade, policy)| (grade.to_owned(), policy))
        .collect(),
        validity_months: 12,
    }
}

/// A good customer: on-time 92 % (80 points), overdue 15 days (100 + (60 − 100) × 15 / 30
/// = 80), rating AA (90), sales 1 200 000 (100), strategic fit 4 (75), statements provided.
/// Total 24 + 16 + 18 + 20 + 7.5 = 85.5: grade A.
pub fn good_figures() -> FigureSet {
    FigureSet {
        on_time_payment_rate_percent: Some(92.0),
        longest_overdue_days: Some(15),
        credit_rating: Some(CreditRating::Aa),
        sales_last_12_months: Some(d("1200000")),
        strategic_fit: Some(4),
        financial_statements_provided: Some(true),
        ..FigureSet::default()
    }
}

pub fn snapshot(figures: FigureSet) -> FiguresSnapshot {
    FiguresSnapshot {
        as_of: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap_or_default(),
        source: "test".into(),
        currency: Some("CNY".into()),
        figures,
    }
}
