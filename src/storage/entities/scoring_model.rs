//! One row per scoring model: the name its versions share (`existing-customers`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "scoring_models")]
pub struct Model {
    /// The model id, the last segment of `models/{model}`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub create_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
