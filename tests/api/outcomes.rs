//! OutcomeService over the real socket: outcomes recorded as facts, and a validation report
//! whose rates and AUC are recomputed here from the scores and outcomes of a generated book,
//! the AUC by its pairwise definition.

use chrono::{Days, Utc};
use custgrade::proto::custgrade::v1::{
    Figures, GetValidationReportRequest, ListOutcomesRequest, Outcome, OutcomeKind,
    RecordOutcomeRequest, ValidationReport,
};
use tonic::{Code, Status};

use crate::{
    assessments::{assess, record, sound_figures},
    figures::{create_customer, date, proto_date},
    helpers::{TestApp, bad_request_fields, fields},
    on_every_backend,
};

const EXISTING_V1: &str = "models/existing-customers/versions/1";

pub fn outcome(kind: OutcomeKind, day: chrono::NaiveDate) -> Outcome {
    Outcome {
        kind: kind.into(),
        occur_date: Some(proto_date(day)),
        ..Outcome::default()
    }
}

pub async fn try_record(
    app: &TestApp,
    customer: &str,
    outcome: Outcome,
    request_id: &str,
) -> Result<Outcome, Status> {
    app.outcomes
        .clone()
        .record_outcome(RecordOutcomeRequest {
            parent: customer.to_owned(),
            outcome: Some(outcome),
            request_id: request_id.to_owned(),
        })
        .await
        .map(tonic::Response::into_inner)
}

pub fn today() -> chrono::NaiveDate {
    Utc::now().date_naive()
}

// ---------------------------------------------------------------------------------------------

async fn outcomes_are_facts_recorded_once_and_listed_newest_first(app: TestApp) {
    let customer = create_customer(&app).await;
    let late = Outcome {
        days_late: 45,
        note: "invoice 2026-118".to_owned(),
        ..outcome(OutcomeKind::LatePayment, date(2026, 6, 1).try_into_naive())
    };
    let first = try_record(&app, &customer, late.clone(), "late-1")
        .await
        .expect("recorded");
    let retry = try_record(&app, &customer, late, "late-1")
        .await
        .expect("recorded");
    assert_eq!(retry, first);
    assert!(first.name.starts_with(&format!("{customer}/outcomes/")));
    let churn = try_record(
        &app,
        &customer,
        outcome(OutcomeKind::Churn, date(2026, 9, 1).try_into_naive()),
        "",
    )
    .await
    .expect("recorded");
    let listed: Vec<String> = app
        .outcomes
        .clone()
        .list_outcomes(ListOutcomesRequest {
            parent: customer.clone(),
            ..ListOutcomesRequest::default()
        })
        .await
        .expect("listed")
        .into_inner()
        .outcomes
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(listed, vec![churn.name, first.name]);

    let bad = Outcome {
        kind: OutcomeKind::LatePayment.into(),
        occur_date: Some(proto_date(today() + Days::new(5))),
        note: "x".repeat(501),
        ..Outcome::default()
    };
    let status = try_record(&app, &customer, bad, "").await.unwrap_err();
    assert_eq!(
        bad_request_fields(&status),
        fields(&["outcome.occur_date", "outcome.days_late", "outcome.note"])
    );
    let unknown = format!("customers/{}", uuid::Uuid::now_v7());
    let status = try_record(&app, &unknown, outcome(OutcomeKind::Churn, today()), "")
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
}

/// 40 customers graded today, their on-time payment rate stepping through the bands so the
/// scores differ; a default dated tomorrow follows every third customer and every customer
/// under 75 points, one dated before the grading follows nobody.
async fn the_validation_report_matches_an_independent_computation(app: TestApp) {
    let mut book: Vec<(String, i64, String, bool)> = Vec::new();
    for index in 0..40_u32 {
        let customer = create_customer(&app).await;
        let figures = Figures {
            on_time_payment_rate_percent: Some(60.0 + f64::from(index)),
            longest_overdue_days: Some(i32::try_from(index % 5).unwrap() * 20),
            ..sound_figures()
        };
        record(&app, &customer, figures, false).await;
        let graded = assess(&app, &customer).await;
        let score = {
            let (units, cents) = graded.total_score.split_once('.').unwrap();
            units.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap()
        };
        let defaulted = index % 3 == 0 || score < 7500;
        if defaulted {
            let tomorrow = today() + Days::new(1);
            try_record(&app, &customer, outcome(OutcomeKind::Default, tomorrow), "")
                .await
                .expect("recorded");
        } else {
            let before = today() - Days::new(30);
            try_record(&app, &customer, outcome(OutcomeKind::Default, before), "")
                .await
                .expect("recorded");
        }
        book.push((customer, score, graded.grade, defaulted));
    }

    let report = defaults_of_todays_gradings(&app).await;

    let bad = book.iter().filter(|c| c.3).count();
    assert_eq!(report.customer_count, 40);
    assert_eq!(report.outcome_count, i64::try_from(bad).unwrap());

    let goods: Vec<i64> = book.iter().filter(|c| !c.3).map(|c| c.1).collect();
    let bads: Vec<i64> = book.iter().filter(|c| c.3).map(|c| c.1).collect();
    assert_eq!(report.auc, pairwise_auc(&goods, &bads));

    let mut per_grade: std::collections::BTreeMap<&str, (i64, i64)> = Default::default();
    for (_, _, grade, defaulted) in &book {
        let entry = per_grade.entry(grade.as_str()).or_default();
        entry.0 += 1;
        entry.1 += i64::from(*defaulted);
    }
    let got: Vec<(&str, i64, i64)> = report
        .grades
        .iter()
        .map(|g| (g.grade.as_str(), g.customer_count, g.outcome_count))
        .collect();
    let want: Vec<(&str, i64, i64)> = per_grade.iter().map(|(g, (n, o))| (*g, *n, *o)).collect();
    assert_eq!(got, want);

    let status = app
        .outcomes
        .clone()
        .get_validation_report(GetValidationReportRequest {
            model_version: "models/existing-customers".to_owned(),
            outcome_kind: 0,
            min_days_late: -1,
            assessed_from: Some(proto_date(today())),
            assessed_until: Some(proto_date(today())),
            horizon_months: 61,
        })
        .await
        .unwrap_err();
    assert_eq!(
        bad_request_fields(&status),
        fields(&[
            "model_version",
            "outcome_kind",
            "min_days_late",
            "assessed_until",
            "horizon_months"
        ])
    );
}

/// How version 1 of the default model, grading today, predicted defaults within a year.
pub async fn defaults_of_todays_gradings(app: &TestApp) -> ValidationReport {
    app.outcomes
        .clone()
        .get_validation_report(GetValidationReportRequest {
            model_version: EXISTING_V1.to_owned(),
            outcome_kind: OutcomeKind::Default.into(),
            min_days_late: 0,
            // A day either side, in case the run crosses midnight (UTC).
            assessed_from: Some(proto_date(today() - Days::new(1))),
            assessed_until: Some(proto_date(today() + Days::new(2))),
            horizon_months: 12,
        })
        .await
        .expect("a report")
        .into_inner()
}

/// The AUC by definition, to four decimals: over every (no outcome, outcome) pair of scores
/// (in cents), 1 when the first is higher, a half when equal.
pub fn pairwise_auc(goods: &[i64], bads: &[i64]) -> String {
    let mut half_pairs = 0_i64;
    for good in goods {
        for bad in bads {
            half_pairs += match good.cmp(bad) {
                std::cmp::Ordering::Greater => 2,
                std::cmp::Ordering::Equal => 1,
                std::cmp::Ordering::Less => 0,
            };
        }
    }
    let pairs = i64::try_from(goods.len() * bads.len()).unwrap();
    // Half away from zero: round(half_pairs / (2 × pairs) × 10 000).
    let scaled = (half_pairs * 10_000 * 2 + 2 * pairs) / (4 * pairs);
    format!("{}.{:04}", scaled / 10_000, scaled % 10_000)
}

/// `google.type.Date` to chrono, for dates the test writes out.
trait IntoNaive {
    fn try_into_naive(self) -> chrono::NaiveDate;
}

impl IntoNaive for custgrade::proto::google::r#type::Date {
    fn try_into_naive(self) -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(
            self.year,
            u32::try_from(self.month).unwrap(),
            u32::try_from(self.day).unwrap(),
        )
        .unwrap()
    }
}

on_every_backend!(
    outcomes_are_facts_recorded_once_and_listed_newest_first,
    the_validation_report_matches_an_independent_computation,
);
