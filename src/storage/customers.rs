//! The customer repository: registration (idempotent), reads, filtered keyset pages, optimistic
//! updates and soft delete. Every write is one transaction.

use std::collections::BTreeMap;

use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
    sea_query::{LockType, Query},
};

use super::{
    StorageError, Store,
    entities::{customer, customer_label},
    idempotency::{RequestKey, concurrent_result},
    now,
};
use crate::domain::customer::{Customer, CustomerId, CustomerKind, CustomerProfile, ProfileChange};

/// The PostgreSQL advisory lock key that serializes parent changes ("cgparent" in ASCII).
const PARENT_CHANGE_LOCK: i64 = 0x6367_7061_7265_6e74;

/// How far up a chain of parents the cycle check looks; real groups are a few levels deep.
const MAX_PARENT_DEPTH: usize = 64;

/// Which customers a list returns. Empty fields match everything. Serde: a re-grade keeps
/// its filter with the operation.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CustomerFilter {
    pub kind: Option<CustomerKind>,
    pub industry: Option<String>,
    pub region: Option<String>,
    /// A label key, and optionally the value it must have.
    pub label: Option<(String, Option<String>)>,
    pub show_deleted: bool,
}

/// One page of a keyset-paginated list, and whether more follow.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_more: bool,
}

impl<T> Page<T> {
    /// Builds a page from a query that fetched one row more than `limit`.
    pub(super) fn from_overfetch(mut items: Vec<T>, limit: u64) -> Self {
        let has_more = items.len() as u64 > limit;
        items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Self { items, has_more }
    }

    /// The same page with every item converted, or the first conversion's error.
    pub(super) fn try_map<U, E>(
        self,
        convert: impl FnMut(T) -> Result<U, E>,
    ) -> Result<Page<U>, E> {
        Ok(Page {
            items: self
                .items
                .into_iter()
                .map(convert)
                .collect::<Result<_, _>>()?,
            has_more: self.has_more,
        })
    }
}

/// What a condition on a customer's etag expects: `None` means unconditional.
pub type ExpectedVersion = Option<i64>;

impl Store {
    /// Registers a customer. With a `request_id`, a retry returns the customer the first call
    /// made, even when the two calls race.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn create_customer(
        &self,
        profile: CustomerProfile,
        request_id: Option<&str>,
    ) -> Result<Customer, StorageError> {
        let key = request_id
            .map(|id| RequestKey::new("create_customer", id, &profile))
            .transpose()?;
        match self.try_create_customer(&profile, key.as_ref()).await {
            Err(error) if error.is_conflict() => {
                // A concurrent call with the same request id may have won the race.
                let id = concurrent_result(key.as_ref(), error, self.reader()?).await?;
                self.get_customer(parse_id(&id)?).await
            }
            other => other,
        }
    }

    async fn try_create_customer(
        &self,
        profile: &CustomerProfile,
        key: Option<&RequestKey<'_>>,
    ) -> Result<Customer, StorageError> {
        let txn = self.begin_write().await?;
        if let Some(key) = key
            && let Some(id) = key.earlier_result(&txn).await?
        {
            return load(&txn, parse_id(&id)?).await;
        }
        ensure_external_id_free(&txn, &profile.external_id, None).await?;
        if let Some(parent) = profile.parent {
            load(&txn, parent).await.map_err(parent_not_found)?;
        }
        let id = CustomerId::generate();
        let time = now();
        customer::ActiveModel {
            version: Set(1),
            create_time: Set(time),
            update_time: Set(time),
            delete_time: Set(None),
            ..profile_columns(id, profile)
        }
        .insert(&txn)
        .await?;
        insert_labels(&txn, id, &profile.labels).await?;
        if let Some(key) = key {
            key.remember(&txn, &id.to_string()).await?;
        }
        let created = load(&txn, id).await?;
        txn.commit().await?;
        Ok(created)
    }

    pub async fn get_customer(&self, id: CustomerId) -> Result<Customer, StorageError> {
        let txn = self.begin_read().await?;
        let found = load(&txn, id).await?;
        txn.commit().await?;
        Ok(found)
    }

    pub async fn find_customer_by_external_id(
        &self,
        external_id: &str,
    ) -> Result<Customer, StorageError> {
        let txn = self.begin_read().await?;
        let row = customer::Entity::find()
            .filter(customer::Column::ExternalId.eq(external_id))
            .one(&txn)
            .await?
            .ok_or(StorageError::NotFound { what: "customer" })?;
        let found = with_labels(&txn, row).await?;
        txn.commit().await?;
        Ok(found)
    }

    /// Customers matching `filter` in registration order, starting after `after`.
    pub async fn list_customers(
        &self,
        filter: &CustomerFilter,
        after: Option<CustomerId>,
        limit: u64,
    ) -> Result<Page<Customer>, StorageError> {
        let txn = self.begin_read().await?;
        let mut query = customer::Entity::find().filter(filter_condition(filter));
        if let Some(after) = after {
            query = query.filter(customer::Column::Id.gt(after.to_string()));
        }
        let rows = query
            .order_by_asc(customer::Column::Id)
            .limit(limit + 1)
            .all(&txn)
            .await?;
        let page = Page::from_overfetch(rows, limit);
        let ids: Vec<String> = page.items.iter().map(|row| row.id.clone()).collect();
        let labels = labels_of(&txn, &ids).await?;
        txn.commit().await?;
        page.try_map(|row| to_domain(row, &labels))
    }

    /// Applies `change` to a live customer whose version is still `expected`.
    #[tracing::instrument(skip_all, fields(customer = %id), err(level = "debug"))]
    pub async fn update_customer(
        &self,
        id: CustomerId,
        expected: ExpectedVersion,
        change: ProfileChange,
    ) -> Result<Customer, StorageError> {
        let txn = self.begin_write().await?;
        let current = load_for_update(&txn, id).await?;
        check_version(&current, expected)?;
        if current.is_deleted() {
            return Err(StorageError::FailedPrecondition(
                "the customer is deleted; undelete it first".to_owned(),
            ));
        }
        let labels_changed = change.labels.is_some();
        let profile = change.apply_to(current.profile.clone());
        if profile.external_id != current.profile.external_id {
            ensure_external_id_free(&txn, &profile.external_id, Some(id)).await?;
        }
        if profile.parent != current.profile.parent
            && let Some(parent) = profile.parent
        {
            self.serialize_parent_changes(&txn).await?;
            ensure_no_cycle(&txn, id, parent).await?;
        }
        customer::ActiveModel {
            version: Set(current.version + 1),
            update_time: Set(now()),
            ..profile_columns(id, &profile)
        }
        .update(&txn)
        .await?;
        if labels_changed {
            customer_label::Entity::delete_many()
                .filter(customer_label::Column::CustomerId.eq(id.to_string()))
                .exec(&txn)
                .await?;
            insert_labels(&txn, id, &profile.labels).await?;
        }
        let updated = load(&txn, id).await?;
        txn.commit().await?;
        Ok(updated)
    }

    /// Soft-deletes (`deleted = true`) or restores a customer. Asking for the state it is
    /// already in changes nothing, so retries are safe.
    #[tracing::instrument(skip_all, fields(customer = %id, deleted), err(level = "debug"))]
    pub async fn set_customer_deleted(
        &self,
        id: CustomerId,
        expected: ExpectedVersion,
        deleted: bool,
    ) -> Result<Customer, StorageError> {
        let txn = self.begin_write().await?;
        let current = load_for_update(&txn, id).await?;
        check_version(&current, expected)?;
        if current.is_deleted() == deleted {
            return Ok(current);
        }
        let time = now();
        customer::ActiveModel {
            id: Set(id.to_string()),
            version: Set(current.version + 1),
            update_time: Set(time),
            delete_time: Set(deleted.then_some(time)),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        let changed = load(&txn, id).await?;
        txn.commit().await?;
        Ok(changed)
    }
}

/// Reads one customer inside a write transaction and locks its row until the transaction
/// ends, so concurrent writes about one customer happen one after the other. PostgreSQL needs
/// the lock; SQLite's IMMEDIATE transactions already run one at a time. `FOR NO KEY UPDATE`
/// rather than `FOR UPDATE`: the id never changes, and the weaker lock does not conflict with
/// the `FOR KEY SHARE` lock that a foreign-key check on this row takes, which would deadlock
/// two customers naming each other as parent.
pub(super) async fn load_for_update(
    txn: &DatabaseTransaction,
    id: CustomerId,
) -> Result<Customer, StorageError> {
    let row = customer::Entity::find_by_id(id.to_string())
        .lock(LockType::NoKeyUpdate)
        .one(txn)
        .await?
        .ok_or(StorageError::NotFound { what: "customer" })?;
    with_labels(txn, row).await
}

impl Store {
    /// Makes changes of parent run one at a time. Two concurrent changes (A under B, and C
    /// under A while B is under C) could each pass the cycle check before the other commits;
    /// PostgreSQL serializes them with a transaction-scoped advisory lock, SQLite already runs
    /// one write transaction at a time.
    async fn serialize_parent_changes(
        &self,
        txn: &DatabaseTransaction,
    ) -> Result<(), StorageError> {
        if self.backend() == DbBackend::Postgres {
            txn.execute_unprepared(&format!(
                "SELECT pg_advisory_xact_lock({PARENT_CHANGE_LOCK})"
            ))
            .await?;
        }
        Ok(())
    }
}

/// NOT_FOUND unless the customer exists (deleted or not): one primary-key probe, for calls
/// that act on a customer's resources without reading the customer itself.
pub(super) async fn ensure_exists(
    db: &impl ConnectionTrait,
    id: CustomerId,
) -> Result<(), StorageError> {
    customer::Entity::find_by_id(id.to_string())
        .select_only()
        .column(customer::Column::Id)
        .into_tuple::<String>()
        .one(db)
        .await?
        .map(|_| ())
        .ok_or(StorageError::NotFound { what: "customer" })
}

pub(super) fn parse_kind(raw: &str) -> Result<CustomerKind, StorageError> {
    raw.parse()
        .map_err(|error| StorageError::Corrupt(format!("customer kind: {error}")))
}

/// Reads one customer with its labels.
pub(super) async fn load(
    db: &impl ConnectionTrait,
    id: CustomerId,
) -> Result<Customer, StorageError> {
    let row = customer::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(StorageError::NotFound { what: "customer" })?;
    with_labels(db, row).await
}

async fn with_labels(
    db: &impl ConnectionTrait,
    row: customer::Model,
) -> Result<Customer, StorageError> {
    let labels = labels_of(db, std::slice::from_ref(&row.id)).await?;
    to_domain(row, &labels)
}

/// The columns a profile is stored in; the server-kept columns are left unset.
fn profile_columns(id: CustomerId, profile: &CustomerProfile) -> customer::ActiveModel {
    customer::ActiveModel {
        id: Set(id.to_string()),
        external_id: Set(profile.external_id.clone()),
        display_name: Set(profile.display_name.clone()),
        kind: Set(profile.kind.as_str().to_owned()),
        industry: Set(profile.industry.clone()),
        region: Set(profile.region.clone()),
        parent_id: Set(profile.parent.map(|p| p.to_string())),
        corporate_group: Set(profile.corporate_group.clone()),
        ..Default::default()
    }
}

pub(super) fn filter_condition(filter: &CustomerFilter) -> Condition {
    let mut condition = Condition::all();
    if !filter.show_deleted {
        condition = condition.add(customer::Column::DeleteTime.is_null());
    }
    if let Some(kind) = filter.kind {
        condition = condition.add(customer::Column::Kind.eq(kind.as_str()));
    }
    if let Some(industry) = &filter.industry {
        condition = condition.add(customer::Column::Industry.eq(industry.as_str()));
    }
    if let Some(region) = &filter.region {
        condition = condition.add(customer::Column::Region.eq(region.as_str()));
    }
    if let Some((key, value)) = &filter.label {
        let mut labelled = Query::select();
        labelled
            .column(customer_label::Column::CustomerId)
            .from(customer_label::Entity)
            .and_where(customer_label::Column::Key.eq(key.as_str()));
        if let Some(value) = value {
            labelled.and_where(customer_label::Column::Value.eq(value.as_str()));
        }
        condition = condition.add(customer::Column::Id.in_subquery(labelled.to_owned()));
    }
    condition
}

async fn labels_of(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<BTreeMap<String, BTreeMap<String, String>>, StorageError> {
    let mut by_customer: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    if ids.is_empty() {
        return Ok(by_customer);
    }
    let rows = customer_label::Entity::find()
        .filter(customer_label::Column::CustomerId.is_in(ids.iter().cloned()))
        .all(db)
        .await?;
    for row in rows {
        by_customer
            .entry(row.customer_id)
            .or_default()
            .insert(row.key, row.value);
    }
    Ok(by_customer)
}

async fn insert_labels(
    txn: &DatabaseTransaction,
    id: CustomerId,
    labels: &BTreeMap<String, String>,
) -> Result<(), StorageError> {
    if labels.is_empty() {
        return Ok(());
    }
    let rows = labels
        .iter()
        .map(|(key, value)| customer_label::ActiveModel {
            customer_id: Set(id.to_string()),
            key: Set(key.clone()),
            value: Set(value.clone()),
        });
    customer_label::Entity::insert_many(rows).exec(txn).await?;
    Ok(())
}

async fn ensure_external_id_free(
    txn: &DatabaseTransaction,
    external_id: &str,
    except: Option<CustomerId>,
) -> Result<(), StorageError> {
    let holder = customer::Entity::find()
        .filter(customer::Column::ExternalId.eq(external_id))
        .one(txn)
        .await?;
    match holder {
        Some(row) if except.is_none_or(|id| row.id != id.to_string()) => {
            Err(StorageError::AlreadyExists(format!(
                "customer customers/{} already has this external_id",
                row.id
            )))
        }
        _ => Ok(()),
    }
}

/// Refuses a parent that is the customer itself or one of its descendants.
async fn ensure_no_cycle(
    txn: &DatabaseTransaction,
    id: CustomerId,
    parent: CustomerId,
) -> Result<(), StorageError> {
    let mut ancestor = Some(parent);
    for _ in 0..MAX_PARENT_DEPTH {
        let Some(current) = ancestor else {
            return Ok(());
        };
        if current == id {
            return Err(StorageError::FailedPrecondition(
                "the new parent_customer would make the customer its own ancestor".to_owned(),
            ));
        }
        let row = customer::Entity::find_by_id(current.to_string())
            .select_only()
            .column(customer::Column::ParentId)
            .into_tuple::<Option<String>>()
            .one(txn)
            .await?;
        ancestor = match row {
            None if current == parent => {
                return Err(parent_not_found(StorageError::NotFound {
                    what: "customer",
                }));
            }
            None | Some(None) => None,
            Some(Some(raw)) => Some(parse_id(&raw)?),
        };
    }
    Err(StorageError::FailedPrecondition(format!(
        "the parent chain is deeper than {MAX_PARENT_DEPTH} levels"
    )))
}

fn parent_not_found(error: StorageError) -> StorageError {
    match error {
        StorageError::NotFound { .. } => StorageError::NotFound {
            what: "parent customer",
        },
        other => other,
    }
}

fn check_version(current: &Customer, expected: ExpectedVersion) -> Result<(), StorageError> {
    match expected {
        Some(version) if version != current.version => Err(StorageError::EtagMismatch),
        _ => Ok(()),
    }
}

pub(super) fn parse_id(raw: &str) -> Result<CustomerId, StorageError> {
    CustomerId::parse(raw).map_err(|error| StorageError::Corrupt(format!("customer id: {error}")))
}

fn to_domain(
    row: customer::Model,
    labels: &BTreeMap<String, BTreeMap<String, String>>,
) -> Result<Customer, StorageError> {
    let kind = parse_kind(&row.kind)?;
    let parent = row.parent_id.as_deref().map(parse_id).transpose()?;
    Ok(Customer {
        id: parse_id(&row.id)?,
        profile: CustomerProfile {
            labels: labels.get(&row.id).cloned().unwrap_or_default(),
            external_id: row.external_id,
            display_name: row.display_name,
            kind,
            industry: row.industry,
            region: row.region,
            parent,
            corporate_group: row.corporate_group,
        },
        create_time: row.create_time,
        update_time: row.update_time,
        delete_time: row.delete_time,
        version: row.version,
    })
}
