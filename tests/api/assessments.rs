//! AssessmentService over the real socket: grading customers with the default models on
//! hand-computed cases, knock-outs, missing inputs under each policy, reason codes, history,
//! the current grade, idempotent retries, reproducibility and the officer's report.
//!
//! Every expected number below is worked out from `models/existing-customers.yaml` in the
//! comments beside it, not copied from the server's output.

use chrono::{Months, NaiveDate};
use custgrade::proto::custgrade::v1::{
    AssessCustomerRequest, Assessment, CreditRating, CriterionResult, CustomerGrade, CustomerKind,
    ExplainAssessmentRequest, Figures, GetAssessmentRequest, GetCustomerGradeRequest,
    KnockOutEffect, ListAssessmentsRequest, MissingTreatment, RecordFiguresRequest,
    ZeroLimitReason,
};
use tonic::{Code, Status};

use crate::{
    customers::{create, customer},
    figures::{cny, create_customer, delete, proto_date},
    helpers::{TestApp, bad_request_fields, fields},
    on_every_backend,
};

const EXISTING_V1: &str = "models/existing-customers/versions/1";

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 9, 30).expect("a date")
}

/// A sound existing customer. With the default model:
///
/// | criterion | value | matched | points | weight | contribution |
/// |---|---|---|---|---|---|
/// | sales_contribution | 3 000 000 | [2 000 000, 5 000 000) | 80 | 25 | 20.00 |
/// | gross_margin | 25 % | curve 20→70 .. 35→100: 70 + 5/15 × 30 | 80 | 15 | 12.00 |
/// | on_time_payment | 96.5 % | [95, 98) | 90 | 20 | 18.00 |
/// | longest_overdue | 10 days | [1, 16) | 85 | 15 | 12.75 |
/// | cooperation_years | 4 | [3, 5) | 75 | 10 | 7.50 |
/// | credit_rating | AA | entry AA | 90 | 10 | 9.00 |
/// | revenue_growth | 5 % | curve 0→40 .. 10→70: 40 + 5/10 × 30 | 55 | 5 | 2.75 |
///
/// Total 82.00: B (70 ≤ 82 < 85).
pub(crate) fn sound_figures() -> Figures {
    Figures {
        as_of_date: Some(proto_date(as_of())),
        sales_last_12_months: cny(3_000_000),
        gross_margin_percent: Some(25.0),
        on_time_payment_rate_percent: Some(96.5),
        longest_overdue_days: Some(10),
        cooperation_years: Some(4.0),
        credit_rating: CreditRating::Aa.into(),
        revenue_growth_percent: Some(5.0),
        financial_statements_provided: Some(true),
        net_assets: cny(10_000_000),
        annual_revenue: cny(50_000_000),
        net_profit_margin_percent: Some(5.0),
        ..Figures::default()
    }
}

pub(crate) async fn record(app: &TestApp, customer: &str, figures: Figures, supersede: bool) {
    app.figures
        .clone()
        .record_figures(RecordFiguresRequest {
            parent: customer.to_owned(),
            figures: Some(figures),
            supersede,
            request_id: String::new(),
        })
        .await
        .expect("the figures are recorded");
}

pub(crate) fn assess_request(customer: &str) -> AssessCustomerRequest {
    AssessCustomerRequest {
        parent: customer.to_owned(),
        ..AssessCustomerRequest::default()
    }
}

pub(crate) async fn try_assess(
    app: &TestApp,
    request: AssessCustomerRequest,
) -> Result<Assessment, Status> {
    app.assessments
        .clone()
        .assess_customer(request)
        .await
        .map(tonic::Response::into_inner)
}

pub(crate) async fn assess(app: &TestApp, customer: &str) -> Assessment {
    try_assess(app, assess_request(customer))
        .await
        .expect("the customer is assessed")
}

/// The customer's current grade.
pub(crate) async fn current_grade(app: &TestApp, customer: &str) -> CustomerGrade {
    app.assessments
        .clone()
        .get_customer_grade(GetCustomerGradeRequest {
            customer: customer.to_owned(),
        })
        .await
        .expect("a current grade")
        .into_inner()
}

/// The names of the customer's assessments, newest first (up to 1,000).
pub(crate) async fn assessment_names(app: &TestApp, customer: &str) -> Vec<String> {
    app.assessments
        .clone()
        .list_assessments(ListAssessmentsRequest {
            parent: customer.to_owned(),
            page_size: 1000,
            ..ListAssessmentsRequest::default()
        })
        .await
        .expect("listed")
        .into_inner()
        .assessments
        .into_iter()
        .map(|assessment| assessment.name)
        .collect()
}

/// A customer with `figures` recorded, assessed once with the champion.
async fn assessed(app: &TestApp, figures: Figures) -> (String, Assessment) {
    let customer = create_customer(app).await;
    record(app, &customer, figures, false).await;
    let assessment = assess(app, &customer).await;
    (customer, assessment)
}

fn line<'a>(assessment: &'a Assessment, key: &str) -> &'a CriterionResult {
    assessment
        .criteria
        .iter()
        .find(|line| line.key == key)
        .unwrap_or_else(|| panic!("criterion {key} is in the rationale"))
}

/// (points, effective weight, contribution) of every criterion, in the model's order.
fn arithmetic(assessment: &Assessment) -> Vec<(&str, &str, &str, &str)> {
    assessment
        .criteria
        .iter()
        .map(|line| {
            (
                line.key.as_str(),
                line.points.as_str(),
                line.effective_weight_percent.as_str(),
                line.contribution.as_str(),
            )
        })
        .collect()
}

pub(crate) fn cents(decimal: &str) -> i64 {
    let (units, fraction) = decimal.split_once('.').expect("two decimals");
    assert_eq!(fraction.len(), 2, "{decimal} has two decimals");
    units.parse::<i64>().expect("units") * 100 + fraction.parse::<i64>().expect("cents")
}

fn reasons(assessment: &Assessment) -> Vec<(&str, &str)> {
    assessment
        .reason_codes
        .iter()
        .map(|code| (code.criterion.as_str(), code.points_lost.as_str()))
        .collect()
}

/// The assessment without what differs between two gradings of the same thing.
fn facts(assessment: &Assessment) -> Assessment {
    Assessment {
        name: String::new(),
        assess_time: None,
        ..assessment.clone()
    }
}

// ---------------------------------------------------------------------------------------------

async fn a_sound_customer_is_graded_b_with_every_criterion_explained(app: TestApp) {
    let (customer, assessment) = assessed(&app, sound_figures()).await;

    assert!(
        assessment
            .name
            .starts_with(&format!("{customer}/assessments/"))
    );
    assert_eq!(assessment.model_version, EXISTING_V1);
    assert_eq!(
        assessment.figures,
        format!("{customer}/figures/2026-09-30@1")
    );
    assert_eq!(assessment.as_of_date, Some(proto_date(as_of())));
    let a_year_later = as_of().checked_add_months(Months::new(12)).expect("a date");
    assert_eq!(assessment.valid_until, Some(proto_date(a_year_later)));
    assert_eq!(
        arithmetic(&assessment),
        vec![
            ("sales_contribution", "80.00", "25.00", "20.00"),
            ("gross_margin", "80.00", "15.00", "12.00"),
            ("on_time_payment", "90.00", "20.00", "18.00"),
            ("longest_overdue", "85.00", "15.00", "12.75"),
            ("cooperation_years", "75.00", "10.00", "7.50"),
            ("credit_rating", "90.00", "10.00", "9.00"),
            ("revenue_growth", "55.00", "5.00", "2.75"),
        ]
    );
    assert_eq!(assessment.total_score, "82.00");
    let sum: i64 = assessment
        .criteria
        .iter()
        .map(|l| cents(&l.contribution))
        .sum();
    assert_eq!(sum, cents(&assessment.total_score), "the rationale adds up");
    assert_eq!(
        (
            assessment.grade_before_knock_outs.as_str(),
            assessment.grade.as_str()
        ),
        ("B", "B")
    );
    assert!(assessment.knock_outs.is_empty());
    assert!(!assessment.review_required);

    let payments = line(&assessment, "on_time_payment");
    assert_eq!(payments.input, "on_time_payment_rate_percent");
    assert_eq!(payments.value, "96.5");
    assert_eq!(payments.matched, "band [95, 98)");
    assert_eq!(payments.missing_treatment(), MissingTreatment::Unspecified);
    assert_eq!(payments.max_contribution, "20.00");
    assert!(payments.sentence.contains("96.5"), "{}", payments.sentence);
    assert_eq!(line(&assessment, "credit_rating").value, "AA");

    // B: 2 months of 3 000 000 a year = 500 000, under 15 % of net assets (1 500 000) and
    // 8 % of revenue (4 000 000).
    let credit = assessment.credit.clone().expect("B has a policy");
    let limit = credit.credit_limit.clone().expect("a limit in CNY");
    assert_eq!(
        (limit.currency_code.as_str(), limit.units, limit.nanos),
        ("CNY", 500_000, 0)
    );
    assert_eq!(credit.payment_terms_days, 45);
    assert!(credit.service_level.starts_with("key account"));
    assert_eq!(credit.zero_reason(), ZeroLimitReason::Unspecified);
    assert!(credit.caps_applied.is_empty());

    // Points lost (max − contribution): sales 5, gross margin 3, cooperation 2.5, then
    // overdue and growth 2.25 each, on-time 2, rating 1.
    assert_eq!(
        reasons(&assessment),
        vec![
            ("sales_contribution", "5.00"),
            ("gross_margin", "3.00"),
            ("cooperation_years", "2.50"),
        ]
    );
}

/// Overdue 120 days and an agency rating of D: 0 points each instead of 12.75 and 9, so
/// 82.00 − 12.75 − 9.00 = 60.25, a C by score; the knock-outs cap it at D and block credit.
async fn knock_outs_cap_the_grade_and_block_credit(app: TestApp) {
    let figures = Figures {
        longest_overdue_days: Some(120),
        credit_rating: CreditRating::D.into(),
        ..sound_figures()
    };
    let (_, assessment) = assessed(&app, figures).await;

    assert_eq!(assessment.total_score, "60.25");
    assert_eq!(assessment.grade_before_knock_outs, "C");
    assert_eq!(assessment.grade, "D");
    let fired: Vec<(&str, KnockOutEffect, &str)> = assessment
        .knock_outs
        .iter()
        .map(|k| (k.key.as_str(), k.effect(), k.cap_grade.as_str()))
        .collect();
    assert_eq!(
        fired,
        vec![
            ("overdue_over_90_days", KnockOutEffect::CapGrade, "D"),
            ("rating_d", KnockOutEffect::BlockCredit, ""),
        ]
    );
    assert!(assessment.knock_outs[0].description.contains("90 days"));
    let credit = assessment.credit.expect("D has a policy");
    assert_eq!(credit.credit_limit.as_ref().map(|m| m.units), Some(0));
    assert_eq!(credit.zero_reason(), ZeroLimitReason::CreditBlocked);
    assert_eq!(credit.blocked_by, vec!["rating_d".to_owned()]);
    assert_eq!(credit.payment_terms_days, 0);
}

/// No sales (missing: zero), no gross margin (missing: neutral 50) and no rating (missing:
/// drop). The other weights are scaled to 100 over the kept 90: 25/0.9 = 27.78,
/// 15/0.9 = 16.67, 20/0.9 = 22.22, 15/0.9 = 16.67, 10/0.9 = 11.11, and the last kept
/// (growth) takes the remainder 100 − 94.45 = 5.55. Contributions: 0, 50 × 16.67 % = 8.34,
/// 90 × 22.22 % = 20.00, 85 × 16.67 % = 14.17, 75 × 11.11 % = 8.33, 55 × 5.55 % = 3.05:
/// total 53.89, a D.
async fn missing_inputs_follow_each_criterions_policy(app: TestApp) {
    let figures = Figures {
        sales_last_12_months: None,
        gross_margin_percent: None,
        credit_rating: CreditRating::Unspecified.into(),
        ..sound_figures()
    };
    let (_, assessment) = assessed(&app, figures).await;

    assert_eq!(
        arithmetic(&assessment),
        vec![
            ("sales_contribution", "0.00", "27.78", "0.00"),
            ("gross_margin", "50.00", "16.67", "8.34"),
            ("on_time_payment", "90.00", "22.22", "20.00"),
            ("longest_overdue", "85.00", "16.67", "14.17"),
            ("cooperation_years", "75.00", "11.11", "8.33"),
            ("credit_rating", "0.00", "0.00", "0.00"),
            ("revenue_growth", "55.00", "5.55", "3.05"),
        ]
    );
    let treatments: Vec<MissingTreatment> = assessment
        .criteria
        .iter()
        .map(CriterionResult::missing_treatment)
        .collect();
    assert_eq!(
        treatments[..3],
        [
            MissingTreatment::CountedAsZero,
            MissingTreatment::CountedAsNeutral,
            MissingTreatment::Unspecified
        ]
    );
    assert_eq!(treatments[5], MissingTreatment::Dropped);
    assert_eq!(line(&assessment, "sales_contribution").value, "");
    assert_eq!(line(&assessment, "credit_rating").weight_percent, "10.00");
    assert_eq!(assessment.total_score, "53.89");
    assert_eq!(assessment.grade, "D");
    // Points lost: sales 27.78, gross margin 16.67 − 8.34 = 8.33, cooperation 11.11 − 8.33 =
    // 2.78; then overdue and growth 2.50, on-time 2.22.
    assert_eq!(
        reasons(&assessment),
        vec![
            ("sales_contribution", "27.78"),
            ("gross_margin", "8.33"),
            ("cooperation_years", "2.78"),
        ]
    );
    let credit = assessment.credit.expect("D has a policy");
    assert_eq!(credit.zero_reason(), ZeroLimitReason::NoPurchaseFigures);
}

async fn a_prospect_is_graded_by_the_prospect_champion(app: TestApp) {
    let prospect = create(
        &app,
        custgrade::proto::custgrade::v1::Customer {
            kind: CustomerKind::Prospect.into(),
            ..customer("")
        },
    )
    .await;
    record(&app, &prospect.name, sound_figures(), false).await;
    let assessment = assess(&app, &prospect.name).await;
    assert_eq!(
        assessment.model_version, "models/prospects/versions/1",
        "prospects have their own model"
    );
}

async fn a_named_version_grades_instead_of_the_champion(app: TestApp) {
    let customer = create_customer(&app).await;
    record(&app, &customer, sound_figures(), false).await;
    let request = AssessCustomerRequest {
        model_version: "models/prospects/versions/1".to_owned(),
        ..assess_request(&customer)
    };
    let assessment = try_assess(&app, request).await.expect("assessed");
    assert_eq!(assessment.model_version, "models/prospects/versions/1");

    let unknown = AssessCustomerRequest {
        model_version: "models/prospects/versions/9".to_owned(),
        ..assess_request(&customer)
    };
    let status = try_assess(&app, unknown).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
}

async fn history_is_newest_first_and_the_current_grade_is_the_newest(app: TestApp) {
    let customer = create_customer(&app).await;
    record(&app, &customer, sound_figures(), false).await;
    let first = assess(&app, &customer).await;
    // The customer pays worse: on time 85 % (band [80, 90): 50 points × 20 % = 10.00 instead
    // of 18.00), so 82.00 − 8.00 = 74.00, still a B.
    let worse = Figures {
        on_time_payment_rate_percent: Some(85.0),
        ..sound_figures()
    };
    record(&app, &customer, worse, true).await;
    let second = assess(&app, &customer).await;
    // Then much worse: overdue 120 days caps it at D.
    let worst = Figures {
        on_time_payment_rate_percent: Some(85.0),
        longest_overdue_days: Some(120),
        ..sound_figures()
    };
    record(&app, &customer, worst, true).await;
    let third = assess(&app, &customer).await;
    assert_eq!(
        [&first, &second, &third].map(|a| (a.total_score.as_str(), a.grade.as_str())),
        [("82.00", "B"), ("74.00", "B"), ("61.25", "D")]
    );
    assert_eq!(second.figures, format!("{customer}/figures/2026-09-30@2"));

    let mut names = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = app
            .assessments
            .clone()
            .list_assessments(ListAssessmentsRequest {
                parent: customer.clone(),
                page_size: 2,
                page_token,
                ..ListAssessmentsRequest::default()
            })
            .await
            .expect("listed")
            .into_inner();
        names.extend(page.assessments.into_iter().map(|a| a.name));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert_eq!(
        names,
        vec![third.name.clone(), second.name.clone(), first.name.clone()]
    );

    let only_b = app
        .assessments
        .clone()
        .list_assessments(ListAssessmentsRequest {
            parent: customer.clone(),
            grade: "B".to_owned(),
            ..ListAssessmentsRequest::default()
        })
        .await
        .expect("listed")
        .into_inner();
    let b_names: Vec<String> = only_b.assessments.into_iter().map(|a| a.name).collect();
    assert_eq!(b_names, vec![second.name.clone(), first.name.clone()]);

    let since_second = app
        .assessments
        .clone()
        .list_assessments(ListAssessmentsRequest {
            parent: customer.clone(),
            start_time: second.assess_time,
            end_time: third.assess_time,
            ..ListAssessmentsRequest::default()
        })
        .await
        .expect("listed")
        .into_inner();
    let window: Vec<String> = since_second
        .assessments
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(
        window,
        vec![second.name.clone()],
        "start inclusive, end exclusive"
    );

    let grade = current_grade(&app, &customer).await;
    assert_eq!(grade.assessment, third.name);
    assert_eq!(
        (grade.grade.as_str(), grade.total_score.as_str()),
        ("D", "61.25")
    );
    assert_eq!(grade.payment_terms_days, 0);
    assert_eq!(grade.model_version, EXISTING_V1);
    assert_eq!(grade.valid_until, third.valid_until);
}

async fn a_retry_with_the_same_request_id_returns_the_first_assessment(app: TestApp) {
    let customer = create_customer(&app).await;
    record(&app, &customer, sound_figures(), false).await;
    let request = AssessCustomerRequest {
        request_id: "assess-7f3a".to_owned(),
        ..assess_request(&customer)
    };
    let first = try_assess(&app, request.clone()).await.expect("assessed");
    let retry = try_assess(&app, request.clone()).await.expect("assessed");
    assert_eq!(retry, first);

    let other = AssessCustomerRequest {
        as_of_date: Some(proto_date(as_of())),
        ..request
    };
    let status = try_assess(&app, other).await.unwrap_err();
    assert_eq!(bad_request_fields(&status), fields(&["request_id"]));

    let listed = app
        .assessments
        .clone()
        .list_assessments(ListAssessmentsRequest {
            parent: customer,
            ..ListAssessmentsRequest::default()
        })
        .await
        .expect("listed")
        .into_inner();
    assert_eq!(listed.assessments.len(), 1, "a retry stores nothing new");
}

/// The same snapshot with the same published version gives the same assessment, whatever
/// happened in between; a superseded snapshot's assessment still names and explains itself.
async fn grading_is_reproducible_and_old_assessments_still_explain_themselves(app: TestApp) {
    let customer = create_customer(&app).await;
    record(&app, &customer, sound_figures(), false).await;
    let first = assess(&app, &customer).await;
    let again = assess(&app, &customer).await;
    assert_ne!(first.name, again.name, "re-grading adds an assessment");
    assert_eq!(facts(&again), facts(&first));

    let newer = Figures {
        on_time_payment_rate_percent: Some(50.0),
        ..sound_figures()
    };
    record(&app, &customer, newer, true).await;
    let stored = app
        .assessments
        .clone()
        .get_assessment(GetAssessmentRequest {
            name: first.name.clone(),
            locale: String::new(),
        })
        .await
        .expect("found")
        .into_inner();
    assert_eq!(stored, first, "a stored assessment never changes");

    let explained = app
        .assessments
        .clone()
        .explain_assessment(ExplainAssessmentRequest {
            name: first.name.clone(),
            locale: String::new(),
        })
        .await
        .expect("explained")
        .into_inner()
        .text;
    assert!(explained.contains(EXISTING_V1.trim_end_matches("/versions/1")));
    assert!(explained.contains("82.00"), "{explained}");
    assert!(explained.contains("Grade: B"), "{explained}");
    assert!(explained.contains("500,000"), "{explained}");
}

async fn sentences_are_read_in_the_callers_locale(app: TestApp) {
    let (_, english) = assessed(&app, sound_figures()).await;
    assert_eq!(english.locale, "en");
    let chinese = app
        .assessments
        .clone()
        .get_assessment(GetAssessmentRequest {
            name: english.name.clone(),
            locale: "zh-CN".to_owned(),
        })
        .await
        .expect("found")
        .into_inner();
    assert_eq!(chinese.locale, "zh-CN");
    assert_eq!(chinese.total_score, english.total_score);
    let sentence = &line(&chinese, "on_time_payment").sentence;
    assert!(sentence.contains("按时付款率"), "{sentence}");
    let report = app
        .assessments
        .clone()
        .explain_assessment(ExplainAssessmentRequest {
            name: english.name.clone(),
            locale: "zh-CN".to_owned(),
        })
        .await
        .expect("explained")
        .into_inner()
        .text;
    assert!(report.contains("评估说明"), "{report}");
}

async fn assessing_needs_figures_a_live_customer_and_a_published_version(app: TestApp) {
    let customer = create_customer(&app).await;
    let status = try_assess(&app, assess_request(&customer))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(status.message().contains("no figures"), "{status:?}");

    record(&app, &customer, sound_figures(), false).await;
    let before_every_snapshot = AssessCustomerRequest {
        as_of_date: Some(proto_date(as_of().pred_opt().expect("a day"))),
        ..assess_request(&customer)
    };
    let status = try_assess(&app, before_every_snapshot).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");

    delete(&app, &customer).await;
    let status = try_assess(&app, assess_request(&customer))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");

    let unknown = format!("customers/{}", uuid::Uuid::now_v7());
    let status = try_assess(&app, assess_request(&unknown))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");

    let status = app
        .assessments
        .clone()
        .get_customer_grade(GetCustomerGradeRequest { customer: unknown })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
}

async fn a_customer_never_assessed_has_no_current_grade(app: TestApp) {
    let customer = create_customer(&app).await;
    let status = app
        .assessments
        .clone()
        .get_customer_grade(GetCustomerGradeRequest { customer })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    assert!(status.message().contains("assessment"), "{status:?}");
}

async fn malformed_requests_name_every_bad_field(app: TestApp) {
    let request = AssessCustomerRequest {
        parent: "customer/1".to_owned(),
        as_of_date: Some(crate::figures::date(2026, 2, 30)),
        model_version: "models/existing-customers/v1".to_owned(),
        locale: "fr".to_owned(),
        request_id: "with space".to_owned(),
    };
    let status = try_assess(&app, request).await.unwrap_err();
    assert_eq!(
        bad_request_fields(&status),
        fields(&[
            "parent",
            "as_of_date",
            "model_version",
            "locale",
            "request_id"
        ])
    );

    let status = app
        .assessments
        .clone()
        .get_assessment(GetAssessmentRequest {
            name: "customers/x/assessments/y".to_owned(),
            locale: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad_request_fields(&status), fields(&["name"]));

    let customer = create_customer(&app).await;
    let status = app
        .assessments
        .clone()
        .list_assessments(ListAssessmentsRequest {
            parent: customer,
            page_size: -1,
            page_token: "garbage".to_owned(),
            start_time: Some(prost_types::Timestamp {
                seconds: 0,
                nanos: -5,
            }),
            ..ListAssessmentsRequest::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        bad_request_fields(&status),
        fields(&["page_size", "page_token", "start_time"])
    );
}

on_every_backend!(
    a_sound_customer_is_graded_b_with_every_criterion_explained,
    knock_outs_cap_the_grade_and_block_credit,
    missing_inputs_follow_each_criterions_policy,
    a_prospect_is_graded_by_the_prospect_champion,
    a_named_version_grades_instead_of_the_champion,
    history_is_newest_first_and_the_current_grade_is_the_newest,
    a_retry_with_the_same_request_id_returns_the_first_assessment,
    grading_is_reproducible_and_old_assessments_still_explain_themselves,
    sentences_are_read_in_the_callers_locale,
    assessing_needs_figures_a_live_customer_and_a_published_version,
    a_customer_never_assessed_has_no_current_grade,
    malformed_requests_name_every_bad_field,
);
