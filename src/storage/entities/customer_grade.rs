//! One row per assessed customer: the brief of its newest assessment, replaced by every new
//! one. Portfolio lists and reports read this table, joined to `customers` for the filters.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_grades")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: String,
    pub assessment_id: String,
    pub model_id: String,
    pub model_version: i32,
    pub grade: String,
    /// Two decimals, as text so it stays exact on both databases.
    pub total_score: String,
    pub credit_limit: Option<String>,
    pub currency: Option<String>,
    pub payment_terms_days: i64,
    pub service_level: String,
    pub review_required: bool,
    pub assess_time: DateTimeUtc,
    pub as_of_date: Date,
    pub valid_until: Date,
    pub sales: Option<String>,
    pub gross_profit: Option<String>,
    /// The customer's newest override that was not revoked (it may have expired).
    pub override_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::customer::Entity",
        from = "Column::CustomerId",
        to = "super::customer::Column::Id"
    )]
    Customer,
    #[sea_orm(
        belongs_to = "super::grade_override::Entity",
        from = "Column::OverrideId",
        to = "super::grade_override::Column::Id"
    )]
    Override,
}

impl Related<super::grade_override::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Override.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
