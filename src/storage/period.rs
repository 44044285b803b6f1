//! A model version's assessments in a period, one per customer: the population a report
//! reads. The validation report judges each customer by its first grading of the period; the
//! stability report compares each customer's newest. One pass in `(customer_id, assess_time)`
//! order, holding one row at a time.

use std::ops::Range;

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TryGetableMany};

use super::{StorageError, Store, entities::assessment, models::load_version};
use crate::domain::grading::VersionKey;

/// Which of a customer's assessments in the period stands for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PerCustomer {
    First,
    Newest,
}

impl Store {
    /// Hands `visit` one row per customer that `version` graded in `period`, in customer
    /// order: the customer id, then `columns`. NOT_FOUND when there is no such version.
    pub(super) async fn visit_one_per_customer<R>(
        &self,
        version: &VersionKey,
        period: &Range<DateTime<Utc>>,
        pick: PerCustomer,
        columns: &[assessment::Column],
        customer_of: impl Fn(&R) -> &str,
        mut visit: impl FnMut(R) -> Result<(), StorageError>,
    ) -> Result<(), StorageError>
    where
        R: TryGetableMany + Send + 'static,
    {
        let db = self.reader()?;
        let (version_id, _) = load_version(db, version).await?;
        let mut rows = assessment::Entity::find()
            .select_only()
            .column(assessment::Column::CustomerId)
            .columns(columns.iter().copied())
            .filter(assessment::Column::ModelVersionId.eq(version_id))
            .filter(assessment::Column::AssessTime.gte(period.start))
            .filter(assessment::Column::AssessTime.lt(period.end))
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
