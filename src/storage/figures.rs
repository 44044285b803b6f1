//! The figures repository: recording snapshots (a date recorded again becomes a new revision;
//! the old one stays), and reading the current snapshot as of a date or a page of them.

use chrono::NaiveDate;
use futures::TryStreamExt;
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Alias, Expr, ExprTrait, Query, SimpleExpr},
};

use super::{
    StorageError, Store,
    customers::{
        CustomerFilter, Page, ensure_exists, filter_condition, load_for_update, parse_kind,
    },
    entities::{customer, figures},
    idempotency::{RequestKey, concurrent_result},
    now, older_than,
};
use crate::domain::{
    customer::{CustomerId, CustomerKind},
    figures::{FiguresSnapshot, RecordedFigures},
};

/// Where a page of snapshots continues: after this date and revision (newest first).
pub type FiguresCursor = (NaiveDate, i32);

impl Store {
    /// Records a snapshot. A date that already has one is refused unless `supersede` is set;
    /// then the new snapshot becomes the next revision and the old one is marked superseded.
    #[tracing::instrument(skip_all, fields(customer = %customer), err(level = "debug"))]
    pub async fn record_figures(
        &self,
        customer: CustomerId,
        snapshot: FiguresSnapshot,
        supersede: bool,
        request_id: Option<&str>,
    ) -> Result<RecordedFigures, StorageError> {
        let key = request_id
            .map(|id| RequestKey::new("record_figures", id, &(customer, &snapshot, supersede)))
            .transpose()?;
        match self
            .try_record_figures(customer, &snapshot, supersede, key.as_ref())
            .await
        {
            Err(error) if error.is_conflict() => {
                let row_id = concurrent_result(key.as_ref(), error, self.reader()?).await?;
                load_revision(self.reader()?, &row_id).await
            }
            other => other,
        }
    }

    async fn try_record_figures(
        &self,
        customer: CustomerId,
        snapshot: &FiguresSnapshot,
        supersede: bool,
        key: Option<&RequestKey<'_>>,
    ) -> Result<RecordedFigures, StorageError> {
        let txn = self.begin_write().await?;
        if let Some(key) = key
            && let Some(row_id) = key.earlier_result(&txn).await?
        {
            return load_revision(&txn, &row_id).await;
        }
        if load_for_update(&txn, customer).await?.is_deleted() {
            return Err(StorageError::FailedPrecondition(
                "the customer is deleted; undelete it before recording figures".to_owned(),
            ));
        }
        let latest_revision: Option<i32> = figures::Entity::find()
            .select_only()
            .column_as(figures::Column::Revision.max(), "revision")
            .filter(of_date(customer, snapshot.as_of))
            .into_tuple::<Option<i32>>()
            .one(&txn)
            .await?
            .flatten();
        if latest_revision.is_some() && !supersede {
            return Err(StorageError::AlreadyExists(format!(
                "figures as of {} already exist; set supersede to record a new revision",
                snapshot.as_of
            )));
        }
        figures::Entity::update_many()
            .col_expr(figures::Column::Superseded, Expr::value(true))
            .filter(of_date(customer, snapshot.as_of))
            .exec(&txn)
            .await?;
        let inputs = serde_json::to_string(&snapshot.figures)
            .map_err(|error| StorageError::Corrupt(format!("figures: {error}")))?;
        let row = figures::ActiveModel {
            customer_id: Set(customer.to_string()),
            as_of_date: Set(snapshot.as_of),
            revision: Set(latest_revision.unwrap_or(0) + 1),
            superseded: Set(false),
            record_time: Set(now()),
            source: Set(snapshot.source.clone()),
            currency: Set(snapshot.currency.clone()),
            inputs: Set(inputs),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        if let Some(key) = key {
            key.remember(&txn, &row.id.to_string()).await?;
        }
        txn.commit().await?;
        to_domain(row)
    }

    /// The customer's newest current snapshot, or the newest dated on or before `as_of`.
    pub async fn current_figures(
        &self,
        customer: CustomerId,
        as_of: Option<NaiveDate>,
    ) -> Result<RecordedFigures, StorageError> {
        let db = self.reader()?;
        ensure_exists(db, customer).await?;
        let row = current_row(db, customer, as_of)
            .await?
            .ok_or(StorageError::NotFound { what: "figures" })?;
        to_domain(row)
    }

    /// A page of the customer's snapshots, newest date first and, within a date, newest
    /// revision first.
    pub async fn list_figures(
        &self,
        customer: CustomerId,
        show_superseded: bool,
        after: Option<FiguresCursor>,
        limit: u64,
    ) -> Result<Page<RecordedFigures>, StorageError> {
        let db = self.reader()?;
        ensure_exists(db, customer).await?;
        let mut query =
            figures::Entity::find().filter(figures::Column::CustomerId.eq(customer.to_string()));
        if !show_superseded {
            query = query.filter(figures::Column::Superseded.eq(false));
        }
        if let Some((date, revision)) = after {
            query = query.filter(older_than(
                figures::Column::AsOfDate,
                figures::Column::Revision,
                (date, revision),
            ));
        }
        let rows = query
            .order_by_desc(figures::Column::AsOfDate)
            .order_by_desc(figures::Column::Revision)
            .limit(limit + 1)
            .all(db)
            .await?;
        Page::from_overfetch(rows, limit).try_map(to_domain)
    }
}

impl Store {
    /// Calls `visit` with the newest current snapshot of every customer under `customers`
    /// that has one, and the customer's kind, in customer order, one row at a time. Returns
    /// how many customers the filter selects, with figures or without.
    pub async fn visit_newest_figures(
        &self,
        customers: &CustomerFilter,
        mut visit: impl FnMut(CustomerKind, RecordedFigures),
    ) -> Result<u64, StorageError> {
        let db = self.reader()?;
        let selected = customer::Entity::find()
            .filter(filter_condition(customers))
            .count(db)
            .await?;
        let mut rows = figures::Entity::find()
            .find_also_related(customer::Entity)
            .filter(filter_condition(customers))
            .filter(figures::Column::Superseded.eq(false))
            .filter(newest_of_its_customer())
            .order_by_asc(figures::Column::CustomerId)
            .stream(db)
            .await?;
        while let Some((row, owner)) = rows.try_next().await? {
            let owner = owner.ok_or_else(|| {
                StorageError::Corrupt(format!("figures {} have no customer", row.id))
            })?;
            visit(parse_kind(&owner.kind)?, to_domain(row)?);
        }
        Ok(selected)
    }
}

/// The newest current snapshot of each of `customers` that has one, in customer order.
pub(super) async fn newest_rows(
    db: &impl ConnectionTrait,
    customers: impl IntoIterator<Item = String>,
) -> Result<Vec<figures::Model>, StorageError> {
    Ok(figures::Entity::find()
        .filter(figures::Column::CustomerId.is_in(customers))
        .filter(figures::Column::Superseded.eq(false))
        .filter(newest_of_its_customer())
        .order_by_asc(figures::Column::CustomerId)
        .all(db)
        .await?)
}

/// A current snapshot no other current snapshot of its customer is dated after: with
/// `superseded = false`, one row per customer, found by a probe of
/// idx_figures_customer_date_revision rather than by reading a customer's whole history.
fn newest_of_its_customer() -> SimpleExpr {
    let newer = Alias::new("newer");
    let theirs = |column: figures::Column| Expr::col((newer.clone(), column));
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from_as(figures::Entity, newer.clone())
            .and_where(
                theirs(figures::Column::CustomerId)
                    .equals((figures::Entity, figures::Column::CustomerId)),
            )
            .and_where(theirs(figures::Column::Superseded).eq(false))
            .and_where(
                theirs(figures::Column::AsOfDate)
                    .gt(Expr::col((figures::Entity, figures::Column::AsOfDate))),
            )
            .to_owned(),
    )
    .not()
}

/// The customer's newest current revision, or the newest dated on or before `as_of`.
pub(super) async fn current_row(
    db: &impl ConnectionTrait,
    customer: CustomerId,
    as_of: Option<NaiveDate>,
) -> Result<Option<figures::Model>, StorageError> {
    let mut query = figures::Entity::find()
        .filter(figures::Column::CustomerId.eq(customer.to_string()))
        .filter(figures::Column::Superseded.eq(false));
    if let Some(as_of) = as_of {
        query = query.filter(figures::Column::AsOfDate.lte(as_of));
    }
    Ok(query
        .order_by_desc(figures::Column::AsOfDate)
        .one(db)
        .await?)
}

fn of_date(customer: CustomerId, as_of: NaiveDate) -> Condition {
    Condition::all()
        .add(figures::Column::CustomerId.eq(customer.to_string()))
        .add(figures::Column::AsOfDate.eq(as_of))
}

async fn load_revision(
    db: &impl ConnectionTrait,
    row_id: &str,
) -> Result<RecordedFigures, StorageError> {
    let id: i64 = row_id
        .parse()
        .map_err(|_| StorageError::Corrupt(format!("figures row id {row_id:?}")))?;
    let row = figures::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(StorageError::NotFound { what: "figures" })?;
    to_domain(row)
}

pub(super) fn to_domain(row: figures::Model) -> Result<RecordedFigures, StorageError> {
    let inputs = serde_json::from_str(&row.inputs)
        .map_err(|error| StorageError::Corrupt(format!("figures {}: {error}", row.id)))?;
    Ok(RecordedFigures {
        customer: super::customers::parse_id(&row.customer_id)?,
        snapshot: FiguresSnapshot {
            as_of: row.as_of_date,
            source: row.source,
            currency: row.currency,
            figures: inputs,
        },
        revision: row.revision,
        superseded: row.superseded,
        record_time: row.record_time,
    })
}
