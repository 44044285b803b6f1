//! One row per recorded outcome, never changed.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outcomes")]
pub struct Model {
    /// A UUIDv7 in its hyphenated text form.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub customer_id: String,
    /// `default`, `late_payment` or `churn`.
    pub kind: String,
    pub occur_date: Date,
    pub days_late: Option<i32>,
    pub note: String,
    pub record_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
