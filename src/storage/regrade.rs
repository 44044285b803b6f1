//! The batches of a portfolio re-grade. A batch reads the next customers of the selection
//! after the run's cursor (one keyset query), their newest figures (one query), grades them,
//! and stores the assessments and current grades with multi-row inserts and the run's
//! progress and new cursor, all in one transaction. The progress update only matches while
//! the run is still running under the same holder at the same cursor, so a cancelled run, a
//! run another server took over, or a batch already stored is never stored (again).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, RelationTrait, Select,
    sea_query::{Expr, ExprTrait},
};

use super::{
    StorageError, Store,
    assessments::{graded, row},
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
            filter: request.spec.filter,
            create_time: row.create_time,
            versions,
        })
    }

    /// Grades and stores the next batch of `plan`'s run, held by `owner`.
    pub async fn regrade_batch(
        &self,
        plan: &RegradePlan,
        owner: &str,
        grade: impl Fn(&ScoringModel, &FiguresSnapshot) -> Assessment,
    ) -> Result<BatchOutcome, StorageError> {
        let txn = self.begin_write().await?;
        let id = plan.id.to_string();
        let held = operation::Entity::find_by_id(id.as_str())
            .filter(operation::Column::Owner.eq(owner))
            .filter(operation::Column::State.eq(RegradeState::Running.as_str()))
            .one(&txn)
            .await?;
        let Some(held) = held else {
            return Ok(BatchOutcome::NotHeld);
        };
        let time = now();
        let mut batch = selection(&plan.filter, plan.create_time, time);
        if let Some(cursor) = &held.cursor {
            batch = batch.filter(customer::Column::Id.gt(cursor.as_str()));
        }
        let customers: Vec<(String, String)> = batch
            .select_only()
            .columns([customer::Column::Id, customer::Column::Kind])
            .order_by_asc(customer::Column::Id)
            .limit(u64::try_from(plan.pace.batch_size()).unwrap_or(u64::MAX))
            .into_tuple()
            .all(&txn)
            .await?;
        let Some((last, _)) = customers.last() else {
            let finished = ending(RegradeState::Succeeded, time)
                .filter(held_at(&held, owner))
                .exec(&txn)
                .await?;
            if finished.rows_affected != 1 {
                return Ok(BatchOutcome::NotHeld);
            }
            let progress = load(&txn, &id).await?.progress;
            txn.commit().await?;
            return Ok(BatchOutcome::Finished(progress));
        };
        let last = last.clone();
        let mut newest: BTreeMap<String, _> =
            figures_repo::newest_rows(&txn, customers.iter().map(|(customer, _)| customer.clone()))
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
        let assessed = assessments.len();
        if !assessments.is_empty() {
            assessment::Entity::insert_many(assessments)
                .exec_without_returning(&txn)
                .await?;
        }
        save_all(&txn, &grades).await?;

        let mut all_skips: Skips = from_json(&held.skips)
            .map_err(|error| StorageError::Corrupt(format!("operation {id}: {error}")))?;
        all_skips.merge(skips);
        let advanced = operation::Entity::update_many()
            .col_expr(
                operation::Column::ProcessedCount,
                Expr::col(operation::Column::ProcessedCount).add(count(customers.len())),
            )
            .col_expr(
                operation::Column::AssessedCount,
                Expr::col(operation::Column::AssessedCount).add(count(assessed)),
            )
            .col_expr(operation::Column::Skips, Expr::value(to_json(&all_skips)?))
            .col_expr(operation::Column::Cursor, Expr::value(last))
            .col_expr(operation::Column::LeaseUntil, Expr::value(lease_from(time)))
            .col_expr(operation::Column::UpdateTime, Expr::value(time))
            .filter(held_at(&held, owner))
            .exec(&txn)
            .await?;
        if advanced.rows_affected != 1 {
            // Rolled back on drop: nothing of this batch is kept.
            return Ok(BatchOutcome::NotHeld);
        }
        let progress = load(&txn, &id).await?.progress;
        txn.commit().await?;
        Ok(BatchOutcome::Stored(progress))
    }

    /// The assessments run `id` made of each customer it assessed, by customer; for checking
    /// that a run assessed no customer twice.
    pub async fn assessments_of_operation(
        &self,
        id: OperationId,
    ) -> Result<BTreeMap<CustomerId, u64>, StorageError> {
        let rows: Vec<(String, i64)> = assessment::Entity::find()
            .select_only()
            .column(assessment::Column::CustomerId)
            .column_as(assessment::Column::Id.count(), "assessments")
            .filter(assessment::Column::OperationId.eq(id.to_string()))
            .group_by(assessment::Column::CustomerId)
            .into_tuple()
            .all(self.reader()?)
            .await?;
        rows.into_iter()
            .map(|(customer, assessments)| {
                Ok((
                    parse_customer_id(&customer)?,
                    u64::try_from(assessments).unwrap_or(0),
                ))
            })
            .collect()
    }
}

/// The operation row as `held` read it: still running, under the same holder, at the same
/// cursor. Only then is a batch's progress (or the run's end) stored.
fn held_at(held: &operation::Model, owner: &str) -> sea_orm::Condition {
    let cursor = match &held.cursor {
        Some(cursor) => operation::Column::Cursor.eq(cursor.as_str()),
        None => operation::Column::Cursor.is_null(),
    };
    sea_orm::Condition::all()
        .add(operation::Column::Id.eq(held.id.as_str()))
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
