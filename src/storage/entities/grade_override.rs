//! One row per grade override ever set; revoking one fills the revoke columns, nothing is
//! deleted.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "grade_overrides")]
pub struct Model {
    /// A UUIDv7 in its hyphenated text form.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub customer_id: String,
    pub grade: String,
    pub credit_limit: Option<String>,
    pub currency: Option<String>,
    pub reason: String,
    pub author: String,
    pub create_time: DateTimeUtc,
    pub expire_time: DateTimeUtc,
    pub computed_grade: String,
    pub assessment_id: String,
    pub revoke_time: Option<DateTimeUtc>,
    pub revoked_by: Option<String>,
    pub revoke_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::customer::Entity",
        from = "Column::CustomerId",
        to = "super::customer::Column::Id"
    )]
    Customer,
}

impl ActiveModelBehavior for ActiveModel {}
