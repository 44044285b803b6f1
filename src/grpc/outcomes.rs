//! `custgrade.v1.OutcomeService`: recording outcomes, and the validation report that judges
//! a model version's grades by them.

use std::ops::Range;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use tonic::{Request, Response, Status};

use super::{
    convert::{count_to_proto, date_from_proto, date_to_proto, timestamp, two_decimals},
    customers::record_customer,
    names::{customer_name, parse_customer_name, parse_model_version_name},
    pagination,
    request_id::request_id,
    status::{FieldViolations, invalid_argument},
};
use crate::{
    domain::{
        InvalidValue,
        accuracy::{AccuracyReport, GradeRate, Observation, accuracy},
        outcome::{Outcome, OutcomeId, OutcomeKind, RecordedOutcome, followed_for},
    },
    proto::{
        custgrade::v1::{self as pb, outcome_service_server::OutcomeService},
        google::r#type::Date,
    },
    storage::{Store, customers::CustomerFilter},
};

/// The longest horizon a report looks ahead, in months.
const MAX_HORIZON_MONTHS: i32 = 60;

pub struct OutcomeApi {
    store: Store,
}

impl OutcomeApi {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

#[tonic::async_trait]
impl OutcomeService for OutcomeApi {
    #[tracing::instrument(skip_all, fields(customer = tracing::field::Empty))]
    async fn record_outcome(
        &self,
        request: Request<pb::RecordOutcomeRequest>,
    ) -> Result<Response<pb::Outcome>, Status> {
        let request = request.into_inner();
        let mut violations = FieldViolations::default();
        let customer = violations.check("parent", parse_customer_name(&request.parent));
        let outcome = violations.require("outcome", request.outcome.as_ref(), outcome_from_proto);
        let request_id = request_id(&request.request_id, &mut violations);
        violations.finish()?;
        let (Some(customer), Some(outcome)) = (customer, outcome) else {
            return Err(invalid_argument("outcome", "is invalid"));
        };
        record_customer(customer);
        let recorded = self
            .store
            .record_outcome(customer, &outcome, request_id.as_deref())
            .await?;
        tracing::info!(kind = outcome.kind.as_str(), "outcome recorded");
        Ok(Response::new(outcome_to_proto(&recorded)))
    }

    async fn list_outcomes(
        &self,
        request: Request<pb::ListOutcomesRequest>,
    ) -> Result<Response<pb::ListOutcomesResponse>, Status> {
        let request = request.into_inner();
        let mut violations = FieldViolations::default();
        let customer = violations.check("parent", parse_customer_name(&request.parent));
        let limit = violations.check("page_size", pagination::page_size(request.page_size));
        let after = violations.check(
            "page_token",
            outcome_cursor(&request.page_token, &request.parent),
        );
        violations.finish()?;
        let (Some(customer), Some(limit), Some(after)) = (customer, limit, after) else {
            return Err(invalid_argument("parent", "is invalid"));
        };
        let page = self.store.list_outcomes(customer, after, limit).await?;
        let next_page_token = pagination::next_page_token(&page.items, page.has_more, |last| {
            pagination::encode_pair(last.outcome.occur_date, last.id, &request.parent)
        });
        Ok(Response::new(pb::ListOutcomesResponse {
            outcomes: page.items.iter().map(outcome_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn get_validation_report(
        &self,
        request: Request<pb::GetValidationReportRequest>,
    ) -> Result<Response<pb::ValidationReport>, Status> {
        let request = request.into_inner();
        let mut violations = FieldViolations::default();
        let version = violations.check(
            "model_version",
            parse_model_version_name(&request.model_version),
        );
        let kind = violations.check("outcome_kind", kind_from_proto(request.outcome_kind));
        let min_days_late = violations.check("min_days_late", min_days_late(request.min_days_late));
        let period = required_period(
            ("assessed_from", request.assessed_from.as_ref()),
            ("assessed_until", request.assessed_until.as_ref()),
            &mut violations,
        );
        let horizon = violations.check("horizon_months", horizon_months(request.horizon_months));
        violations.finish()?;
        let (Some(version), Some(kind), Some(min_days_late), Some(period), Some(horizon)) =
            (version, kind, min_days_late, period, horizon)
        else {
            return Err(invalid_argument("model_version", "is invalid"));
        };
        // A customer deleted since its grading still tells how the grading did.
        let every_customer = CustomerFilter {
            show_deleted: true,
            ..CustomerFilter::default()
        };
        let outcomes = self.store.outcome_dates(kind, min_days_late).await?;
        // The AUC and KS need every observation at once.
        let mut observations: Vec<Observation> = Vec::new();
        self.store
            .visit_graded_in(Some(&version), &every_customer, &period, |one| {
                observations.push(Observation {
                    outcome: followed_for(&outcomes, one.customer, one.graded_on, horizon),
                    score: one.score,
                    grade: one.grade,
                });
            })
            .await?;
        Ok(Response::new(report_to_proto(&accuracy(&observations))))
    }
}

/// How long after a grading an outcome counts: 1 to [`MAX_HORIZON_MONTHS`] months.
pub(super) fn horizon_months(raw: i32) -> Result<u32, InvalidValue> {
    u32::try_from(raw)
        .ok()
        .filter(|months| (1..=MAX_HORIZON_MONTHS.unsigned_abs()).contains(months))
        .ok_or_else(|| InvalidValue::new(format!("must be 1 to {MAX_HORIZON_MONTHS}")))
}

/// The fewest days late that count for a late payment; 0 for any.
pub(super) fn min_days_late(raw: i32) -> Result<u32, InvalidValue> {
    u32::try_from(raw).map_err(|_| InvalidValue::new("must not be negative"))
}

fn required_date(
    date: Option<&Date>,
    field: &str,
    violations: &mut FieldViolations,
) -> Option<NaiveDate> {
    violations.require(field, date, |date, violations| {
        violations.check(field, date_from_proto(date))
    })
}

/// A required period of whole days (UTC) from a request's two dates, `[from, until)`, as the
/// instants the days start: both full dates, `until` after `from`.
pub(super) fn required_period(
    (from_field, from): (&str, Option<&Date>),
    (until_field, until): (&str, Option<&Date>),
    violations: &mut FieldViolations,
) -> Option<Range<DateTime<Utc>>> {
    let from = required_date(from, from_field, violations);
    let until = required_date(until, until_field, violations);
    let (Some(from), Some(until)) = (from, until) else {
        return None;
    };
    if until <= from {
        violations.add(until_field, format!("must be after {from_field}"));
        return None;
    }
    let start = |day: NaiveDate| day.and_time(NaiveTime::MIN).and_utc();
    Some(start(from)..start(until))
}

pub(super) fn kind_from_proto(raw: i32) -> Result<OutcomeKind, InvalidValue> {
    match pb::OutcomeKind::try_from(raw) {
        Ok(pb::OutcomeKind::Default) => Ok(OutcomeKind::Default),
        Ok(pb::OutcomeKind::LatePayment) => Ok(OutcomeKind::LatePayment),
        Ok(pb::OutcomeKind::Churn) => Ok(OutcomeKind::Churn),
        Ok(pb::OutcomeKind::Unspecified) | Err(_) => Err(InvalidValue::new(
            "is required: OUTCOME_KIND_DEFAULT, OUTCOME_KIND_LATE_PAYMENT or OUTCOME_KIND_CHURN",
        )),
    }
}

fn outcome_from_proto(raw: &pb::Outcome, violations: &mut FieldViolations) -> Option<Outcome> {
    let kind = violations.check("outcome.kind", kind_from_proto(raw.kind));
    let occur_date = required_date(raw.occur_date.as_ref(), "outcome.occur_date", violations);
    let days_late = match raw.days_late {
        0 => Some(None),
        days => violations.check(
            "outcome.days_late",
            u32::try_from(days)
                .map(Some)
                .map_err(|_| InvalidValue::new("must not be negative")),
        ),
    };
    let outcome = Outcome {
        kind: kind?,
        occur_date: occur_date?,
        days_late: days_late?,
        note: raw.note.clone(),
    };
    let problems = outcome.check(Utc::now().date_naive());
    for (field, problem) in &problems {
        violations.add(format!("outcome.{field}"), problem.0.clone());
    }
    problems.is_empty().then_some(outcome)
}

/// Where a page of outcomes continues: the token carries `{YYYY-MM-DD}/{id}`.
fn outcome_cursor(
    token: &str,
    parent: &String,
) -> Result<Option<(NaiveDate, OutcomeId)>, InvalidValue> {
    pagination::decode_pair(token, parent, |date, id| {
        Some((date.parse().ok()?, OutcomeId::parse(id).ok()?))
    })
}

fn outcome_to_proto(recorded: &RecordedOutcome) -> pb::Outcome {
    let outcome = &recorded.outcome;
    pb::Outcome {
        name: format!(
            "{}/outcomes/{}",
            customer_name(recorded.customer),
            recorded.id
        ),
        kind: match outcome.kind {
            OutcomeKind::Default => pb::OutcomeKind::Default,
            OutcomeKind::LatePayment => pb::OutcomeKind::LatePayment,
            OutcomeKind::Churn => pb::OutcomeKind::Churn,
        }
        .into(),
        occur_date: Some(date_to_proto(outcome.occur_date)),
        days_late: outcome
            .days_late
            .map_or(0, |days| i32::try_from(days).unwrap_or(i32::MAX)),
        note: outcome.note.clone(),
        record_time: Some(timestamp(recorded.record_time)),
    }
}

fn report_to_proto(report: &AccuracyReport) -> pb::ValidationReport {
    let found = report.discrimination;
    pb::ValidationReport {
        customer_count: count_to_proto(report.customers),
        outcome_count: count_to_proto(report.outcomes),
        grades: report.grades.iter().map(grade_rate_to_proto).collect(),
        inversions: report
            .inversions
            .iter()
            .map(|(better, worse)| pb::GradeInversion {
                better_grade: better.clone(),
                worse_grade: worse.clone(),
            })
            .collect(),
        auc: found.map(|f| format!("{:.4}", f.auc)).unwrap_or_default(),
        gini: found.map(|f| format!("{:.4}", f.gini)).unwrap_or_default(),
        ks: found.map(|f| format!("{:.4}", f.ks)).unwrap_or_default(),
    }
}

pub(super) fn grade_rate_to_proto(grade: &GradeRate) -> pb::GradeOutcomeRate {
    pb::GradeOutcomeRate {
        grade: grade.grade.clone(),
        customer_count: count_to_proto(grade.customers),
        outcome_count: count_to_proto(grade.outcomes),
        rate_percent: two_decimals(grade.rate_percent),
    }
}
