//! The outcome repository: recording what happened to customers (idempotent, never changed),
//! reading a customer's outcomes, and the two reads a validation report joins: the graded
//! customers of a period and the outcomes of a kind.

use std::ops::Range;

use chrono::{DateTime, NaiveDate, Utc};
use futures::TryStreamExt;
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::{
    StorageError, Store,
    customers::{CustomerFilter, Page, ensure_exists, parse_id},
    entities::{assessment, outcome},
    idempotency::{RequestKey, concurrent_result},
    now, older_than,
    period::{PerCustomer, Population},
};
use crate::domain::{
    customer::CustomerId,
    grading::VersionKey,
    outcome::{Outcome, OutcomeDates, OutcomeId, OutcomeKind, RecordedOutcome},
};

/// Where a page of outcomes continues: after this date and id (newest first).
pub type OutcomeCursor = (NaiveDate, OutcomeId);

/// A customer graded in a period: the first grading of the period, as of its day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graded {
    pub customer: CustomerId,
    pub graded_on: NaiveDate,
    pub score: Decimal,
    pub grade: String,
}

impl Store {
    /// Records an outcome. With a `request_id`, a retry returns the outcome first recorded.
    #[tracing::instrument(skip_all, fields(customer = %customer), err(level = "debug"))]
    pub async fn record_outcome(
        &self,
        customer: CustomerId,
        outcome: &Outcome,
        request_id: Option<&str>,
    ) -> Result<RecordedOutcome, StorageError> {
        let key = request_id
            .map(|id| RequestKey::new("record_outcome", id, &(customer, outcome)))
            .transpose()?;
        match self
            .try_record_outcome(customer, outcome, key.as_ref())
            .await
        {
            Err(error) if error.is_conflict() => {
                let id = concurrent_result(key.as_ref(), error, self.reader()?).await?;
                load_outcome(self.reader()?, &id).await
            }
            other => other,
        }
    }

    async fn try_record_outcome(
        &self,
        customer: CustomerId,
        outcome: &Outcome,
        key: Option<&RequestKey<'_>>,
    ) -> Result<RecordedOutcome, StorageError> {
        let txn = self.begin_write().await?;
        if let Some(key) = key
            && let Some(id) = key.earlier_result(&txn).await?
        {
            return load_outcome(&txn, &id).await;
        }
        ensure_exists(&txn, customer).await?;
        let recorded = RecordedOutcome {
            id: OutcomeId::generate(),
            customer,
            outcome: outcome.clone(),
            record_time: now(),
        };
        outcome::ActiveModel {
            id: Set(recorded.id.to_string()),
            customer_id: Set(customer.to_string()),
            kind: Set(outcome.kind.as_str().to_owned()),
            occur_date: Set(outcome.occur_date),
            days_late: Set(outcome
                .days_late
                .map(|days| i32::try_from(days).unwrap_or(i32::MAX))),
            note: Set(outcome.note.clone()),
            record_time: Set(recorded.record_time),
        }
        .insert(&txn)
        .await?;
        if let Some(key) = key {
            key.remember(&txn, &recorded.id.to_string()).await?;
        }
        txn.commit().await?;
        Ok(recorded)
    }

    /// A page of the customer's outcomes, newest first.
    pub async fn list_outcomes(
        &self,
        customer: CustomerId,
        after: Option<OutcomeCursor>,
        limit: u64,
    ) -> Result<Page<RecordedOutcome>, StorageError> {
        let db = self.reader()?;
        ensure_exists(db, customer).await?;
        let mut query =
            outcome::Entity::find().filter(outcome::Column::CustomerId.eq(customer.to_string()));
        if let Some((date, id)) = after {
            query = query.filter(older_than(
                outcome::Column::OccurDate,
                outcome::Column::Id,
                (date, id.to_string()),
            ));
        }
        let rows = query
            .order_by_desc(outcome::Column::OccurDate)
            .order_by_desc(outcome::Column::Id)
            .limit(limit + 1)
            .all(db)
            .await?;
        Page::from_overfetch(rows, limit).try_map(to_domain)
    }

    /// Calls `visit` with each customer under `customers` graded in `period` (with
    /// `version`, or with any) and its first grading of the period, in customer order.
    pub async fn visit_graded_in(
        &self,
        version: Option<&VersionKey>,
        customers: &CustomerFilter,
        period: &Range<DateTime<Utc>>,
        mut visit: impl FnMut(Graded),
    ) -> Result<(), StorageError> {
        self.visit_one_per_customer(
            Population {
                version,
                customers,
                period,
            },
            PerCustomer::First,
            &[
                assessment::Column::AssessTime,
                assessment::Column::TotalScore,
                assessment::Column::Grade,
            ],
            |row: &(String, DateTime<Utc>, String, String)| row.0.as_str(),
            |(customer, time, score, grade)| {
                visit(Graded {
                    customer: parse_id(&customer)?,
                    graded_on: time.date_naive(),
                    score: score
                        .parse()
                        .map_err(|_| StorageError::Corrupt(format!("score {score:?}")))?,
                    grade,
                });
                Ok(())
            },
        )
        .await
    }

    /// The dates of every outcome of `kind` (late payments at least `min_days_late` late), by
    /// customer.
    pub async fn outcome_dates(
        &self,
        kind: OutcomeKind,
        min_days_late: u32,
    ) -> Result<OutcomeDates, StorageError> {
        let db = self.reader()?;
        let mut query = outcome::Entity::find()
            .select_only()
            .columns([outcome::Column::CustomerId, outcome::Column::OccurDate])
            .filter(outcome::Column::Kind.eq(kind.as_str()));
        if kind == OutcomeKind::LatePayment && min_days_late > 0 {
            query = query.filter(
                outcome::Column::DaysLate.gte(i32::try_from(min_days_late).unwrap_or(i32::MAX)),
            );
        }
        let mut rows = query.into_tuple::<(String, NaiveDate)>().stream(db).await?;
        let mut dates = OutcomeDates::new();
        while let Some((customer, date)) = rows.try_next().await? {
            dates.entry(parse_id(&customer)?).or_default().push(date);
        }
        Ok(dates)
    }
}

async fn load_outcome(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<RecordedOutcome, StorageError> {
    let row = outcome::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(StorageError::NotFound { what: "outcome" })?;
    to_domain(row)
}

fn to_domain(row: outcome::Model) -> Result<RecordedOutcome, StorageError> {
    let corrupt = |what: &str| StorageError::Corrupt(format!("outcome {}: {what}", row.id));
    Ok(RecordedOutcome {
        id: OutcomeId::parse(&row.id).map_err(|_| corrupt("id"))?,
        customer: parse_id(&row.customer_id)?,
        outcome: Outcome {
            kind: OutcomeKind::parse(&row.kind).ok_or_else(|| corrupt("kind"))?,
            occur_date: row.occur_date,
            days_late: row
                .days_late
                .map(|days| u32::try_from(days).map_err(|_| corrupt("days late")))
                .transpose()?,
            note: row.note,
        },
        record_time: row.record_time,
    })
}
