//! One row per recorded revision of a customer's figures for a date. The inputs are one JSON
//! document: new inputs need no migration, and no query filters on an individual input.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "figures")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub customer_id: String,
    pub as_of_date: Date,
    pub revision: i32,
    pub superseded: bool,
    pub record_time: DateTimeUtc,
    pub source: String,
    pub currency: Option<String>,
    /// The `FigureSet` as JSON text (money as decimal strings, so amounts stay exact).
    pub inputs: String,
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

impl Related<super::customer::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Customer.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
