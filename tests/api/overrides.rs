//! Grade overrides over the real socket: a person sets the grade that counts beside the
//! computed one, every query shows both, an override ends when revoked or when it expires,
//! and its record stays.

use std::time::Duration;

use chrono::Utc;
use custgrade::proto::custgrade::v1::{
    GetGradeDistributionRequest, GetOverrideReportRequest, GradeOverride,
    ListCustomerGradesRequest, ListGradeOverridesRequest, Outcome, OutcomeKind, OverrideCounts,
    OverrideGradeRequest, OverrideReport, PortfolioFilter, RecordOutcomeRequest,
    RevokeGradeOverrideRequest, grade_override::State,
};
use tonic::{Code, Status};

use crate::{
    assessments::{assess, current_grade, record, sound_figures},
    customers::{create, customer},
    figures::{cny, create_customer, proto_date},
    helpers::{TestApp, bad_request_fields, fields, unique},
    on_every_backend,
};

fn in_seconds(seconds: i64) -> Option<prost_types::Timestamp> {
    let at = Utc::now() + chrono::Duration::seconds(seconds);
    Some(prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    })
}

/// An override to A with a limit of 900 000, for `seconds`.
pub(crate) fn to_a(seconds: i64) -> GradeOverride {
    GradeOverride {
        grade: "A".to_owned(),
        credit_limit: cny(900_000),
        reason: "strategic account; parent company guarantees payment".to_owned(),
        expire_time: in_seconds(seconds),
        ..GradeOverride::default()
    }
}

pub(crate) async fn try_override(
    app: &TestApp,
    customer: &str,
    wanted: GradeOverride,
) -> Result<GradeOverride, Status> {
    app.assessments
        .clone()
        .override_grade(OverrideGradeRequest {
            parent: customer.to_owned(),
            grade_override: Some(wanted),
            request_id: String::new(),
        })
        .await
        .map(tonic::Response::into_inner)
}

/// Revokes override `name`, "guarantee withdrawn".
pub(crate) async fn revoke(app: &TestApp, name: String) -> GradeOverride {
    app.assessments
        .clone()
        .revoke_grade_override(RevokeGradeOverrideRequest {
            name,
            reason: "guarantee withdrawn".to_owned(),
        })
        .await
        .expect("revoked")
        .into_inner()
}

async fn history(app: &TestApp, customer: &str) -> Vec<GradeOverride> {
    app.assessments
        .clone()
        .list_grade_overrides(ListGradeOverridesRequest {
            parent: customer.to_owned(),
            ..ListGradeOverridesRequest::default()
        })
        .await
        .expect("listed")
        .into_inner()
        .grade_overrides
}

/// A sound customer (computed B, limit 500 000) in an industry of its own.
pub(crate) async fn graded_b(app: &TestApp) -> (String, String) {
    let industry = unique("overrides");
    let name = create(app, customer(&industry)).await.name;
    record(app, &name, sound_figures(), false).await;
    assert_eq!(assess(app, &name).await.grade, "B");
    (name, industry)
}

async fn listed_with_grade(app: &TestApp, industry: &str, grade: &str) -> Vec<String> {
    app.portfolio
        .clone()
        .list_customer_grades(ListCustomerGradesRequest {
            filter: Some(PortfolioFilter {
                industry: industry.to_owned(),
                grade: grade.to_owned(),
                ..PortfolioFilter::default()
            }),
            ..ListCustomerGradesRequest::default()
        })
        .await
        .expect("listed")
        .into_inner()
        .customer_grades
        .into_iter()
        .map(|grade| grade.customer)
        .collect()
}

// ---------------------------------------------------------------------------------------------

async fn an_override_is_the_grade_that_counts_and_the_computed_one_stays_beside_it(app: TestApp) {
    let (customer, industry) = graded_b(&app).await;
    let set = try_override(&app, &customer, to_a(3600))
        .await
        .expect("overridden");
    assert!(set.name.starts_with(&format!("{customer}/gradeOverrides/")));
    assert_eq!(set.state(), State::Active);
    assert_eq!(
        set.author, "anonymous",
        "the caller's identity, not the body's"
    );
    assert_eq!(set.computed_grade, "B");

    let grade = current_grade(&app, &customer).await;
    assert_eq!(
        (grade.grade.as_str(), grade.computed_grade.as_str()),
        ("A", "B")
    );
    assert_eq!(grade.credit_limit.map(|m| m.units), Some(900_000));
    assert_eq!(grade.computed_credit_limit.map(|m| m.units), Some(500_000));
    assert_eq!(grade.grade_override.map(|o| o.name), Some(set.name.clone()));

    assert_eq!(
        listed_with_grade(&app, &industry, "A").await,
        vec![customer.clone()]
    );
    assert!(listed_with_grade(&app, &industry, "B").await.is_empty());
    let spread = app
        .portfolio
        .clone()
        .get_grade_distribution(GetGradeDistributionRequest {
            filter: Some(PortfolioFilter {
                industry: industry.clone(),
                ..PortfolioFilter::default()
            }),
            currency_code: String::new(),
            as_of_time: None,
        })
        .await
        .expect("a distribution")
        .into_inner();
    let grades: Vec<(String, i64)> = spread
        .grades
        .iter()
        .map(|share| (share.grade.clone(), share.customer_count))
        .collect();
    assert_eq!(grades, vec![("A".to_owned(), 1)]);

    // A new assessment does not end the override.
    assess(&app, &customer).await;
    let regraded = current_grade(&app, &customer).await;
    assert_eq!(
        (regraded.grade.as_str(), regraded.computed_grade.as_str()),
        ("A", "B")
    );
}

/// The current grade read before and after each change shows that change at once: a new
/// assessment, an override, its revocation. (A server on SQLite answers these reads from
/// memory; this is the test that it is told of every change.)
async fn the_current_grade_shows_each_change_as_soon_as_it_is_made(app: TestApp) {
    each_change_shows_at_once(&app, &app).await;
}

/// Changes made through `writer` (an assessment, an override, its revocation), each read
/// back through `reader` at once, with the grade read before each change kept in memory.
pub(crate) async fn each_change_shows_at_once(writer: &TestApp, reader: &TestApp) {
    let (customer, _) = graded_b(writer).await;
    let first = current_grade(reader, &customer).await;
    assert_eq!(current_grade(reader, &customer).await, first, "read again");

    let reassessed = assess(writer, &customer).await;
    let after_assessment = current_grade(reader, &customer).await;
    assert_ne!(after_assessment.assessment, first.assessment);
    assert_eq!(after_assessment.assessment, reassessed.name);
    assert_eq!(current_grade(reader, &customer).await, after_assessment);

    let set = try_override(writer, &customer, to_a(3600))
        .await
        .expect("overridden");
    let overridden = current_grade(reader, &customer).await;
    assert_eq!(overridden.grade, "A");
    assert_eq!(
        overridden.grade_override.map(|o| o.name),
        Some(set.name.clone())
    );

    revoke(writer, set.name).await;
    let revoked = current_grade(reader, &customer).await;
    assert_eq!(revoked.grade, "B");
    assert!(revoked.grade_override.is_none(), "{revoked:?}");
}

async fn a_revoked_override_stops_applying_and_stays_on_record(app: TestApp) {
    let (customer, _) = graded_b(&app).await;
    let set = try_override(&app, &customer, to_a(3600))
        .await
        .expect("overridden");
    let status = try_override(&app, &customer, to_a(600)).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(status.message().contains("revoke it"), "{status:?}");

    let revoke = RevokeGradeOverrideRequest {
        name: set.name.clone(),
        reason: "guarantee withdrawn".to_owned(),
    };
    let revoked = app
        .assessments
        .clone()
        .revoke_grade_override(revoke.clone())
        .await
        .expect("revoked")
        .into_inner();
    assert_eq!(revoked.state(), State::Revoked);
    assert_eq!(revoked.revoked_by, "anonymous");
    assert_eq!(revoked.revoke_reason, "guarantee withdrawn");
    let again = app
        .assessments
        .clone()
        .revoke_grade_override(revoke)
        .await
        .expect("revoking again is fine")
        .into_inner();
    assert_eq!(again.revoke_time, revoked.revoke_time);

    let grade = current_grade(&app, &customer).await;
    assert_eq!(grade.grade, "B");
    assert!(grade.grade_override.is_none());

    let second = try_override(&app, &customer, to_a(600))
        .await
        .expect("a new one");
    let names: Vec<(String, State)> = history(&app, &customer)
        .await
        .into_iter()
        .map(|o| (o.name.clone(), o.state()))
        .collect();
    assert_eq!(
        names,
        vec![(second.name, State::Active), (set.name, State::Revoked)]
    );
}

async fn an_override_expires_by_itself(app: TestApp) {
    let (customer, _) = graded_b(&app).await;
    try_override(&app, &customer, to_a(2))
        .await
        .expect("overridden");
    assert_eq!(current_grade(&app, &customer).await.grade, "A");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let grade = current_grade(&app, &customer).await;
    assert_eq!(grade.grade, "B");
    assert!(grade.grade_override.is_none());
    let states: Vec<State> = history(&app, &customer)
        .await
        .iter()
        .map(GradeOverride::state)
        .collect();
    assert_eq!(states, vec![State::Expired]);
}

async fn overrides_are_refused_when_they_cannot_apply(app: TestApp) {
    let never_assessed = create_customer(&app).await;
    let status = try_override(&app, &never_assessed, to_a(600))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");

    let (customer, _) = graded_b(&app).await;
    let unknown_grade = GradeOverride {
        grade: "E".to_owned(),
        ..to_a(600)
    };
    let status = try_override(&app, &customer, unknown_grade)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(status.message().contains("A, B, C, D"), "{status:?}");

    let malformed = GradeOverride {
        grade: String::new(),
        credit_limit: cny(-1),
        reason: String::new(),
        expire_time: in_seconds(-60),
        ..GradeOverride::default()
    };
    let status = try_override(&app, &customer, malformed).await.unwrap_err();
    assert_eq!(
        bad_request_fields(&status),
        fields(&[
            "grade_override.grade",
            "grade_override.reason",
            "grade_override.credit_limit",
            "grade_override.expire_time",
        ])
    );
    let status = app
        .assessments
        .clone()
        .revoke_grade_override(RevokeGradeOverrideRequest {
            name: format!("{customer}/gradeOverrides/{}", uuid::Uuid::now_v7()),
            reason: "x".to_owned(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
}

fn counts(key: &str, total: i64, up: i64, down: i64, same: i64) -> OverrideCounts {
    OverrideCounts {
        key: key.to_owned(),
        override_count: total,
        upgraded_count: up,
        downgraded_count: down,
        same_grade_count: same,
    }
}

async fn try_report(
    app: &TestApp,
    request: GetOverrideReportRequest,
) -> Result<OverrideReport, Status> {
    app.portfolio
        .clone()
        .get_override_report(request)
        .await
        .map(tonic::Response::into_inner)
}

/// Six customers graded B. Two are raised to A for a guarantee (one of those revoked
/// later), one lowered to D, one keeps B with a new limit; two are left alone. A default
/// follows one raised customer and one left alone.
async fn the_override_report_counts_directions_and_judges_them_by_outcomes(app: TestApp) {
    let industry = unique("override-report");
    let mut names = Vec::new();
    for _ in 0..6 {
        let name = create(&app, customer(&industry)).await.name;
        record(&app, &name, sound_figures(), false).await;
        assert_eq!(assess(&app, &name).await.grade, "B");
        names.push(name);
    }
    let with = |grade: &str, reason: &str| GradeOverride {
        grade: grade.to_owned(),
        reason: reason.to_owned(),
        ..to_a(3600)
    };
    try_override(&app, &names[0], with("A", "guarantee"))
        .await
        .unwrap();
    let revoked = try_override(&app, &names[1], with("A", "guarantee"))
        .await
        .unwrap();
    try_override(&app, &names[2], with("D", "fraud suspicion"))
        .await
        .unwrap();
    try_override(&app, &names[3], with("B", "limit only"))
        .await
        .unwrap();
    app.assessments
        .clone()
        .revoke_grade_override(RevokeGradeOverrideRequest {
            name: revoked.name,
            reason: "guarantee withdrawn".to_owned(),
        })
        .await
        .expect("revoked");
    let tomorrow = Utc::now().date_naive() + chrono::Duration::days(1);
    for defaulted in [&names[0], &names[4]] {
        app.outcomes
            .clone()
            .record_outcome(RecordOutcomeRequest {
                parent: defaulted.clone(),
                outcome: Some(Outcome {
                    kind: OutcomeKind::Default.into(),
                    occur_date: Some(proto_date(tomorrow)),
                    ..Outcome::default()
                }),
                request_id: String::new(),
            })
            .await
            .expect("recorded");
    }

    let filter = PortfolioFilter {
        industry: industry.clone(),
        ..PortfolioFilter::default()
    };
    let report = try_report(
        &app,
        GetOverrideReportRequest {
            filter: Some(filter.clone()),
            outcome_kind: OutcomeKind::Default.into(),
            horizon_months: 12,
            ..GetOverrideReportRequest::default()
        },
    )
    .await
    .expect("a report");
    assert_eq!(report.overrides, Some(counts("", 4, 2, 1, 1)));
    assert_eq!(report.revoked_count, 1);
    assert_eq!(report.by_author, [counts("anonymous", 4, 2, 1, 1)]);
    assert_eq!(
        report.by_reason,
        [
            counts("fraud suspicion", 1, 0, 1, 0),
            counts("guarantee", 2, 2, 0, 0),
            counts("limit only", 1, 0, 0, 1),
        ]
    );
    assert_eq!(
        (
            report.graded_customer_count,
            report.overridden_customer_count,
            report.overridden_share_percent.as_str()
        ),
        (6, 3, "50.00"),
        "the revoked override no longer applies"
    );
    let cells: Vec<(&str, &str, i64, i64, &str)> = report
        .outcomes
        .iter()
        .map(|cell| {
            (
                cell.computed_grade.as_str(),
                cell.grade.as_str(),
                cell.override_count,
                cell.outcome_count,
                cell.rate_percent.as_str(),
            )
        })
        .collect();
    assert_eq!(
        cells,
        [
            ("B", "A", 2, 1, "50.00"),
            ("B", "B", 1, 0, "0.00"),
            ("B", "D", 1, 0, "0.00"),
        ]
    );
    let alone: Vec<(&str, i64, i64, &str)> = report
        .not_overridden
        .iter()
        .map(|rate| {
            (
                rate.grade.as_str(),
                rate.customer_count,
                rate.outcome_count,
                rate.rate_percent.as_str(),
            )
        })
        .collect();
    assert_eq!(alone, [("B", 2, 1, "50.00")], "the two left alone");

    // A period with no overrides still sizes the book, and judges nothing unasked.
    let later = try_report(
        &app,
        GetOverrideReportRequest {
            filter: Some(filter),
            start_time: in_seconds(3600),
            end_time: in_seconds(7200),
            ..GetOverrideReportRequest::default()
        },
    )
    .await
    .expect("a report");
    assert_eq!(later.overrides, Some(counts("", 0, 0, 0, 0)));
    assert_eq!(later.graded_customer_count, 6);
    assert!(later.outcomes.is_empty() && later.not_overridden.is_empty());

    let status = try_report(
        &app,
        GetOverrideReportRequest {
            filter: Some(PortfolioFilter {
                grade: "A".to_owned(),
                ..PortfolioFilter::default()
            }),
            start_time: in_seconds(60),
            end_time: in_seconds(0),
            horizon_months: 12,
            ..GetOverrideReportRequest::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        bad_request_fields(&status),
        fields(&["filter.grade", "end_time", "outcome_kind"])
    );
    let status = try_report(
        &app,
        GetOverrideReportRequest {
            outcome_kind: OutcomeKind::Churn.into(),
            horizon_months: 61,
            ..GetOverrideReportRequest::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(bad_request_fields(&status), fields(&["horizon_months"]));
    let status = try_report(
        &app,
        GetOverrideReportRequest {
            start_time: in_seconds(3600),
            ..GetOverrideReportRequest::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(bad_request_fields(&status), fields(&["start_time"]));
}

on_every_backend!(
    an_override_is_the_grade_that_counts_and_the_computed_one_stays_beside_it,
    the_current_grade_shows_each_change_as_soon_as_it_is_made,
    a_revoked_override_stops_applying_and_stays_on_record,
    an_override_expires_by_itself,
    overrides_are_refused_when_they_cannot_apply,
    the_override_report_counts_directions_and_judges_them_by_outcomes,
);
