//! Outcomes: what happened to a customer after it was graded (a default or write-off, a
//! payment more than some days late, churn), as dated facts; and which graded customers an
//! outcome followed within a horizon, the label the accuracy figures are computed on.

use std::collections::BTreeMap;

use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::Serialize;

use super::{InvalidValue, customer::CustomerId, id::server_id};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// A default or a write-off.
    Default,
    /// A payment more than `days_late` days late.
    LatePayment,
    /// The customer stopped buying.
    Churn,
}

impl OutcomeKind {
    /// The stable lowercase word used in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::LatePayment => "late_payment",
            Self::Churn => "churn",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Default, Self::LatePayment, Self::Churn]
            .into_iter()
            .find(|kind| kind.as_str() == raw)
    }
}

/// The longest lateness recorded, in days: ten years.
const MAX_DAYS_LATE: u32 = 3660;

/// An outcome as recorded: never changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub kind: OutcomeKind,
    pub occur_date: NaiveDate,
    /// How late the payment was, for a late payment only.
    pub days_late: Option<u32>,
    /// Free text, at most 500 characters.
    pub note: String,
}

impl Outcome {
    /// Every problem of an outcome, by field: a date from 1900 to tomorrow (UTC), days late
    /// (1 to 3660) for a late payment and only then, a note of at most 500 characters.
    pub fn check(&self, today: NaiveDate) -> Vec<(&'static str, InvalidValue)> {
        let mut problems = Vec::new();
        if let Err(problem) = super::figures::validate_as_of(self.occur_date, today) {
            problems.push(("occur_date", problem));
        }
        match (self.kind, self.days_late) {
            (OutcomeKind::LatePayment, Some(days)) if (1..=MAX_DAYS_LATE).contains(&days) => {}
            (OutcomeKind::LatePayment, _) => problems.push((
                "days_late",
                InvalidValue::new(format!(
                    "is required for a late payment: 1 to {MAX_DAYS_LATE}"
                )),
            )),
            (_, Some(_)) => {
                problems.push(("days_late", InvalidValue::new("is only for a late payment")))
            }
            (_, None) => {}
        }
        if let Err(problem) = super::invalid::bounded_text(&self.note, 0, 500) {
            problems.push(("note", problem));
        }
        problems
    }
}

server_id!(
    /// The server-assigned identity of an outcome: a UUIDv7.
    OutcomeId,
    "an outcome id"
);

/// An outcome as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedOutcome {
    pub id: OutcomeId,
    pub customer: CustomerId,
    pub outcome: Outcome,
    pub record_time: DateTime<Utc>,
}

/// Whether an outcome on one of `dates` followed a grading on `graded`: after that day and
/// at most `horizon_months` later.
pub fn followed(graded: NaiveDate, horizon_months: u32, dates: &[NaiveDate]) -> bool {
    let until = graded
        .checked_add_months(Months::new(horizon_months))
        .unwrap_or(NaiveDate::MAX);
    dates.iter().any(|date| *date > graded && *date <= until)
}

/// The dates of every outcome of one kind, by customer.
pub type OutcomeDates = BTreeMap<CustomerId, Vec<NaiveDate>>;

/// Whether one of `customer`'s outcomes in `dates` followed its grading (or override) on
/// `graded` within `horizon_months`.
pub fn followed_for(
    dates: &OutcomeDates,
    customer: CustomerId,
    graded: NaiveDate,
    horizon_months: u32,
) -> bool {
    dates
        .get(&customer)
        .is_some_and(|dates| followed(graded, horizon_months, dates))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn an_outcome_follows_within_the_horizon_only() {
        let graded = day("2026-03-31");
        assert!(followed(graded, 12, &[day("2027-03-31")]));
        assert!(!followed(graded, 12, &[day("2027-04-01")]));
        assert!(
            !followed(graded, 12, &[day("2026-03-31")]),
            "not on the day of grading"
        );
        assert!(!followed(graded, 12, &[]));
    }

    #[test]
    fn days_late_belong_to_late_payments_only() {
        let today = day("2026-11-23");
        let late = Outcome {
            kind: OutcomeKind::LatePayment,
            occur_date: day("2026-10-01"),
            days_late: None,
            note: String::new(),
        };
        let fields: Vec<&str> = late.check(today).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["days_late"]);
        let churn = Outcome {
            kind: OutcomeKind::Churn,
            days_late: Some(10),
            occur_date: day("2030-01-01"),
            ..late
        };
        let fields: Vec<&str> = churn.check(today).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["occur_date", "days_late"]);
    }

    #[test]
    fn kinds_round_trip_their_storage_words() {
        for kind in [
            OutcomeKind::Default,
            OutcomeKind::LatePayment,
            OutcomeKind::Churn,
        ] {
            assert_eq!(OutcomeKind::parse(kind.as_str()), Some(kind));
        }
    }
}
