//! The batches of a portfolio re-grade, in two steps so that one batch is graded while the
//! previous one is written. Grading reads the next customers of the selection after a
//! cursor (one keyset query) and their newest figures (one query), and grades them. Storing
//! writes the assessments and current grades with multi-row inserts, and the run's progress
//! and new cursor, in one transaction, only while the run is still running under the same
//! holder at the cursor the batch continues from: a cancelled run, a run another server took
//! over, or a batch already stored is never stored (again).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, RelationTrait, Select,
    sea_query::{Expr, ExprTrait},
};

use super::{
    StorageError, Store,
    assessments::{graded, insert_all, row},
    customers::{filter_condition, parse_id as parse_customer_id, parse_kind},
    entities::{assessment, customer, customer_grade, operation},
    figures as figures_repo,
    grades::{GradeFilter, grade_condition, save_all},
    models::load_version_by_id,
    now,
    operations::{StoredRequest, count_to_i64, ending, from_json, lease_from, load, to_json},
};
use crate::domain::{
    customer::{CustomerId, CustomerKind},
    figures::FiguresSnapshot,
    grading::{CurrentGrade, ModelVersion},
    regrade::{OperationId, Pace, RegradeProgress, RegradeState, SkipReason, Skips},
    scoring::{Assessment, ScoringModel},
};

/// What a server needs to run a re-grade, read once when it takes the run up.
#[derive(Debug, Clone)]
pub struct RegradePlan {
    pub id: OperationId,
    pub pace: Pace,
    /// The customers processed before this server took the run up.
    pub processed_before: u64,
    /// Where this server takes the run up: after this customer.
    pub cursor: Option<String>,
    filter: GradeFilter,
    /// Customers registered after this are not part of the run.
    create_time: DateTime<Utc>,
    /// The version that grades each kind (and its row id); a kind missing has no champion.
    versions: Vec<(CustomerKind, i64, ModelVersion)>,
}

impl RegradePlan {
    fn version_for(&self, kind: CustomerKind) -> Option<(i64, &ModelVersion)> {
        self.versions
            .iter()
            .find(|(of, _, _)| *of == kind)
            .map(|(_, id, version)| (*id, version))
    }
}

/// A batch of customers graded and not yet stored.
#[derive(Debug, Clone)]
pub struct GradedBatch {
    /// The cursor it continues from; it is stored only if the run is still there.
    after: Option<String>,
    /// The last customer of the batch: the run's cursor once it is stored.
    pub last: String,
    processed: usize,
    assessments: Vec<assessment::ActiveModel>,
    grades: Vec<CurrentGrade>,
    skips: Skips,
}

/// What storing one batch came to.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchOutcome {
    /// The batch is stored; more customers may follow.
    Stored(RegradeProgress),
    /// No customer was left: the run succeeded.
    Finished(RegradeProgress),
    /// The run was cancelled, deleted or taken over by another server; nothing was stored.
    NotHeld,
}

impl Store {
    /// Reads what running `id` takes: its filter, pace and versions.
    pub async fn regrade_plan(&self, id: OperationId) -> Result<RegradePlan, StorageError> {
        let db = self.reader()?;
        let row = operation::Entity::find_by_id(id.to_string())
            .one(db)
            .await?
            .ok_or(StorageError::NotFound { what: "operation" })?;
        let request: StoredRequest = from_json(&row.request)
            .map_err(|error| StorageError::Corrupt(format!("operation {id}: {error}")))?;
        let mut versions = Vec::new();
        for (kind, version_id) in request.versions {
            versions.push((kind, version_id, load_version_by_id(db, version_id).await?));
        }
        Ok(RegradePlan {
            id,
            pace: request.spec.pace,
            processed_before: u64::try_from(row.processed_count).unwrap_or(0),
            cursor: row.cursor,
            filter: request.spec.filter,
            create_time: row.create_time,
            versions,
        })
    }

    /// Reads and grades the customers of `plan`'s run that follow `after` (a batch of them),
    /// outside any write transaction, so that the next batch is graded while this one is
    /// stored. `None` when no customer is left.
    pub async fn grade_batch(
        &self,
        plan: &RegradePlan,
        after: Option<&str>,
        grade: impl Fn(&ScoringModel, &FiguresSnapshot) -> Assessment,
    ) -> Result<Option<GradedBatch>, StorageError> {
        let db = self.reader()?;
        let time = now();
        let mut batch = selection(&plan.filter, plan.create_time, time);
        if let Some(after) = after {
            batch = batch.filter(customer::Column::Id.gt(after));
        }
        let customers: Vec<(String, String)> = batch
            .select_only()
            .columns([customer::Column::Id, customer::Column::Kind])
            .order_by_asc(customer::Column::Id)
            .limit(u64::try_from(plan.pace.batch_size()).unwrap_or(u64::MAX))
            .into_tuple()
            .all(db)
            .await?;
        let Some((last, _)) = customers.last() else {
            return Ok(None);
        };
        let last = last.clone();
        let mut newest: BTreeMap<String, _> =
            figures_repo::newest_rows(db, customers.iter().map(|(customer, _)| customer.clone()))
                .await?
                .into_iter()
                .map(|row| (row.customer_id.clone(), row))
                .collect();

        let mut assessments = Vec::with_capacity(customers.len());
        let mut grades = Vec::with_capacity(customers.len());
        let mut skips = Skips::default();
        for (customer, kind) in &customers {
            let customer_id: CustomerId = parse_customer_id(customer)?;
            let Some((version_id, version)) = plan.version_for(parse_kind(kind)?) else {
                skips.add(SkipReason::NoChampion, customer_id);
                continue;
            };
            let Some(figures_row) = newest.remove(customer) else {
                skips.add(SkipReason::NoFigures, customer_id);
                continue;
            };
            let figures_id = figures_row.id;
            let figures = figures_repo::to_domain(figures_row)?;
            let record = graded(&figures, version.key.clone(), time, |snapshot| {
                grade(&version.definition, snapshot)
            });
            grades.push(CurrentGrade::of(&record, &figures.snapshot.figures));
            assessments.push(row(&record, figures_id, version_id, Some(plan.id))?);
        }
        Ok(Some(GradedBatch {
            after: after.map(str::to_owned),
            last,
            processed: customers.len(),
            assessments,
            grades,
            skips,
        }))
    }

    /// Stores `batch` in one transaction with the run's progress, if `owner` still holds the
    /// run at the cursor the batch continues from.
    pub async fn store_batch(
        &self,
        plan: &RegradePlan,
        owner: &str,
        batch: &GradedBatch,
    ) -> Result<BatchOutcome, StorageError> {
        let change = self
            .grades
            .change(batch.grades.iter().map(|grade| grade.customer));
        let txn = self.begin_write().await?;
        let id = plan.id.to_string();
        let held = operation::Entity::find()
            .filter(held_at(&id, owner, batch.after.as_deref()))
            .one(&txn)
            .await?;
        let Some(held) = held else {
            return Ok(BatchOutcome::NotHeld);
        };
        let mut skips: Skips = from_json(&held.skips)
            .map_err(|error| StorageError::Corrupt(format!("operation {id}: {error}")))?;
        skips.merge(batch.skips.clone());
        let time = now();
        // The same condition again on the update: on PostgreSQL the read above takes no lock,
        // so a cancel, or another holder's batch, may commit in between; the update waits for
        // it and then matches no row.
        let advanced = operation::Entity::update_many()
            .col_expr(
                operation::Column::ProcessedCount,
                Expr::col(operation::Column::ProcessedCount).add(count(batch.processed)),
            )
            .col_expr(
                operation::Column::AssessedCount,
                Expr::col(operation::Column::AssessedCount).add(count(batch.assessments.len())),
            )
            .col_expr(operation::Column::Skips, Expr::value(to_json(&skips)?))
            .col_expr(operation::Column::Cursor, Expr::value(batch.last.as_str()))
            .col_expr(operation::Column::LeaseUntil, Expr::value(lease_from(time)))
            .col_expr(operation::Column::UpdateTime, Expr::value(time))
            .filter(held_at(&id, owner, batch.after.as_deref()))
            .exec(&txn)
            .await?;
        if advanced.rows_affected != 1 {
            return Ok(BatchOutcome::NotHeld);
        }
        insert_all(&txn, &batch.assessments).await?;
        save_all(&txn, &batch.grades, &change).await?;
        let progress = load(&txn, &id).await?.progress;
        txn.commit().await?;
        change.committed();
        Ok(BatchOutcome::Stored(progress))
    }

    /// Ends `plan`'s run as succeeded, if `owner` still holds it at `cursor`: every customer
    /// after it was dealt with.
    pub async fn finish_regrade(
        &self,
        plan: &RegradePlan,
        owner: &str,
        cursor: Option<&str>,
    ) -> Result<BatchOutcome, StorageError> {
        let txn = self.begin_write().await?;
        let id = plan.id.to_string();
        let finished = ending(RegradeState::Succeeded, now())
            .filter(held_at(&id, owner, cursor))
            .exec(&txn)
            .await?;
        if finished.rows_affected != 1 {
            return Ok(BatchOutcome::NotHeld);
        }
        let progress = load(&txn, &id).await?.progress;
        txn.commit().await?;
        Ok(BatchOutcome::Finished(progress))
    }
}

/// Run `id` as a batch expects it: still running, held by `owner`, at `cursor`. Only then is
/// a batch (or the run's end) stored.
fn held_at(id: &str, owner: &str, cursor: Option<&str>) -> sea_orm::Condition {
    let cursor = match cursor {
        Some(cursor) => operation::Column::Cursor.eq(cursor),
        None => operation::Column::Cursor.is_null(),
    };
    sea_orm::Condition::all()
        .add(operation::Column::Id.eq(id))
        .add(operation::Column::Owner.eq(owner))
        .add(operation::Column::State.eq(RegradeState::Running.as_str()))
        .add(cursor)
}

/// The customers a re-grade selects: under the filter's customer fields, registered by
/// `create_time`, and with a filter on a current grade's fields, graded and matching it at
/// `now`.
fn selection(
    filter: &GradeFilter,
    create_time: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Select<customer::Entity> {
    let query = customer::Entity::find()
        .filter(filter_condition(&filter.customers))
        .filter(customer::Column::CreateTime.lte(create_time));
    if !filter.reads_grades() {
        return query;
    }
    query
        .join(
            JoinType::InnerJoin,
            customer_grade::Relation::Customer.def().rev(),
        )
        .join(JoinType::LeftJoin, customer_grade::Relation::Override.def())
        .filter(grade_condition(filter, now))
}

/// How many customers a re-grade starting at `start` selects.
pub(super) async fn selection_count(
    db: &impl ConnectionTrait,
    filter: &GradeFilter,
    start: DateTime<Utc>,
) -> Result<u64, StorageError> {
    Ok(selection(filter, start, start).count(db).await?)
}

fn count(value: usize) -> i64 {
    count_to_i64(u64::try_from(value).unwrap_or(u64::MAX))
}
