//! The scoring model repository: versions (a draft is edited, a published one is frozen), the
//! champion of each population, and the default models a new database starts with.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter,
};

use super::{
    StorageError, Store,
    entities::{champion, champion_history, model_version, scoring_model},
    now,
};
use crate::domain::{
    customer::CustomerKind,
    grading::{ModelVersion, VersionKey, VersionState},
    scoring::ScoringModel,
};

impl Store {
    /// Brings the schema up to date and, on a database without any model, publishes
    /// `defaults` (existing customers first, then prospects) as version 1 of each and makes
    /// them the champions. Safe to call again; the server calls it until it succeeds.
    pub async fn prepare(&self, defaults: &[ScoringModel; 2]) -> Result<(), StorageError> {
        self.migrate().await?;
        let txn = self.begin_write_unchecked().await?;
        if scoring_model::Entity::find().count(&txn).await? == 0 {
            let populations = [CustomerKind::Existing, CustomerKind::Prospect];
            for (definition, population) in defaults.iter().zip(populations) {
                let model = model_id_of(definition)?;
                let row = insert_model(&txn, model, definition, VersionState::Published).await?;
                set_champion_row(&txn, population, row.id).await?;
                tracing::info!(model = %definition.name, ?population, "default model published");
            }
        }
        txn.commit().await?;
        self.mark_ready();
        Ok(())
    }
}

/// The `{model}` of a definition's `models/{model}` name.
fn model_id_of(definition: &ScoringModel) -> Result<&str, StorageError> {
    definition
        .name
        .strip_prefix("models/")
        .ok_or_else(|| StorageError::Corrupt(format!("model name {:?}", definition.name)))
}

/// Creates model `model` if it is new and its next version from `definition`.
async fn insert_model(
    db: &impl ConnectionTrait,
    model: &str,
    definition: &ScoringModel,
    state: VersionState,
) -> Result<model_version::Model, StorageError> {
    let time = now();
    if scoring_model::Entity::find_by_id(model)
        .one(db)
        .await?
        .is_none()
    {
        scoring_model::ActiveModel {
            id: Set(model.to_owned()),
            create_time: Set(time),
        }
        .insert(db)
        .await?;
    }
    let version = next_version(db, model).await?;
    let mut definition = definition.clone();
    definition.name = format!("models/{model}");
    definition.version = version.to_string();
    let row = model_version::ActiveModel {
        model_id: Set(model.to_owned()),
        version: Set(version),
        state: Set(state.as_str().to_owned()),
        definition: Set(definition_json(&definition)?),
        etag_version: Set(1),
        create_time: Set(time),
        update_time: Set(time),
        publish_time: Set((state == VersionState::Published).then_some(time)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(row)
}

async fn next_version(db: &impl ConnectionTrait, model: &str) -> Result<i32, StorageError> {
    let count = model_version::Entity::find()
        .filter(model_version::Column::ModelId.eq(model))
        .count(db)
        .await?;
    i32::try_from(count + 1).map_err(|_| StorageError::Corrupt(format!("versions of {model}")))
}

/// Makes the version in row `version_id` the champion of `population`, and records it.
async fn set_champion_row(
    db: &impl ConnectionTrait,
    population: CustomerKind,
    version_id: i64,
) -> Result<(), StorageError> {
    let time = now();
    champion::Entity::delete_by_id(population.as_str())
        .exec(db)
        .await?;
    champion::ActiveModel {
        population: Set(population.as_str().to_owned()),
        model_version_id: Set(version_id),
        set_time: Set(time),
    }
    .insert(db)
    .await?;
    champion_history::ActiveModel {
        population: Set(population.as_str().to_owned()),
        model_version_id: Set(version_id),
        set_time: Set(time),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The version `key`, or NOT_FOUND.
pub(super) async fn load_version(
    db: &impl ConnectionTrait,
    key: &VersionKey,
) -> Result<(i64, ModelVersion), StorageError> {
    let row = model_version::Entity::find()
        .filter(model_version::Column::ModelId.eq(key.model.as_str()))
        .filter(model_version::Column::Version.eq(key.version))
        .one(db)
        .await?
        .ok_or(StorageError::NotFound {
            what: "model version",
        })?;
    Ok((row.id, to_domain(row)?))
}

/// The version in row `id`, which a foreign key guarantees exists.
pub(super) async fn load_version_by_id(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<ModelVersion, StorageError> {
    let row = model_version::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| StorageError::Corrupt(format!("model version row {id} is gone")))?;
    to_domain(row)
}

/// The champion of `population`: its row id and the version.
pub(super) async fn load_champion(
    db: &impl ConnectionTrait,
    population: CustomerKind,
) -> Result<Option<(i64, ModelVersion)>, StorageError> {
    let Some(row) = champion::Entity::find_by_id(population.as_str())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let version = load_version_by_id(db, row.model_version_id).await?;
    Ok(Some((row.model_version_id, version)))
}

fn definition_json(definition: &ScoringModel) -> Result<String, StorageError> {
    serde_json::to_string(definition)
        .map_err(|error| StorageError::Corrupt(format!("model definition: {error}")))
}

fn to_domain(row: model_version::Model) -> Result<ModelVersion, StorageError> {
    let corrupt = |what: String| StorageError::Corrupt(format!("model version {}: {what}", row.id));
    let definition: ScoringModel =
        serde_json::from_str(&row.definition).map_err(|error| corrupt(error.to_string()))?;
    let state = VersionState::parse(&row.state).ok_or_else(|| corrupt(row.state.clone()))?;
    Ok(ModelVersion {
        key: VersionKey {
            model: row.model_id,
            version: row.version,
        },
        state,
        definition,
        etag_version: row.etag_version,
        create_time: row.create_time,
        update_time: row.update_time,
        publish_time: row.publish_time,
    })
}
