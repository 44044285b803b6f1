//! The current-grade repository: one row per assessed customer, replaced in the transaction
//! of every new assessment, and the portfolio reads over it (a filtered page, or every row of
//! a filter streamed through a visitor so memory stays flat whatever the book's size).

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use futures::TryStreamExt;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, IdenStatic, JoinType, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, RelationTrait, SelectTwo,
    sea_query::{Alias, Expr, ExprTrait, OnConflict, Query},
};

use super::{
    StorageError, Store,
    customers::{CustomerFilter, Page, ensure_exists, filter_condition, parse_id},
    entities::{assessment, customer, customer_grade, figures, grade_override},
    grade_cache::{GradeChange, Ticket},
    now, overrides,
    write::WriteTxn,
};
use crate::domain::{
    customer::CustomerId,
    grading::{AssessmentId, CurrentGrade, VersionKey},
    portfolio::PastGrade,
};

/// Which customers' grades a portfolio query reads. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GradeFilter {
    /// Kind, industry, region and label of the customer; deleted customers are left out
    /// unless `show_deleted`.
    pub customers: CustomerFilter,
    pub grade: Option<String>,
    pub model_version: Option<VersionKey>,
    /// Only grades assessed before this time: the stale ones.
    pub assessed_before: Option<DateTime<Utc>>,
    /// Only grades whose validity ends before this day.
    pub valid_until_before: Option<NaiveDate>,
    /// Only customers with figures recorded after their grade was assessed.
    pub figures_changed: bool,
}

impl Store {
    /// The customer's current grade; NOT_FOUND for an unknown customer or one never assessed.
    pub async fn current_grade(&self, customer: CustomerId) -> Result<CurrentGrade, StorageError> {
        let db = self.reader()?;
        let ticket = match self.cached_grade(customer).await {
            Ok(cached) => return Ok(cached),
            Err(ticket) => ticket,
        };
        match self.grade_reads.read(customer).await? {
            Some(grade) => {
                self.grades.offer(ticket, &grade);
                Ok(grade)
            }
            None => {
                ensure_exists(db, customer).await?;
                Err(StorageError::NotFound {
                    what: "assessment of this customer",
                })
            }
        }
    }

    /// The customer's grade in memory, once it is safe to serve: on PostgreSQL at once while
    /// this server holds a read lease, otherwise after a sync that began after this call (see
    /// `grade_sync.rs`). A miss hands back the ticket of the database read to make instead.
    async fn cached_grade(&self, customer: CustomerId) -> Result<CurrentGrade, Ticket> {
        let Some(sync) = &self.grade_sync else {
            return self.grades.get(customer);
        };
        // The lease first: held now, every change answered before this call has been heard.
        if sync.serves_from_memory() {
            return self.grades.get(customer);
        }
        self.grades.get(customer)?;
        if !sync.sync().await {
            return Err(self.grades.ticket(customer));
        }
        // The sync may have heard of a change to this very grade.
        self.grades.get(customer)
    }

    /// A page of current grades under `filter`, in customer registration order.
    pub async fn list_grades(
        &self,
        filter: &GradeFilter,
        after: Option<CustomerId>,
        limit: u64,
    ) -> Result<Page<CurrentGrade>, StorageError> {
        let mut query = filtered(filter, now());
        if let Some(after) = after {
            query = query.filter(customer_grade::Column::CustomerId.gt(after.to_string()));
        }
        let rows = query
            .order_by_asc(customer_grade::Column::CustomerId)
            .limit(limit + 1)
            .all(self.reader()?)
            .await?;
        Page::from_overfetch(rows, limit).try_map(to_domain)
    }

    /// Calls `visit` with every current grade under `filter`, one row at a time.
    pub async fn visit_grades(
        &self,
        filter: &GradeFilter,
        mut visit: impl FnMut(CurrentGrade),
    ) -> Result<(), StorageError> {
        let db = self.reader()?;
        let mut rows = filtered(filter, now()).stream(db).await?;
        while let Some(row) = rows.try_next().await? {
            visit(to_domain(row)?);
        }
        Ok(())
    }
}

impl Store {
    /// Calls `visit` with every customer under `customers` that had a grade at `second`:
    /// its computed grade just before `first` (if it had one) and just before `second`. Reads
    /// the assessments made before `second`, by customer and time.
    pub async fn visit_grade_pairs(
        &self,
        customers: &CustomerFilter,
        first: DateTime<Utc>,
        second: DateTime<Utc>,
        mut visit: impl FnMut(CustomerId, Option<String>, Option<String>),
    ) -> Result<(), StorageError> {
        let db = self.reader()?;
        let mut rows = assessment::Entity::find()
            .select_only()
            .columns([
                assessment::Column::CustomerId,
                assessment::Column::AssessTime,
                assessment::Column::Grade,
            ])
            .join(JoinType::InnerJoin, assessment::Relation::Customer.def())
            .filter(filter_condition(customers))
            .filter(assessment::Column::AssessTime.lt(second))
            .order_by_asc(assessment::Column::CustomerId)
            .order_by_asc(assessment::Column::AssessTime)
            .order_by_asc(assessment::Column::Id)
            .into_tuple::<(String, DateTime<Utc>, String)>()
            .stream(db)
            .await?;
        // The customer being read, its grade before `first` and its latest grade.
        let mut current: Option<(String, Option<String>, String)> = None;
        while let Some((customer, time, grade)) = rows.try_next().await? {
            match &mut current {
                Some((id, before, latest)) if *id == customer => {
                    if time < first {
                        *before = Some(grade.clone());
                    }
                    *latest = grade;
                }
                _ => {
                    if let Some((id, before, latest)) = current.take() {
                        visit(parse_id(&id)?, before, Some(latest));
                    }
                    let before = (time < first).then(|| grade.clone());
                    current = Some((customer, before, grade));
                }
            }
        }
        if let Some((id, before, latest)) = current {
            visit(parse_id(&id)?, before, Some(latest));
        }
        Ok(())
    }
}

impl Store {
    /// Calls `visit` with the grade each customer under `customers` had at `at`, in customer
    /// order: the computed grade of its newest assessment before then, the override that
    /// applied then, and the figures that assessment graded. One row per customer comes from
    /// the database: a newer assessment before `at` rules a row out (an index probe on
    /// `idx_assessments_customer_time`).
    pub async fn visit_grades_at(
        &self,
        customers: &CustomerFilter,
        at: DateTime<Utc>,
        mut visit: impl FnMut(PastGrade),
    ) -> Result<(), StorageError> {
        use assessment::Column as A;
        let db = self.reader()?;
        let customers = &in_book_at(customers, at);
        let overrides = overrides_applying_at(db, customers, at).await?;
        let newer = Alias::new("newer");
        let ours = |column: A| Expr::col((assessment::Entity, column));
        let theirs = |column: A| Expr::col((newer.clone(), column));
        let newer_before_at = Query::select()
            .expr(Expr::val(1))
            .from_as(assessment::Entity, newer.clone())
            .and_where(theirs(A::CustomerId).equals((assessment::Entity, A::CustomerId)))
            .and_where(theirs(A::AssessTime).lt(at))
            .cond_where(
                Condition::any()
                    .add(theirs(A::AssessTime).gt(ours(A::AssessTime)))
                    .add(
                        Condition::all()
                            .add(theirs(A::AssessTime).equals((assessment::Entity, A::AssessTime)))
                            .add(theirs(A::Id).gt(ours(A::Id))),
                    ),
            )
            .to_owned();
        let mut rows = assessment::Entity::find()
            .select_only()
            .columns([A::CustomerId, A::Grade, A::Currency])
            .column(figures::Column::Inputs)
            .join(JoinType::InnerJoin, assessment::Relation::Customer.def())
            .join(JoinType::InnerJoin, assessment::Relation::Figures.def())
            .filter(customers.clone())
            .filter(A::AssessTime.lt(at))
            .filter(Expr::exists(newer_before_at).not())
            .order_by_asc(A::CustomerId)
            .into_tuple::<(String, String, Option<String>, String)>()
            .stream(db)
            .await?;
        while let Some((customer, computed_grade, currency, inputs)) = rows.try_next().await? {
            let figures = serde_json::from_str(&inputs).map_err(|error| {
                StorageError::Corrupt(format!("figures graded for {customer}: {error}"))
            })?;
            visit(PastGrade {
                override_grade: overrides.get(&customer).cloned(),
                customer: parse_id(&customer)?,
                computed_grade,
                currency,
                figures,
            });
        }
        Ok(())
    }
}

/// The customers under `filter` that were in the book at `at`: not deleted by then. Their
/// kind, industry, region and labels are today's.
fn in_book_at(filter: &CustomerFilter, at: DateTime<Utc>) -> Condition {
    let everyone = CustomerFilter {
        show_deleted: true,
        ..filter.clone()
    };
    let deleted_after = Condition::any()
        .add(customer::Column::DeleteTime.is_null())
        .add(customer::Column::DeleteTime.gt(at));
    let mut condition = filter_condition(&everyone);
    if !filter.show_deleted {
        condition = condition.add(deleted_after);
    }
    condition
}

/// The grade of the override that applied to each customer under `customers` at `at`: set
/// before then, not expired or revoked by then; the newest when several did.
async fn overrides_applying_at(
    db: &impl ConnectionTrait,
    customers: &Condition,
    at: DateTime<Utc>,
) -> Result<BTreeMap<String, String>, StorageError> {
    use grade_override::Column as O;
    let rows = grade_override::Entity::find()
        .select_only()
        .columns([O::CustomerId, O::Grade])
        .join(
            JoinType::InnerJoin,
            grade_override::Relation::Customer.def(),
        )
        .filter(customers.clone())
        .filter(O::CreateTime.lt(at))
        .filter(O::ExpireTime.gt(at))
        .filter(
            Condition::any()
                .add(O::RevokeTime.is_null())
                .add(O::RevokeTime.gt(at)),
        )
        .order_by_asc(O::CustomerId)
        .order_by_asc(O::CreateTime)
        .into_tuple::<(String, String)>()
        .all(db)
        .await?;
    // Overrides are few beside customers; a later one replaces an earlier one.
    Ok(rows.into_iter().collect())
}

/// The current grades under `filter`, each with its override; the grade filter is on the
/// grade that counts at `now` (an applying override's, else the computed one).
fn filtered(
    filter: &GradeFilter,
    now: DateTime<Utc>,
) -> SelectTwo<customer_grade::Entity, grade_override::Entity> {
    customer_grade::Entity::find()
        .find_also_related(grade_override::Entity)
        .join(
            JoinType::InnerJoin,
            customer_grade::Relation::Customer.def(),
        )
        .filter(filter_condition(&filter.customers))
        .filter(grade_condition(filter, now))
}

impl GradeFilter {
    /// Whether the filter reads a current grade's fields, so that only graded customers pass.
    pub fn reads_grades(&self) -> bool {
        self.grade.is_some()
            || self.model_version.is_some()
            || self.assessed_before.is_some()
            || self.valid_until_before.is_some()
            || self.figures_changed
    }
}

/// The conditions of `filter` on a current grade's fields, on `customer_grades` joined to
/// `grade_overrides`; always true when it has none.
pub(super) fn grade_condition(filter: &GradeFilter, now: DateTime<Utc>) -> Condition {
    let mut condition = Condition::all();
    if let Some(grade) = &filter.grade {
        let overridden = Condition::all()
            .add(grade_override::Column::ExpireTime.gt(now))
            .add(grade_override::Column::Grade.eq(grade.as_str()));
        let computed = Condition::all()
            .add(customer_grade::Column::Grade.eq(grade.as_str()))
            .add(
                Condition::any()
                    .add(grade_override::Column::Id.is_null())
                    .add(grade_override::Column::ExpireTime.lte(now)),
            );
        condition = condition.add(Condition::any().add(overridden).add(computed));
    }
    if let Some(key) = &filter.model_version {
        condition = condition
            .add(customer_grade::Column::ModelId.eq(key.model.as_str()))
            .add(customer_grade::Column::ModelVersion.eq(key.version));
    }
    if let Some(before) = filter.assessed_before {
        condition = condition.add(customer_grade::Column::AssessTime.lt(before));
    }
    if let Some(before) = filter.valid_until_before {
        condition = condition.add(customer_grade::Column::ValidUntil.lt(before));
    }
    if filter.figures_changed {
        condition = condition.add(Expr::exists(figures_recorded_since_grade()));
    }
    condition
}

/// A newer snapshot than the one graded, or a new revision of its date: a probe of
/// idx_figures_customer_date_revision per customer.
fn figures_recorded_since_grade() -> sea_orm::sea_query::SelectStatement {
    let graded = |column: customer_grade::Column| Expr::col((customer_grade::Entity, column));
    let theirs = |column: figures::Column| Expr::col((figures::Entity, column));
    Query::select()
        .expr(Expr::val(1))
        .from(figures::Entity)
        .and_where(
            theirs(figures::Column::CustomerId)
                .equals((customer_grade::Entity, customer_grade::Column::CustomerId)),
        )
        .and_where(theirs(figures::Column::Superseded).eq(false))
        .cond_where(
            Condition::any()
                .add(theirs(figures::Column::AsOfDate).gt(graded(customer_grade::Column::AsOfDate)))
                .add(
                    Condition::all()
                        .add(
                            theirs(figures::Column::AsOfDate)
                                .equals((customer_grade::Entity, customer_grade::Column::AsOfDate)),
                        )
                        .add(
                            theirs(figures::Column::RecordTime)
                                .gt(graded(customer_grade::Column::AssessTime)),
                        ),
                ),
        )
        .to_owned()
}

/// Makes each of `grades` its customer's current grade; call it in the transaction that
/// stores the assessments they come from. One statement per chunk. A grade older than the
/// one in place (a re-grade batch that computed before a concurrent inline assessment
/// committed) leaves that one in place: the current grade is always the newest. `announced`
/// is the change to these customers' grades, started with the grade cache before the
/// transaction, and announced to other servers in it; it is told which grades it may write
/// through to the cache.
pub(super) async fn save_all(
    db: &WriteTxn,
    grades: &[CurrentGrade],
    announced: &GradeChange<'_>,
) -> Result<(), StorageError> {
    let mut written = Vec::new();
    for chunk in grades.chunks(super::ROWS_PER_INSERT) {
        written.extend(save_chunk(db, chunk, announced).await?);
    }
    announced.written(written);
    announced.announce(db).await
}

/// Saves `grades`; gives back those `announced` writes through that the statement wrote
/// (it names them only when there is one).
async fn save_chunk(
    db: &WriteTxn,
    grades: &[CurrentGrade],
    announced: &GradeChange<'_>,
) -> Result<Vec<CurrentGrade>, StorageError> {
    use customer_grade::Column as C;
    use sea_orm::ActiveValue::Set;
    let rows = grades.iter().map(|grade| customer_grade::ActiveModel {
        customer_id: Set(grade.customer.to_string()),
        assessment_id: Set(grade.assessment.to_string()),
        model_id: Set(grade.model_version.model.clone()),
        model_version: Set(grade.model_version.version),
        grade: Set(grade.grade.clone()),
        total_score: Set(grade.total_score.to_string()),
        credit_limit: Set(grade.credit_limit.map(|limit| limit.to_string())),
        currency: Set(grade.currency.clone()),
        payment_terms_days: Set(i64::from(grade.payment_terms_days)),
        service_level: Set(grade.service_level.clone()),
        review_required: Set(grade.review_required),
        assess_time: Set(grade.assess_time),
        as_of_date: Set(grade.as_of),
        valid_until: Set(grade.valid_until),
        sales: Set(grade.sales.map(|sales| sales.to_string())),
        gross_profit: Set(grade.gross_profit.map(|profit| profit.to_string())),
        // A new assessment leaves the customer's override in place.
        override_id: sea_orm::ActiveValue::NotSet,
    });
    let upsert = customer_grade::Entity::insert_many(rows).on_conflict(
        OnConflict::column(C::CustomerId)
            .update_columns([
                C::AssessmentId,
                C::ModelId,
                C::ModelVersion,
                C::Grade,
                C::TotalScore,
                C::CreditLimit,
                C::Currency,
                C::PaymentTermsDays,
                C::ServiceLevel,
                C::ReviewRequired,
                C::AssessTime,
                C::AsOfDate,
                C::ValidUntil,
                C::Sales,
                C::GrossProfit,
            ])
            .action_and_where(
                Expr::col((customer_grade::Entity, C::AssessTime))
                    .lte(Expr::cust("excluded.assess_time")),
            )
            .to_owned(),
    );
    let through: Vec<&CurrentGrade> = grades
        .iter()
        .filter(|grade| announced.writes_through(grade.customer) && stored_as_is(grade))
        .collect();
    if through.is_empty() {
        upsert.exec_without_returning(db).await?;
        return Ok(Vec::new());
    }
    let mut statement = upsert.into_query();
    statement.returning_col(C::CustomerId);
    let mut saved = HashSet::new();
    for row in db.query_all(&statement).await? {
        saved.insert(row.try_get::<String>("", C::CustomerId.as_str())?);
    }
    Ok(through
        .into_iter()
        .filter(|grade| saved.contains(&grade.customer.to_string()))
        .cloned()
        .collect())
}

/// Whether the database gives `grade` back as it is: PostgreSQL keeps time to the
/// microsecond, and a grade read back would differ from one kept finer.
fn stored_as_is(grade: &CurrentGrade) -> bool {
    grade
        .assess_time
        .timestamp_subsec_nanos()
        .is_multiple_of(1_000)
        && grade.grade_override.is_none()
}

pub(super) fn to_domain(
    (row, grade_override): (customer_grade::Model, Option<grade_override::Model>),
) -> Result<CurrentGrade, StorageError> {
    let corrupt =
        |what: &str| StorageError::Corrupt(format!("current grade of {}: {what}", row.customer_id));
    let decimal = |raw: &str| raw.parse().map_err(|_| corrupt(raw));
    Ok(CurrentGrade {
        customer: parse_id(&row.customer_id)?,
        assessment: AssessmentId::parse(&row.assessment_id)
            .map_err(|_| corrupt("assessment id"))?,
        model_version: VersionKey {
            model: row.model_id.clone(),
            version: row.model_version,
        },
        total_score: decimal(&row.total_score)?,
        credit_limit: row.credit_limit.as_deref().map(decimal).transpose()?,
        payment_terms_days: u32::try_from(row.payment_terms_days).map_err(|_| corrupt("terms"))?,
        sales: row.sales.as_deref().map(decimal).transpose()?,
        gross_profit: row.gross_profit.as_deref().map(decimal).transpose()?,
        grade: row.grade,
        currency: row.currency,
        service_level: row.service_level,
        review_required: row.review_required,
        assess_time: row.assess_time,
        as_of: row.as_of_date,
        valid_until: row.valid_until,
        grade_override: grade_override.map(overrides::to_domain).transpose()?,
    })
}
