//! The read a stability report makes of each period: every customer a model version graded
//! in it, by its newest assessment of the period, whose document holds the total score and
//! each criterion's points.

use std::ops::Range;

use chrono::{DateTime, Utc};

use super::{
    StorageError, Store,
    customers::CustomerFilter,
    entities::assessment,
    period::{PerCustomer, Population},
    rationale,
};
use crate::domain::{grading::VersionKey, scoring::Assessment};

impl Store {
    /// Hands `visit` the newest assessment by `version` in `period` of each customer it
    /// graded there, in customer order. NOT_FOUND when there is no such version.
    pub async fn visit_newest_in(
        &self,
        version: &VersionKey,
        period: &Range<DateTime<Utc>>,
        mut visit: impl FnMut(&Assessment),
    ) -> Result<(), StorageError> {
        // Every customer, deleted ones too: a deletion does not undo what a grading was.
        let customers = CustomerFilter {
            show_deleted: true,
            ..CustomerFilter::default()
        };
        let population = Population {
            version: Some(version),
            customers: &customers,
            period,
        };
        self.visit_one_per_customer(
            population,
            PerCustomer::Newest,
            &[assessment::Column::Document, assessment::Column::Rationale],
            |row: &(String, String, Option<Vec<u8>>)| row.0.as_str(),
            |(customer, document, compact)| {
                let assessment =
                    rationale::decode(&document, compact.as_deref()).map_err(|error| {
                        StorageError::Corrupt(format!("assessment of customer {customer}: {error}"))
                    })?;
                visit(&assessment);
                Ok(())
            },
        )
        .await
    }
}
