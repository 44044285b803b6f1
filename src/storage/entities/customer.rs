//! One row per customer, deleted ones included (soft delete sets `delete_time`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customers")]
pub struct Model {
    /// The customer id (a UUIDv7 in its hyphenated text form): sorts by registration time.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    #[sea_orm(unique)]
    pub external_id: String,
    pub display_name: String,
    pub kind: String,
    pub industry: String,
    pub region: String,
    pub parent_id: Option<String>,
    pub corporate_group: String,
    /// Incremented by every change; the etag is derived from it.
    pub version: i64,
    pub create_time: DateTimeUtc,
    pub update_time: DateTimeUtc,
    pub delete_time: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
