//! The grade override repository: setting an override on a customer's current grade,
//! revoking it, and reading a customer's override history or every override of a period. Overrides are never deleted;
//! `customer_grades.override_id` points at the one that may apply.

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, JoinType,
    QueryFilter, QueryOrder, QuerySelect, RelationTrait, sea_query::LockType,
};

use super::{
    StorageError, Store,
    customers::{CustomerFilter, Page, ensure_exists, filter_condition, parse_id},
    entities::{customer_grade, grade_override},
    grade_cache::GradeChange,
    idempotency::{RequestKey, concurrent_result},
    models::load_version,
    now, older_than, to_completion,
    write::WriteTxn,
};
use crate::domain::{
    Refusal,
    customer::CustomerId,
    grading::{
        AssessmentId, GradeOverride, OverrideId, OverrideRequest, OverrideState, Revocation,
        VersionKey,
    },
};

/// Where a page of overrides continues: after this create time and id (newest first).
pub type OverrideCursor = (DateTime<Utc>, OverrideId);

impl Store {
    /// Sets an override on the customer's current grade, by `author`. The grade must be one
    /// of the model that computed the current grade, and no other override may apply.
    #[tracing::instrument(skip_all, fields(customer = %customer), err(level = "debug"))]
    pub async fn set_override(
        &self,
        customer: CustomerId,
        request: &OverrideRequest,
        author: &str,
        request_id: Option<&str>,
    ) -> Result<GradeOverride, StorageError> {
        let store = self.clone();
        let (request, author) = (request.clone(), author.to_owned());
        let request_id = request_id.map(str::to_owned);
        to_completion(async move {
            store
                .set_override_to_the_end(customer, &request, &author, request_id.as_deref())
                .await
        })
        .await
    }

    async fn set_override_to_the_end(
        &self,
        customer: CustomerId,
        request: &OverrideRequest,
        author: &str,
        request_id: Option<&str>,
    ) -> Result<GradeOverride, StorageError> {
        let key = request_id
            .map(|id| RequestKey::new("override_grade", id, &(customer, request, author)))
            .transpose()?;
        match self
            .try_set_override(customer, request, author, key.as_ref())
            .await
        {
            Err(error) if error.is_conflict() => {
                let id = concurrent_result(key.as_ref(), error, self.reader()?).await?;
                load_override(self.reader()?, customer, parse_override_id(&id)?).await
            }
            other => other,
        }
    }

    async fn try_set_override(
        &self,
        customer: CustomerId,
        request: &OverrideRequest,
        author: &str,
        key: Option<&RequestKey<'_>>,
    ) -> Result<GradeOverride, StorageError> {
        let change = self.grades.change([customer]);
        let txn = self.begin_write().await?;
        if let Some(key) = key
            && let Some(id) = key.earlier_result(&txn).await?
        {
            return load_override(&txn, customer, parse_override_id(&id)?).await;
        }
        ensure_exists(&txn, customer).await?;
        let current = customer_grade::Entity::find_by_id(customer.to_string())
            .lock(LockType::Update)
            .one(&txn)
            .await?
            .ok_or_else(|| {
                Refusal(
                    "the customer has not been assessed; assess it before overriding its grade"
                        .to_owned(),
                )
            })?;
        let time = now();
        if let Some(id) = &current.override_id {
            let applying = load_override(&txn, customer, parse_override_id(id)?).await?;
            if applying.state(time) == OverrideState::Active {
                return Err(Refusal(format!(
                    "override {} applies until {}; revoke it before setting another",
                    applying.id, applying.expire_time
                ))
                .into());
            }
        }
        let version = VersionKey {
            model: current.model_id.clone(),
            version: current.model_version,
        };
        let (_, model) = load_version(&txn, &version).await?;
        if model.definition.grade_rank(&request.grade).is_none() {
            let grades: Vec<&str> = model
                .definition
                .grades
                .iter()
                .map(|g| g.grade.as_str())
                .collect();
            return Err(Refusal(format!(
                "{:?} is not a grade of models/{}/versions/{} ({}), which gave the current grade",
                request.grade,
                version.model,
                version.version,
                grades.join(", ")
            ))
            .into());
        }
        let created = GradeOverride {
            id: OverrideId::generate(),
            customer,
            grade: request.grade.clone(),
            credit_limit: request.credit_limit,
            currency: current.currency.clone(),
            reason: request.reason.clone(),
            author: author.to_owned(),
            create_time: time,
            expire_time: request.expire_time,
            computed_grade: current.grade.clone(),
            assessment: AssessmentId::parse(&current.assessment_id)
                .map_err(|_| StorageError::Corrupt("current grade's assessment id".to_owned()))?,
            revocation: None,
        };
        grade_override::ActiveModel {
            id: Set(created.id.to_string()),
            customer_id: Set(customer.to_string()),
            grade: Set(created.grade.clone()),
            credit_limit: Set(created.credit_limit.map(|limit| limit.to_string())),
            currency: Set(created.currency.clone()),
            reason: Set(created.reason.clone()),
            author: Set(created.author.clone()),
            create_time: Set(created.create_time),
            expire_time: Set(created.expire_time),
            computed_grade: Set(created.computed_grade.clone()),
            assessment_id: Set(created.assessment.to_string()),
            revoke_time: Set(None),
            revoked_by: Set(None),
            revoke_reason: Set(None),
        }
        .insert(&txn)
        .await?;
        point_at(&txn, customer, Some(created.id), None, &change).await?;
        if let Some(key) = key {
            key.remember(&txn, &created.id.to_string()).await?;
        }
        txn.commit().await?;
        Ok(created)
    }

    /// Ends an override's effect, keeping its record. Revoking it again changes nothing.
    #[tracing::instrument(skip_all, fields(customer = %customer), err(level = "debug"))]
    pub async fn revoke_override(
        &self,
        customer: CustomerId,
        id: OverrideId,
        by: &str,
        reason: &str,
    ) -> Result<GradeOverride, StorageError> {
        let store = self.clone();
        let (by, reason) = (by.to_owned(), reason.to_owned());
        to_completion(async move {
            store
                .revoke_override_to_the_end(customer, id, &by, &reason)
                .await
        })
        .await
    }

    async fn revoke_override_to_the_end(
        &self,
        customer: CustomerId,
        id: OverrideId,
        by: &str,
        reason: &str,
    ) -> Result<GradeOverride, StorageError> {
        // The override is part of the customer's current grade as read.
        let change = self.grades.change([customer]);
        let txn = self.begin_write().await?;
        let found = load_override(&txn, customer, id).await?;
        if found.revocation.is_some() {
            return Ok(found);
        }
        let revocation = Revocation {
            time: now(),
            by: by.to_owned(),
            reason: reason.to_owned(),
        };
        grade_override::ActiveModel {
            id: Set(id.to_string()),
            revoke_time: Set(Some(revocation.time)),
            revoked_by: Set(Some(revocation.by.clone())),
            revoke_reason: Set(Some(revocation.reason.clone())),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        point_at(&txn, customer, None, Some(id), &change).await?;
        txn.commit().await?;
        Ok(GradeOverride {
            revocation: Some(revocation),
            ..found
        })
    }

    /// A page of the customer's overrides, newest first, revoked and expired ones included.
    pub async fn list_overrides(
        &self,
        customer: CustomerId,
        after: Option<OverrideCursor>,
        limit: u64,
    ) -> Result<Page<GradeOverride>, StorageError> {
        let db = self.reader()?;
        ensure_exists(db, customer).await?;
        let mut query = grade_override::Entity::find()
            .filter(grade_override::Column::CustomerId.eq(customer.to_string()));
        if let Some((time, id)) = after {
            query = query.filter(older_than(
                grade_override::Column::CreateTime,
                grade_override::Column::Id,
                (time, id.to_string()),
            ));
        }
        let rows = query
            .order_by_desc(grade_override::Column::CreateTime)
            .order_by_desc(grade_override::Column::Id)
            .limit(limit + 1)
            .all(db)
            .await?;
        Page::from_overfetch(rows, limit).try_map(to_domain)
    }
}

impl Store {
    /// Calls `visit` with every override set in `[start, end)` on a customer under
    /// `customers`, revoked and expired ones included, by customer and time.
    pub async fn visit_overrides(
        &self,
        customers: &CustomerFilter,
        start: Option<DateTime<Utc>>,
        end: DateTime<Utc>,
        mut visit: impl FnMut(GradeOverride),
    ) -> Result<(), StorageError> {
        let mut query = grade_override::Entity::find()
            .join(
                JoinType::InnerJoin,
                grade_override::Relation::Customer.def(),
            )
            .filter(filter_condition(customers))
            .filter(grade_override::Column::CreateTime.lt(end));
        if let Some(start) = start {
            query = query.filter(grade_override::Column::CreateTime.gte(start));
        }
        let mut rows = query
            .order_by_asc(grade_override::Column::CustomerId)
            .order_by_asc(grade_override::Column::CreateTime)
            .stream(self.reader()?)
            .await?;
        while let Some(row) = rows.try_next().await? {
            visit(to_domain(row)?);
        }
        Ok(())
    }
}

/// Points the customer's current grade at override `to` (or at none), if it points at `from`
/// when that is given (a revoked override stops applying only if it still did), in the
/// change `announced` to the grade cache, and announces it to other servers.
async fn point_at(
    db: &WriteTxn,
    customer: CustomerId,
    to: Option<OverrideId>,
    from: Option<OverrideId>,
    announced: &GradeChange<'_>,
) -> Result<(), StorageError> {
    let mut update = customer_grade::Entity::update_many()
        .col_expr(
            customer_grade::Column::OverrideId,
            sea_orm::sea_query::Expr::value(to.map(|id| id.to_string())),
        )
        .filter(customer_grade::Column::CustomerId.eq(customer.to_string()));
    if let Some(from) = from {
        update = update.filter(customer_grade::Column::OverrideId.eq(from.to_string()));
    }
    update.exec(db).await?;
    announced.announce(db).await
}

async fn load_override(
    db: &impl ConnectionTrait,
    customer: CustomerId,
    id: OverrideId,
) -> Result<GradeOverride, StorageError> {
    let row = grade_override::Entity::find_by_id(id.to_string())
        .filter(grade_override::Column::CustomerId.eq(customer.to_string()))
        .one(db)
        .await?
        .ok_or(StorageError::NotFound { what: "override" })?;
    to_domain(row)
}

fn parse_override_id(raw: &str) -> Result<OverrideId, StorageError> {
    OverrideId::parse(raw).map_err(|_| StorageError::Corrupt(format!("override id {raw:?}")))
}

pub(super) fn to_domain(row: grade_override::Model) -> Result<GradeOverride, StorageError> {
    let corrupt = |what: &str| StorageError::Corrupt(format!("override {}: {what}", row.id));
    let credit_limit = row
        .credit_limit
        .as_deref()
        .map(|raw| raw.parse().map_err(|_| corrupt("credit limit")))
        .transpose()?;
    let revocation = match (row.revoke_time, row.revoked_by, row.revoke_reason) {
        (Some(time), Some(by), Some(reason)) => Some(Revocation { time, by, reason }),
        (None, None, None) => None,
        _ => return Err(corrupt("partial revocation")),
    };
    Ok(GradeOverride {
        id: parse_override_id(&row.id)?,
        customer: parse_id(&row.customer_id)?,
        grade: row.grade,
        credit_limit,
        currency: row.currency,
        reason: row.reason,
        author: row.author,
        create_time: row.create_time,
        expire_time: row.expire_time,
        computed_grade: row.computed_grade,
        assessment: AssessmentId::parse(&row.assessment_id)
            .map_err(|_| corrupt("assessment id"))?,
        revocation,
    })
}
