//! The assessment repository: grading a customer (read the snapshot and the model version,
//! compute, store) in one transaction, and reading one assessment, a customer's history and
//! its current grade. Assessments are never changed or deleted.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::Serialize;

use super::{
    StorageError, Store,
    customers::{Page, ensure_exists, kind_and_deleted},
    entities::assessment,
    figures::{self as figures_repo},
    grades,
    idempotency::{RequestKey, concurrent_result},
    models::{load_champion, load_version},
    now, older_than, rationale,
};
use crate::domain::{
    customer::CustomerId,
    figures::{FiguresSnapshot, RecordedFigures},
    grading::{AssessmentId, CurrentGrade, RecordedAssessment, SnapshotRef, VersionKey},
    regrade::OperationId,
    scoring::{Assessment, ScoringModel},
};

/// What to grade: a customer's snapshot (the newest, or the newest dated on or before
/// `as_of`) with a model version (or the champion of the customer's kind).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssessTarget {
    pub customer: CustomerId,
    pub as_of: Option<NaiveDate>,
    pub model_version: Option<VersionKey>,
}

/// Which of a customer's assessments a list returns. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssessmentFilter {
    pub grade: Option<String>,
    /// Assessed at or after this time.
    pub start_time: Option<DateTime<Utc>>,
    /// Assessed before this time.
    pub end_time: Option<DateTime<Utc>>,
}

/// Where a page of assessments continues: after this assess time and id (newest first).
pub type AssessmentCursor = (DateTime<Utc>, AssessmentId);

impl Store {
    /// Grades `target` with `grade` and stores the result, all in one transaction. With a
    /// `request_id`, a retry returns the assessment the first call stored.
    #[tracing::instrument(skip_all, fields(customer = %target.customer), err(level = "debug"))]
    pub async fn record_assessment(
        &self,
        target: &AssessTarget,
        request_id: Option<&str>,
        grade: impl Fn(&ScoringModel, &FiguresSnapshot) -> Assessment,
    ) -> Result<RecordedAssessment, StorageError> {
        let key = request_id
            .map(|id| RequestKey::new("assess_customer", id, target))
            .transpose()?;
        match self
            .try_record_assessment(target, key.as_ref(), grade)
            .await
        {
            Err(error) if error.is_conflict() => {
                let id = concurrent_result(key.as_ref(), error, self.reader()?).await?;
                load_assessment(self.reader()?, target.customer, parse_id(&id)?).await
            }
            other => other,
        }
    }

    async fn try_record_assessment(
        &self,
        target: &AssessTarget,
        key: Option<&RequestKey<'_>>,
        grade: impl Fn(&ScoringModel, &FiguresSnapshot) -> Assessment,
    ) -> Result<RecordedAssessment, StorageError> {
        let txn = self.begin_write().await?;
        if let Some(key) = key
            && let Some(id) = key.earlier_result(&txn).await?
        {
            return load_assessment(&txn, target.customer, parse_id(&id)?).await;
        }
        let (kind, deleted) = kind_and_deleted(&txn, target.customer).await?;
        if deleted {
            return Err(StorageError::FailedPrecondition(
                "the customer is deleted; undelete it before assessing it".to_owned(),
            ));
        }
        let figures_row = figures_repo::current_row(&txn, target.customer, target.as_of)
            .await?
            .ok_or_else(|| {
                StorageError::FailedPrecondition(match target.as_of {
                    Some(date) => format!(
                        "the customer has no figures dated on or before {date}; record figures \
                         first"
                    ),
                    None => "the customer has no figures; record figures first".to_owned(),
                })
            })?;
        let (version_id, version) = match &target.model_version {
            Some(key) => {
                let (id, version) = load_version(&txn, key).await?;
                version.ensure_published("assessing with it")?;
                (id, version)
            }
            None => load_champion(&txn, kind).await?.ok_or_else(|| {
                StorageError::FailedPrecondition(format!(
                    "no champion model is set for {} customers; set one or name a model \
                         version",
                    kind.as_str()
                ))
            })?,
        };
        let figures_id = figures_row.id;
        let recorded_figures = figures_repo::to_domain(figures_row)?;
        let record = graded(&recorded_figures, version.key, now(), |snapshot| {
            grade(&version.definition, snapshot)
        });
        row(&record, figures_id, version_id, None)?
            .insert(&txn)
            .await?;
        grades::save_all(
            &txn,
            &[CurrentGrade::of(
                &record,
                &recorded_figures.snapshot.figures,
            )],
        )
        .await?;
        if let Some(key) = key {
            key.remember(&txn, &record.id.to_string()).await?;
        }
        txn.commit().await?;
        Ok(record)
    }

    /// One of the customer's assessments.
    pub async fn get_assessment(
        &self,
        customer: CustomerId,
        id: AssessmentId,
    ) -> Result<RecordedAssessment, StorageError> {
        load_assessment(self.reader()?, customer, id).await
    }

    /// A page of the customer's assessments, newest first.
    pub async fn list_assessments(
        &self,
        customer: CustomerId,
        filter: &AssessmentFilter,
        after: Option<AssessmentCursor>,
        limit: u64,
    ) -> Result<Page<RecordedAssessment>, StorageError> {
        let db = self.reader()?;
        ensure_exists(db, customer).await?;
        let mut query = assessment::Entity::find()
            .filter(assessment::Column::CustomerId.eq(customer.to_string()));
        if let Some(grade) = &filter.grade {
            query = query.filter(assessment::Column::Grade.eq(grade.as_str()));
        }
        if let Some(start) = filter.start_time {
            query = query.filter(assessment::Column::AssessTime.gte(start));
        }
        if let Some(end) = filter.end_time {
            query = query.filter(assessment::Column::AssessTime.lt(end));
        }
        if let Some((time, id)) = after {
            query = query.filter(older_than(
                assessment::Column::AssessTime,
                assessment::Column::Id,
                (time, id.to_string()),
            ));
        }
        let rows = query
            .order_by_desc(assessment::Column::AssessTime)
            .order_by_desc(assessment::Column::Id)
            .limit(limit + 1)
            .all(db)
            .await?;
        Page::from_overfetch(rows, limit).try_map(to_domain)
    }
}

/// The record of grading `figures` with `version` at `assess_time`.
pub(super) fn graded(
    figures: &RecordedFigures,
    version: VersionKey,
    assess_time: DateTime<Utc>,
    grade: impl FnOnce(&FiguresSnapshot) -> Assessment,
) -> RecordedAssessment {
    RecordedAssessment {
        id: AssessmentId::generate(),
        customer: figures.customer,
        snapshot: SnapshotRef {
            as_of: figures.snapshot.as_of,
            revision: figures.revision,
            currency: figures.snapshot.currency.clone(),
        },
        model_version: version,
        assess_time,
        assessment: grade(&figures.snapshot),
    }
}

/// The row that stores `record`: the figures row and version row it graded, and the
/// re-grade operation that made it, if any.
pub(super) fn row(
    record: &RecordedAssessment,
    figures_id: i64,
    version_id: i64,
    operation: Option<OperationId>,
) -> Result<assessment::ActiveModel, StorageError> {
    let rationale = rationale::encode(&record.assessment)
        .map_err(|error| StorageError::Corrupt(format!("assessment: {error}")))?;
    Ok(assessment::ActiveModel {
        id: Set(record.id.to_string()),
        customer_id: Set(record.customer.to_string()),
        figures_id: Set(figures_id),
        figures_revision: Set(record.snapshot.revision),
        model_version_id: Set(version_id),
        assess_time: Set(record.assess_time),
        as_of_date: Set(record.snapshot.as_of),
        valid_until: Set(record.assessment.valid_until),
        currency: Set(record.snapshot.currency.clone()),
        total_score: Set(record.assessment.total_score.to_string()),
        grade: Set(record.assessment.grade.clone()),
        document: Set(String::new()),
        operation_id: Set(operation.map(|id| id.to_string())),
        rationale: Set(Some(rationale)),
    })
}

async fn load_assessment(
    db: &impl ConnectionTrait,
    customer: CustomerId,
    id: AssessmentId,
) -> Result<RecordedAssessment, StorageError> {
    let row = assessment::Entity::find_by_id(id.to_string())
        .filter(assessment::Column::CustomerId.eq(customer.to_string()))
        .one(db)
        .await?
        .ok_or(StorageError::NotFound { what: "assessment" })?;
    to_domain(row)
}

fn parse_id(raw: &str) -> Result<AssessmentId, StorageError> {
    AssessmentId::parse(raw).map_err(|_| StorageError::Corrupt(format!("assessment id {raw:?}")))
}

fn to_domain(row: assessment::Model) -> Result<RecordedAssessment, StorageError> {
    let corrupt = |what: &str| StorageError::Corrupt(format!("assessment {}: {what}", row.id));
    let assessment = rationale::decode(&row.document, row.rationale.as_deref())
        .map_err(|error| corrupt(&error))?;
    let model = assessment
        .model_name
        .strip_prefix("models/")
        .ok_or_else(|| corrupt("model name"))?
        .to_owned();
    let version = assessment
        .model_version
        .parse()
        .map_err(|_| corrupt("model version"))?;
    Ok(RecordedAssessment {
        id: parse_id(&row.id)?,
        customer: super::customers::parse_id(&row.customer_id)?,
        snapshot: SnapshotRef {
            as_of: row.as_of_date,
            revision: row.figures_revision,
            currency: row.currency,
        },
        model_version: VersionKey { model, version },
        assess_time: row.assess_time,
        assessment,
    })
}
