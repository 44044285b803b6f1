//! The assessment repository: grading a customer (read the snapshot and the model version,
//! compute, store through the group commit), and reading one assessment, a customer's history and
//! its current grade. Assessments are never changed or deleted.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, IdenStatic, Iterable,
    Order, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, Query},
};
use serde::Serialize;

use super::{
    ROWS_PER_INSERT, StorageError, Store,
    customers::{Page, ensure_exists, parse_kind},
    entities::{assessment, champion, customer, figures, model_version},
    figures::{self as figures_repo},
    group_commit::AssessmentRows,
    idempotency::{RequestKey, concurrent_result},
    now, older_than, rationale,
};
use crate::domain::{
    customer::{CustomerId, CustomerKind},
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

    /// Reads what grading needs outside any write transaction, grades, and hands the rows to
    /// the group commit. The reads are not locked against concurrent writes: an assessment
    /// made as figures arrive grades the figures it read, as it would on PostgreSQL's READ
    /// COMMITTED inside one transaction.
    async fn try_record_assessment(
        &self,
        target: &AssessTarget,
        key: Option<&RequestKey<'_>>,
        grade: impl Fn(&ScoringModel, &FiguresSnapshot) -> Assessment,
    ) -> Result<RecordedAssessment, StorageError> {
        let db = self.reader()?;
        if let Some(key) = key
            && let Some(id) = key.earlier_result(db).await?
        {
            return load_assessment(db, target.customer, parse_id(&id)?).await;
        }
        let inputs = read_inputs(db, target).await?;
        if inputs.deleted {
            return Err(StorageError::FailedPrecondition(
                "the customer is deleted; undelete it before assessing it".to_owned(),
            ));
        }
        let figures_row = inputs.figures.ok_or_else(|| {
            StorageError::FailedPrecondition(match target.as_of {
                Some(date) => format!(
                    "the customer has no figures dated on or before {date}; record figures first"
                ),
                None => "the customer has no figures; record figures first".to_owned(),
            })
        })?;
        let version_id = match (&target.model_version, inputs.version) {
            (_, Some(id)) => id,
            (Some(_), None) => {
                return Err(StorageError::NotFound {
                    what: "model version",
                });
            }
            (None, None) => {
                return Err(StorageError::FailedPrecondition(format!(
                    "no champion model is set for {} customers; set one or name a model version",
                    inputs.kind.as_str()
                )));
            }
        };
        let version = self.published.get(db, version_id).await?;
        if target.model_version.is_some() {
            version.ensure_published("assessing with it")?;
        }
        let figures_id = figures_row.id;
        let recorded_figures = figures_repo::to_domain(figures_row)?;
        let mut record = graded(&recorded_figures, version.key.clone(), now(), |snapshot| {
            grade(&version.definition, snapshot)
        });
        let rows = AssessmentRows {
            assessment: row(&record, figures_id, version_id, None)?,
            grade: CurrentGrade::of(&record, &recorded_figures.snapshot.figures),
            request_key: key.map(|key| key.row(&record.id.to_string())),
        };
        self.assessments.store(rows).await?;
        // As every read of a stored assessment returns it: with its sentences.
        record.assessment = record.assessment.with_sentences();
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

/// What grading a customer reads, fetched in one statement (a round trip per read was most
/// of an assessment's time): the customer's kind and deletion, its current figures, and the
/// row id of the model version that grades it, the named one or its kind's champion (the
/// version itself comes from [`super::models::PublishedVersions`]).
struct Inputs {
    kind: CustomerKind,
    deleted: bool,
    figures: Option<figures::Model>,
    version: Option<i64>,
}

async fn read_inputs(
    db: &impl ConnectionTrait,
    target: &AssessTarget,
) -> Result<Inputs, StorageError> {
    let customer_id = target.customer.to_string();
    let mut current_figures = Query::select();
    current_figures
        .column(figures::Column::Id)
        .from(figures::Entity)
        .and_where(figures::Column::CustomerId.eq(customer_id.as_str()))
        .and_where(figures::Column::Superseded.eq(false))
        .order_by(figures::Column::AsOfDate, Order::Desc)
        .limit(1);
    if let Some(as_of) = target.as_of {
        current_figures.and_where(figures::Column::AsOfDate.lte(as_of));
    }
    let mut select = Query::select();
    select
        .column((customer::Entity, customer::Column::Kind))
        .column((customer::Entity, customer::Column::DeleteTime))
        .from(customer::Entity)
        .left_join(
            figures::Entity,
            Expr::col((figures::Entity, figures::Column::Id)).in_subquery(current_figures),
        );
    match &target.model_version {
        Some(key) => select.left_join(
            model_version::Entity,
            Condition::all()
                .add(
                    Expr::col((model_version::Entity, model_version::Column::ModelId))
                        .eq(key.model.as_str()),
                )
                .add(
                    Expr::col((model_version::Entity, model_version::Column::Version))
                        .eq(key.version),
                ),
        ),
        None => select
            .left_join(
                champion::Entity,
                Expr::col((champion::Entity, champion::Column::Population))
                    .equals((customer::Entity, customer::Column::Kind)),
            )
            .left_join(
                model_version::Entity,
                Expr::col((model_version::Entity, model_version::Column::Id))
                    .equals((champion::Entity, champion::Column::ModelVersionId)),
            ),
    };
    for column in figures::Column::iter() {
        select.expr_as(
            Expr::col((figures::Entity, column)),
            format!("{FIGURES}{}", column.as_str()),
        );
    }
    select.column((model_version::Entity, model_version::Column::Id));
    select.and_where(Expr::col((customer::Entity, customer::Column::Id)).eq(customer_id));
    let row = db
        .query_one(&select)
        .await?
        .ok_or(StorageError::NotFound { what: "customer" })?;
    let kind: String = row.try_get("", customer::Column::Kind.as_str())?;
    let delete_time: Option<DateTime<Utc>> =
        row.try_get("", customer::Column::DeleteTime.as_str())?;
    Ok(Inputs {
        kind: parse_kind(&kind)?,
        deleted: delete_time.is_some(),
        figures: figures::Model::from_query_result_optional(&row, FIGURES)?,
        version: row.try_get("", model_version::Column::Id.as_str())?,
    })
}

/// The prefix of the figures' columns in [`read_inputs`].
const FIGURES: &str = "f_";

/// Inserts `rows`, [`ROWS_PER_INSERT`] a statement: the re-grade's batches and the group
/// commit's groups, each inside its transaction.
pub(super) async fn insert_all<'a>(
    db: &impl ConnectionTrait,
    rows: impl IntoIterator<Item = &'a assessment::ActiveModel>,
) -> Result<(), StorageError> {
    let mut statement = Vec::with_capacity(ROWS_PER_INSERT);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        statement.extend(rows.by_ref().take(ROWS_PER_INSERT).cloned());
        assessment::Entity::insert_many(statement.drain(..))
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
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
