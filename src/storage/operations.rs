//! The operation repository: starting a portfolio re-grade (idempotent), reading, listing,
//! cancelling and deleting operations, and the lease by which one server at a time runs an
//! operation. The batches themselves are in [`super::regrade`].

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, UpdateMany, sea_query::Expr,
};
use serde::{Deserialize, Serialize};

use super::{
    StorageError, Store,
    customers::Page,
    entities::operation,
    grades::GradeFilter,
    idempotency::{RequestKey, concurrent_result},
    models::{load_champion, load_version},
    now,
    regrade::selection_count,
};
use crate::domain::{
    customer::CustomerKind,
    grading::VersionKey,
    regrade::{OperationId, Pace, RegradeProgress, RegradeState, Skips},
};

/// The `kind` of a portfolio re-grade's row.
const REGRADE: &str = "regrade_portfolio";

/// How long a server holds a run without committing a batch before another server may take
/// it over: far longer than a batch takes, short enough that a crashed server's runs resume
/// soon after.
pub const LEASE: Duration = Duration::from_secs(30);

/// What a re-grade does: which customers, with which version, how fast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegradeSpec {
    pub filter: GradeFilter,
    /// `None`: each customer's kind's champion when the run started.
    pub model_version: Option<VersionKey>,
    pub pace: Pace,
}

/// A re-grade as kept: what was asked and how far it got.
#[derive(Debug, Clone, PartialEq)]
pub struct RegradeOperation {
    pub id: OperationId,
    pub spec: RegradeSpec,
    pub progress: RegradeProgress,
    /// Why a failed run failed, in words fit for the caller.
    pub error: Option<String>,
}

/// The request column: the spec, and the version row that grades each kind, resolved when the
/// run started so that a resumed run grades as the first part did.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct StoredRequest {
    pub spec: RegradeSpec,
    pub versions: Vec<(CustomerKind, i64)>,
}

impl Store {
    /// Starts a re-grade held by `owner`: resolves the versions, counts the customers it
    /// selects now, and stores the operation. With a `request_id`, a retry returns the
    /// operation the first call started; the flag says whether this call started it.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn start_regrade(
        &self,
        spec: &RegradeSpec,
        request_id: Option<&str>,
        owner: &str,
    ) -> Result<(RegradeOperation, bool), StorageError> {
        let key = request_id
            .map(|id| RequestKey::new("regrade_portfolio", id, spec))
            .transpose()?;
        match self.try_start_regrade(spec, key.as_ref(), owner).await {
            Err(error) if error.is_conflict() => {
                let id = concurrent_result(key.as_ref(), error, self.reader()?).await?;
                Ok((load(self.reader()?, &id).await?, false))
            }
            other => other,
        }
    }

    async fn try_start_regrade(
        &self,
        spec: &RegradeSpec,
        key: Option<&RequestKey<'_>>,
        owner: &str,
    ) -> Result<(RegradeOperation, bool), StorageError> {
        let txn = self.begin_write().await?;
        if let Some(key) = key
            && let Some(id) = key.earlier_result(&txn).await?
        {
            return Ok((load(&txn, &id).await?, false));
        }
        let versions = match &spec.model_version {
            Some(key) => {
                let (id, version) = load_version(&txn, key).await?;
                version.ensure_published("re-grading with it")?;
                CustomerKind::ALL.map(|kind| (kind, id)).to_vec()
            }
            None => {
                let mut champions = Vec::new();
                for kind in CustomerKind::ALL {
                    if let Some((id, _)) = load_champion(&txn, kind).await? {
                        champions.push((kind, id));
                    }
                }
                champions
            }
        };
        let start = now();
        let total = selection_count(&txn, &spec.filter, start).await?;
        let id = OperationId::generate();
        let request = StoredRequest {
            spec: spec.clone(),
            versions,
        };
        let row = operation::ActiveModel {
            id: Set(id.to_string()),
            kind: Set(REGRADE.to_owned()),
            request: Set(to_json(&request)?),
            state: Set(RegradeState::Running.as_str().to_owned()),
            total_count: Set(count_to_i64(total)),
            processed_count: Set(0),
            assessed_count: Set(0),
            skips: Set(to_json(&Skips::default())?),
            cursor: Set(None),
            owner: Set(Some(owner.to_owned())),
            lease_until: Set(Some(lease_from(start))),
            error: Set(None),
            create_time: Set(start),
            update_time: Set(start),
            end_time: Set(None),
        }
        .insert(&txn)
        .await?;
        if let Some(key) = key {
            key.remember(&txn, &row.id).await?;
        }
        txn.commit().await?;
        Ok((to_domain(row)?, true))
    }

    pub async fn get_operation(&self, id: OperationId) -> Result<RegradeOperation, StorageError> {
        load(self.reader()?, &id.to_string()).await
    }

    /// A page of operations, newest first; `done` keeps only finished (or only running) ones.
    pub async fn list_operations(
        &self,
        done: Option<bool>,
        after: Option<OperationId>,
        limit: u64,
    ) -> Result<Page<RegradeOperation>, StorageError> {
        let mut query = operation::Entity::find();
        let running = RegradeState::Running.as_str();
        match done {
            Some(true) => query = query.filter(operation::Column::State.ne(running)),
            Some(false) => query = query.filter(operation::Column::State.eq(running)),
            None => {}
        }
        if let Some(after) = after {
            query = query.filter(operation::Column::Id.lt(after.to_string()));
        }
        let rows = query
            .order_by_desc(operation::Column::Id)
            .limit(limit + 1)
            .all(self.reader()?)
            .await?;
        Page::from_overfetch(rows, limit).try_map(to_domain)
    }

    /// Stops a running re-grade: the batch being stored (if any) is rolled back, the ones
    /// before it stay. Cancelling a finished operation changes nothing.
    pub async fn cancel_operation(
        &self,
        id: OperationId,
    ) -> Result<RegradeOperation, StorageError> {
        let txn = self.begin_write().await?;
        let time = now();
        ending(RegradeState::Cancelled, time)
            .filter(operation::Column::Id.eq(id.to_string()))
            .filter(operation::Column::State.eq(RegradeState::Running.as_str()))
            .exec(&txn)
            .await?;
        let cancelled = load(&txn, &id.to_string()).await?;
        txn.commit().await?;
        Ok(cancelled)
    }

    /// Forgets a finished operation; a running one must be cancelled first.
    pub async fn delete_operation(&self, id: OperationId) -> Result<(), StorageError> {
        let txn = self.begin_write().await?;
        let found = load(&txn, &id.to_string()).await?;
        if !found.progress.state.is_done() {
            return Err(StorageError::FailedPrecondition(
                "the operation is still running; cancel it before deleting it".to_owned(),
            ));
        }
        operation::Entity::delete_by_id(id.to_string())
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Takes over the running re-grades that no server holds (released on shutdown, or
    /// whose holder stopped renewing its lease), for `owner`. Returns the ids it took.
    pub async fn claim_orphaned_regrades(
        &self,
        owner: &str,
    ) -> Result<Vec<OperationId>, StorageError> {
        let db = self.reader()?;
        let time = now();
        let orphaned = || {
            Condition::all()
                .add(operation::Column::State.eq(RegradeState::Running.as_str()))
                .add(
                    Condition::any()
                        .add(operation::Column::Owner.is_null())
                        .add(operation::Column::LeaseUntil.lt(time)),
                )
        };
        let candidates: Vec<String> = operation::Entity::find()
            .select_only()
            .column(operation::Column::Id)
            .filter(orphaned())
            .into_tuple()
            .all(db)
            .await?;
        let mut claimed = Vec::new();
        for id in candidates {
            // Another server may take the same one first; only one update matches.
            let taken = operation::Entity::update_many()
                .col_expr(operation::Column::Owner, Expr::value(owner))
                .col_expr(operation::Column::LeaseUntil, Expr::value(lease_from(time)))
                .filter(operation::Column::Id.eq(id.as_str()))
                .filter(orphaned())
                .exec(db)
                .await?;
            if taken.rows_affected == 1 {
                claimed.push(parse_id(&id)?);
            }
        }
        Ok(claimed)
    }

    /// Lets go of a run `owner` holds, so another server (or this one after a restart)
    /// continues it at once.
    pub async fn release_regrade(&self, id: OperationId, owner: &str) -> Result<(), StorageError> {
        operation::Entity::update_many()
            .col_expr(
                operation::Column::Owner,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                operation::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(operation::Column::Id.eq(id.to_string()))
            .filter(operation::Column::Owner.eq(owner))
            .exec(self.reader()?)
            .await?;
        Ok(())
    }

    /// Ends a run `owner` holds as failed, with `reason` for the caller.
    pub async fn fail_regrade(
        &self,
        id: OperationId,
        owner: &str,
        reason: &str,
    ) -> Result<(), StorageError> {
        let time = now();
        ending(RegradeState::Failed, time)
            .col_expr(operation::Column::Error, Expr::value(reason))
            .filter(operation::Column::Id.eq(id.to_string()))
            .filter(operation::Column::Owner.eq(owner))
            .filter(operation::Column::State.eq(RegradeState::Running.as_str()))
            .exec(self.reader()?)
            .await?;
        Ok(())
    }
}

/// The update that ends a run at `time` in `state` and lets go of it; filter it to the run.
pub(super) fn ending(state: RegradeState, time: DateTime<Utc>) -> UpdateMany<operation::Entity> {
    operation::Entity::update_many()
        .col_expr(operation::Column::State, Expr::value(state.as_str()))
        .col_expr(
            operation::Column::Owner,
            Expr::value(Option::<String>::None),
        )
        .col_expr(operation::Column::EndTime, Expr::value(time))
        .col_expr(operation::Column::UpdateTime, Expr::value(time))
}

/// The lease a server holding a run at `time` has.
pub(super) fn lease_from(time: DateTime<Utc>) -> DateTime<Utc> {
    time + TimeDelta::from_std(LEASE).unwrap_or(TimeDelta::MAX)
}

pub(super) async fn load(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<RegradeOperation, StorageError> {
    let row = operation::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(StorageError::NotFound { what: "operation" })?;
    to_domain(row)
}

pub(super) fn to_domain(row: operation::Model) -> Result<RegradeOperation, StorageError> {
    let corrupt = |what: &str| StorageError::Corrupt(format!("operation {}: {what}", row.id));
    let request: StoredRequest = from_json(&row.request).map_err(|_| corrupt("request"))?;
    let count = |value: i64| u64::try_from(value).map_err(|_| corrupt("count"));
    Ok(RegradeOperation {
        id: parse_id(&row.id)?,
        spec: request.spec,
        progress: RegradeProgress {
            state: RegradeState::parse(&row.state).ok_or_else(|| corrupt("state"))?,
            total: count(row.total_count)?,
            processed: count(row.processed_count)?,
            assessed: count(row.assessed_count)?,
            skips: from_json(&row.skips).map_err(|_| corrupt("skips"))?,
            create_time: row.create_time,
            update_time: row.update_time,
            end_time: row.end_time,
        },
        error: row.error,
    })
}

pub(super) fn parse_id(raw: &str) -> Result<OperationId, StorageError> {
    OperationId::parse(raw).map_err(|_| StorageError::Corrupt(format!("operation id {raw:?}")))
}

pub(super) fn to_json(value: &impl Serialize) -> Result<String, StorageError> {
    serde_json::to_string(value).map_err(|error| StorageError::Corrupt(error.to_string()))
}

pub(super) fn from_json<T: for<'de> Deserialize<'de>>(raw: &str) -> serde_json::Result<T> {
    serde_json::from_str(raw)
}

/// Counts live in BIGINT columns; a book never nears 2^63 customers.
pub(super) fn count_to_i64(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}
