//! One row per assessment, never changed. The rationale is one document (the domain's
//! `Assessment`): compact in `rationale`, or as plain JSON with its sentences in `document`
//! for rows written before the compact form. The other columns are what lists filter and sort
//! on.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "assessments")]
pub struct Model {
    /// A UUIDv7 in its hyphenated text form.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub customer_id: String,
    /// The figures row (one revision of a date) that was graded.
    pub figures_id: i64,
    pub figures_revision: i32,
    pub model_version_id: i64,
    pub assess_time: DateTimeUtc,
    pub as_of_date: Date,
    pub valid_until: Date,
    /// The snapshot's currency: the credit limit's.
    pub currency: Option<String>,
    /// Two decimals, as text so it stays exact on both databases.
    pub total_score: String,
    pub grade: String,
    /// Plain JSON, sentences in English; empty when `rationale` holds the document.
    pub document: String,
    /// The re-grade operation that made it; `None` for an inline assessment.
    pub operation_id: Option<String>,
    /// The document in its compact form (see `storage::rationale`).
    pub rationale: Option<Vec<u8>>,
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
        belongs_to = "super::figures::Entity",
        from = "Column::FiguresId",
        to = "super::figures::Column::Id"
    )]
    Figures,
}

impl ActiveModelBehavior for ActiveModel {}
