//! `PortfolioService.GetOverrideReport`: the overrides of a period by author, reason and
//! direction, the share of the book overridden now, and how overridden customers fared.

use chrono::{DateTime, NaiveDate, Utc};
use tonic::Status;

use super::{
    convert::{count_to_proto, time_window, two_decimals},
    outcomes::{horizon_months, kind_from_proto, min_days_late},
    portfolio::customers_only,
    status::{FieldViolations, invalid_argument},
};
use crate::{
    domain::{
        outcome::followed_for,
        override_report::{DirectionCounts, OverrideReport, OverrideTally},
    },
    proto::custgrade::v1 as pb,
    storage::{Store, customers::CustomerFilter, grades::GradeFilter},
};

/// Adds up the report the request asks for.
pub(super) async fn override_report(
    store: &Store,
    request: pb::GetOverrideReportRequest,
) -> Result<pb::OverrideReport, Status> {
    let mut violations = FieldViolations::default();
    let customers = customers_only(
        &request.filter.unwrap_or_default(),
        "overrides",
        &mut violations,
    );
    let window = time_window(
        request.start_time.as_ref(),
        request.end_time.as_ref(),
        &mut violations,
    );
    // An outcome to judge by, with its horizon; none when no kind is asked for.
    let judged = if request.outcome_kind == 0 {
        if request.horizon_months != 0 || request.min_days_late != 0 {
            violations.add(
                "outcome_kind",
                "is required with horizon_months or min_days_late",
            );
        }
        Some(None)
    } else {
        let kind = violations.check("outcome_kind", kind_from_proto(request.outcome_kind));
        let late = violations.check("min_days_late", min_days_late(request.min_days_late));
        let horizon = violations.check("horizon_months", horizon_months(request.horizon_months));
        kind.zip(late).zip(horizon).map(Some)
    };
    violations.finish()?;
    let (Some(customers), Some((start, end)), Some(judged)) = (customers, window, judged) else {
        return Err(invalid_argument("filter", "is invalid"));
    };

    let now = Utc::now();
    let end = end.unwrap_or(now);
    let from = start.unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    if from >= end {
        return Err(invalid_argument(
            "start_time",
            "must be before end_time, or before now when end_time is unset",
        ));
    }
    let outcomes = match judged {
        Some(((kind, late), horizon)) => Some((store.outcome_dates(kind, late).await?, horizon)),
        None => None,
    };
    // Whether the outcome followed a customer's grading or override on `day`.
    let outcome_after = |customer, day: NaiveDate| {
        outcomes
            .as_ref()
            .map(|(dates, horizon)| followed_for(dates, customer, day, *horizon))
    };
    // What happened in the period counts for customers deleted since: a deletion does not
    // undo an override or a grading. The share overridden now is of the book now.
    let then = CustomerFilter {
        show_deleted: true,
        ..customers.clone()
    };
    let mut tally = OverrideTally::at(now);
    store
        .visit_overrides(&then, start, end, |set| {
            tally.add_override(
                &set,
                outcome_after(set.customer, set.create_time.date_naive()),
            );
        })
        .await?;
    let book = GradeFilter {
        customers,
        ..GradeFilter::default()
    };
    store
        .visit_grades(&book, |grade| tally.add_current(&grade))
        .await?;
    if outcomes.is_some() {
        store
            .visit_graded_in(None, &then, &(from..end), |graded| {
                let outcome = outcome_after(graded.customer, graded.graded_on).unwrap_or_default();
                tally.add_grading(graded.customer, &graded.grade, outcome);
            })
            .await?;
    }
    Ok(report_to_proto(tally.finish(outcomes.is_some())))
}

fn report_to_proto(report: OverrideReport) -> pb::OverrideReport {
    let performance = report.performance.unwrap_or_default();
    pb::OverrideReport {
        overrides: Some(counts_to_proto(String::new(), &report.totals)),
        revoked_count: count_to_proto(report.revoked),
        by_author: report
            .by_author
            .into_iter()
            .map(|(author, counts)| counts_to_proto(author, &counts))
            .collect(),
        by_reason: report
            .by_reason
            .into_iter()
            .map(|(reason, counts)| counts_to_proto(reason, &counts))
            .collect(),
        graded_customer_count: count_to_proto(report.graded_customers),
        overridden_customer_count: count_to_proto(report.overridden_customers),
        overridden_share_percent: two_decimals(report.overridden_share_percent),
        outcomes: performance
            .cells
            .into_iter()
            .map(|cell| pb::OverrideOutcome {
                computed_grade: cell.computed_grade,
                grade: cell.grade,
                override_count: count_to_proto(cell.overrides),
                outcome_count: count_to_proto(cell.outcomes),
                rate_percent: two_decimals(cell.rate_percent),
            })
            .collect(),
        not_overridden: performance
            .not_overridden
            .iter()
            .map(super::outcomes::grade_rate_to_proto)
            .collect(),
    }
}

fn counts_to_proto(key: String, counts: &DirectionCounts) -> pb::OverrideCounts {
    pb::OverrideCounts {
        key,
        override_count: count_to_proto(counts.overrides),
        upgraded_count: count_to_proto(counts.up),
        downgraded_count: count_to_proto(counts.down),
        same_grade_count: count_to_proto(counts.same),
    }
}
