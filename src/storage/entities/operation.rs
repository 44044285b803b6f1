//! One row per long-running operation (a portfolio re-grade): what was asked, how far it got,
//! and which server holds it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "operations")]
pub struct Model {
    /// A UUIDv7 in its hyphenated text form.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// What the operation does: `regrade_portfolio`.
    pub kind: String,
    /// The request as JSON, with the versions it resolved when it started.
    pub request: String,
    /// `running`, `succeeded`, `cancelled` or `failed`.
    pub state: String,
    pub total_count: i64,
    pub processed_count: i64,
    pub assessed_count: i64,
    /// The skipped customers as JSON: a count and a few ids per reason.
    pub skips: String,
    /// The last customer id dealt with; the run continues after it.
    pub cursor: Option<String>,
    /// The server instance running it; `None` when nobody does (released on shutdown).
    pub owner: Option<String>,
    /// Until when `owner` holds it; after that another server may take it over.
    pub lease_until: Option<DateTimeUtc>,
    /// Why a failed run failed, in words fit for the caller.
    pub error: Option<String>,
    pub create_time: DateTimeUtc,
    pub update_time: DateTimeUtc,
    pub end_time: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
