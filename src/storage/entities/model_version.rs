//! One row per version of a scoring model. The definition is one JSON document (the domain's
//! `ScoringModel`): no query looks inside it, and a published one is never written again.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "model_versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub model_id: String,
    /// 1, 2, ... per model.
    pub version: i32,
    /// `draft` or `published`.
    pub state: String,
    pub definition: String,
    /// Incremented by every change of a draft; the etag is derived from it.
    pub etag_version: i64,
    pub create_time: DateTimeUtc,
    pub update_time: DateTimeUtc,
    pub publish_time: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
