//! The model version each population (`existing`, `prospect`) is graded with by default.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "champions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub population: String,
    pub model_version_id: i64,
    pub set_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
