//! Every champion ever set, oldest first: which version graded a population when.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "champion_history")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub population: String,
    pub model_version_id: i64,
    pub set_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
