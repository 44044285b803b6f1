//! Assessments in a period, one per customer: the population a report reads. The
//! validation and override reports judge each customer by its first grading of the period;
//! the stability report compares each customer's newest. One pass in `(customer_id,
//! assess_time)` order, holding one row at a time.

use std::ops::Range;

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use sea_orm::{
    ColumnTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect, RelationTrait,
    TryGetableMany,
};

use super::{
    StorageError, Store,
    customers::{CustomerFilter, filter_condition},
    entities::assessment,
    models::load_version,
};
use crate::domain::grading::VersionKey;

/// Whose gradings a pass reads: those of a period, by one version or by any, of the
/// customers under a filter.
#[derive(Debug, Clone, Copy)]
pub(super) struct Population<'a> {
    pub version: Option<&'a VersionKey>,
    pub customers: &'a CustomerFilter,
    pub period: &'a Range<DateTime<Utc>>,
}

/// Which of a customer's assessments in the period stands for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PerCustomer {
    First,
    Newest,
}

impl Store {
    /// Hands `visit` one row per customer of `population`, in customer order: the customer
    /// id, then `columns`. NOT_FOUND when the population names a version that does not exist.
    pub(super) async fn visit_one_per_customer<R>(
        &self,
        population: Population<'_>,
        pick: PerCustomer,
        columns: &[assessment::Column],
        customer_of: impl Fn(&R) -> &str,
        mut visit: impl FnMut(R) -> Result<(), StorageError>,
    ) -> Result<(), StorageError>
    where
        R: TryGetableMany + Send + 'static,
    {
        let db = self.reader()?;
        let mut query = assessment::Entity::find()
            .select_only()
            .column(assessment::Column::CustomerId)
            .columns(columns.iter().copied())
            .join(JoinType::InnerJoin, assessment::Relation::Customer.def())
            .filter(filter_condition(population.customers))
            .filter(assessment::Column::AssessTime.gte(population.period.start))
            .filter(assessment::Column::AssessTime.lt(population.period.end));
        if let Some(version) = population.version {
            let (version_id, _) = load_version(db, version).await?;
            query = query.filter(assessment::Column::ModelVersionId.eq(version_id));
        }
        let mut rows = query
            .order_by_asc(assessment::Column::CustomerId)
            .order_by_asc(assessment::Column::AssessTime)
            .order_by_asc(assessment::Column::Id)
            .into_tuple::<R>()
            .stream(db)
            .await?;
        let mut held: Option<R> = None;
        while let Some(row) = rows.try_next().await? {
            held = Some(match held.take() {
                Some(previous) if customer_of(&previous) == customer_of(&row) => match pick {
                    PerCustomer::First => previous,
                    PerCustomer::Newest => row,
                },
                Some(previous) => {
                    visit(previous)?;
                    row
                }
                None => row,
            });
        }
        match held {
            Some(last) => visit(last),
            None => Ok(()),
        }
    }
}
