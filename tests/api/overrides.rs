//! Grade overrides over the real socket: a person sets the grade that counts beside the
//! computed one, every query shows both, an override ends when revoked or when it expires,
//! and its record stays.

use std::time::Duration;

use chrono::Utc;
use custgrade::proto::custgrade::v1::{
    CustomerGrade, GetCustomerGradeRequest, GetGradeDistributionRequest, GradeOverride,
    ListCustomerGradesRequest, ListGradeOverridesRequest, OverrideGradeRequest, PortfolioFilter,
    RevokeGradeOverrideRequest, grade_override::State,
};
use tonic::{Code, Status};

use crate::{
    assessments::{assess, record, sound_figures},
    customers::{create, customer},
    figures::{cny, create_customer},
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
fn to_a(seconds: i64) -> GradeOverride {
    GradeOverride {
        grade: "A".to_owned(),
        credit_limit: cny(900_000),
        reason: "strategic account; parent company guarantees payment".to_owned(),
        expire_time: in_seconds(seconds),
        ..GradeOverride::default()
    }
}

async fn try_override(
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

async fn grade_of(app: &TestApp, customer: &str) -> CustomerGrade {
    app.assessments
        .clone()
        .get_customer_grade(GetCustomerGradeRequest {
            customer: customer.to_owned(),
        })
        .await
        .expect("a current grade")
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
async fn graded_b(app: &TestApp) -> (String, String) {
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

    let grade = grade_of(&app, &customer).await;
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
    let regraded = grade_of(&app, &customer).await;
    assert_eq!(
        (regraded.grade.as_str(), regraded.computed_grade.as_str()),
        ("A", "B")
    );
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

    let grade = grade_of(&app, &customer).await;
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
    assert_eq!(grade_of(&app, &customer).await.grade, "A");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let grade = grade_of(&app, &customer).await;
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

on_every_backend!(
    an_override_is_the_grade_that_counts_and_the_computed_one_stays_beside_it,
    a_revoked_override_stops_applying_and_stays_on_record,
    an_override_expires_by_itself,
    overrides_are_refused_when_they_cannot_apply,
);
