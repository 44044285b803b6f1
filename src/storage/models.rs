//! The scoring model repository: versions (a draft is edited, a published one is frozen), the
//! champion of each population, and the default models a new database starts with.

use std::{
    collections::HashMap,
    sync::{Arc, LazyLock, Mutex},
};

use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
    sea_query::{LockType, OnConflict},
};

use super::{
    StorageError, Store,
    customers::{ExpectedVersion, Page},
    entities::{champion, champion_history, model_version, scoring_model},
    idempotency::{RequestKey, concurrent_result},
    now,
};
use crate::domain::{
    customer::CustomerKind,
    grading::{Champion, ModelVersion, VersionKey, VersionState},
    scoring::ScoringModel,
};

/// The PostgreSQL advisory lock key that serializes publishing the defaults ("cgseed").
const SEED_LOCK: i64 = 0x6367_7365_6564;

impl Store {
    /// Claims a SQLite database file, brings the schema up to date and, on a database
    /// without any model, publishes `defaults` (existing customers first, then prospects) as
    /// version 1 of each and makes them the champions. Safe to call again; the server calls it until it succeeds.
    pub async fn prepare(&self, defaults: &[ScoringModel; 2]) -> Result<(), StorageError> {
        self.claim_sqlite_file().await?;
        self.migrate().await?;
        let txn = self.begin_write_unchecked().await?;
        if self.backend() == DbBackend::Postgres {
            // Replicas starting together on an empty database take turns here, so only the
            // first publishes the defaults (SQLite's IMMEDIATE transaction already does).
            txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({SEED_LOCK})"))
                .await?;
        }
        if scoring_model::Entity::find().count(&txn).await? == 0 {
            for (definition, population) in defaults.iter().zip(CustomerKind::ALL) {
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

impl Store {
    /// Creates the next version of `model` as a draft holding `definition`, and the model
    /// itself with its first version. With a `request_id`, a retry returns the version the
    /// first call created.
    #[tracing::instrument(skip_all, fields(model = %model), err(level = "debug"))]
    pub async fn create_model_version(
        &self,
        model: &str,
        definition: &ScoringModel,
        request_id: Option<&str>,
    ) -> Result<ModelVersion, StorageError> {
        let key = request_id
            .map(|id| RequestKey::new("create_model_version", id, &(model, definition)))
            .transpose()?;
        match self
            .try_create_version(model, definition, key.as_ref())
            .await
        {
            Err(error) if error.is_conflict() => {
                let id = concurrent_result(key.as_ref(), error, self.reader()?).await?;
                load_version_by_id(self.reader()?, parse_row_id(&id)?).await
            }
            other => other,
        }
    }

    async fn try_create_version(
        &self,
        model: &str,
        definition: &ScoringModel,
        key: Option<&RequestKey<'_>>,
    ) -> Result<ModelVersion, StorageError> {
        let txn = self.begin_write().await?;
        if let Some(key) = key
            && let Some(id) = key.earlier_result(&txn).await?
        {
            return load_version_by_id(&txn, parse_row_id(&id)?).await;
        }
        let row = insert_model(&txn, model, definition, VersionState::Draft).await?;
        if let Some(key) = key {
            key.remember(&txn, &row.id.to_string()).await?;
        }
        txn.commit().await?;
        to_domain(row)
    }

    pub async fn get_model_version(&self, key: &VersionKey) -> Result<ModelVersion, StorageError> {
        Ok(load_version(self.reader()?, key).await?.1)
    }

    /// A page of the model's versions, newest first; `after` is the last version number seen.
    pub async fn list_model_versions(
        &self,
        model: &str,
        after: Option<i32>,
        limit: u64,
    ) -> Result<Page<ModelVersion>, StorageError> {
        let db = self.reader()?;
        scoring_model::Entity::find_by_id(model)
            .one(db)
            .await?
            .ok_or(StorageError::NotFound { what: "model" })?;
        let mut query =
            model_version::Entity::find().filter(model_version::Column::ModelId.eq(model));
        if let Some(after) = after {
            query = query.filter(model_version::Column::Version.lt(after));
        }
        let rows = query
            .order_by_desc(model_version::Column::Version)
            .limit(limit + 1)
            .all(db)
            .await?;
        Page::from_overfetch(rows, limit).try_map(to_domain)
    }

    /// Replaces a draft's definition. A published version never changes.
    pub async fn update_model_version(
        &self,
        key: &VersionKey,
        expected: ExpectedVersion,
        definition: &ScoringModel,
    ) -> Result<ModelVersion, StorageError> {
        let txn = self.begin_write().await?;
        let (id, current) = load_draft_for_update(&txn, key, expected).await?;
        let definition = named(definition, key);
        let row = model_version::ActiveModel {
            id: Set(id),
            definition: Set(definition_json(&definition)?),
            etag_version: Set(current.etag_version + 1),
            update_time: Set(now()),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        txn.commit().await?;
        to_domain(row)
    }

    /// Freezes a draft for good. The caller has validated the definition it read at
    /// `expected`; the etag makes sure it is still that definition.
    pub async fn publish_model_version(
        &self,
        key: &VersionKey,
        expected: ExpectedVersion,
    ) -> Result<ModelVersion, StorageError> {
        let txn = self.begin_write().await?;
        let (id, current) = load_draft_for_update(&txn, key, expected).await?;
        let time = now();
        let row = model_version::ActiveModel {
            id: Set(id),
            state: Set(VersionState::Published.as_str().to_owned()),
            etag_version: Set(current.etag_version + 1),
            update_time: Set(time),
            publish_time: Set(Some(time)),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        txn.commit().await?;
        to_domain(row)
    }

    /// Makes the published version `key` the champion of `population`.
    pub async fn set_champion(
        &self,
        population: CustomerKind,
        key: &VersionKey,
    ) -> Result<Champion, StorageError> {
        let txn = self.begin_write().await?;
        let (id, version) = load_version(&txn, key).await?;
        version.ensure_published("making it champion")?;
        set_champion_row(&txn, population, id).await?;
        let champion = load_champion_record(&txn, population).await?;
        txn.commit().await?;
        Ok(champion)
    }

    pub async fn get_champion(&self, population: CustomerKind) -> Result<Champion, StorageError> {
        load_champion_record(self.reader()?, population).await
    }

    /// The champion version of every population that has one.
    pub async fn champion_versions(
        &self,
    ) -> Result<Vec<(CustomerKind, ModelVersion)>, StorageError> {
        let db = self.reader()?;
        let mut champions = Vec::new();
        for population in CustomerKind::ALL {
            if let Some((_, version)) = load_champion(db, population).await? {
                champions.push((population, version));
            }
        }
        Ok(champions)
    }
}

/// The draft `key` locked for a change, after checking the caller's etag.
async fn load_draft_for_update(
    txn: &DatabaseTransaction,
    key: &VersionKey,
    expected: ExpectedVersion,
) -> Result<(i64, ModelVersion), StorageError> {
    let row = model_version::Entity::find()
        .filter(model_version::Column::ModelId.eq(key.model.as_str()))
        .filter(model_version::Column::Version.eq(key.version))
        .lock(LockType::Update)
        .one(txn)
        .await?
        .ok_or(StorageError::NotFound {
            what: "model version",
        })?;
    let id = row.id;
    let current = to_domain(row)?;
    if expected.is_some_and(|expected| expected != current.etag_version) {
        return Err(StorageError::EtagMismatch);
    }
    current.ensure_draft()?;
    Ok((id, current))
}

async fn load_champion_record(
    db: &impl ConnectionTrait,
    population: CustomerKind,
) -> Result<Champion, StorageError> {
    let row = champion::Entity::find_by_id(population.as_str())
        .one(db)
        .await?
        .ok_or(StorageError::NotFound { what: "champion" })?;
    let version = load_version_by_id(db, row.model_version_id).await?;
    Ok(Champion {
        population,
        model_version: version.key,
        set_time: row.set_time,
    })
}

fn parse_row_id(raw: &str) -> Result<i64, StorageError> {
    raw.parse()
        .map_err(|_| StorageError::Corrupt(format!("model version row id {raw:?}")))
}

/// `definition` with the name and version of `key`, which the server assigns.
fn named(definition: &ScoringModel, key: &VersionKey) -> ScoringModel {
    let mut definition = definition.clone();
    definition.name = format!("models/{}", key.model);
    definition.version = key.version.to_string();
    definition
}

/// The `{model}` of a definition's `models/{model}` name.
fn model_id_of(definition: &ScoringModel) -> Result<&str, StorageError> {
    definition
        .name
        .strip_prefix("models/")
        .ok_or_else(|| StorageError::Corrupt(format!("model name {:?}", definition.name)))
}

/// Creates model `model` if it is new and its next version from `definition`. The model row
/// is locked first, so concurrent creations of one model's versions take turns.
async fn insert_model(
    db: &impl ConnectionTrait,
    model: &str,
    definition: &ScoringModel,
    state: VersionState,
) -> Result<model_version::Model, StorageError> {
    let time = now();
    scoring_model::Entity::insert(scoring_model::ActiveModel {
        id: Set(model.to_owned()),
        create_time: Set(time),
    })
    .on_conflict(
        OnConflict::column(scoring_model::Column::Id)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    scoring_model::Entity::find_by_id(model)
        .lock(LockType::Update)
        .one(db)
        .await?;
    let key = VersionKey {
        model: model.to_owned(),
        version: next_version(db, model).await?,
    };
    let row = model_version::ActiveModel {
        model_id: Set(key.model.clone()),
        version: Set(key.version),
        state: Set(state.as_str().to_owned()),
        definition: Set(definition_json(&named(definition, &key))?),
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
    let highest: Option<i32> = model_version::Entity::find()
        .select_only()
        .column_as(model_version::Column::Version.max(), "version")
        .filter(model_version::Column::ModelId.eq(model))
        .into_tuple::<Option<i32>>()
        .one(db)
        .await?
        .flatten();
    highest
        .unwrap_or(0)
        .checked_add(1)
        .ok_or_else(|| StorageError::Corrupt(format!("versions of {model}")))
}

/// Makes the version in row `version_id` the champion of `population`, and records it.
async fn set_champion_row(
    db: &impl ConnectionTrait,
    population: CustomerKind,
    version_id: i64,
) -> Result<(), StorageError> {
    let time = now();
    // One upsert, not delete-then-insert: two concurrent calls on PostgreSQL would both
    // delete nothing and collide on the insert.
    champion::Entity::insert(champion::ActiveModel {
        population: Set(population.as_str().to_owned()),
        model_version_id: Set(version_id),
        set_time: Set(time),
    })
    .on_conflict(
        OnConflict::column(champion::Column::Population)
            .update_columns([champion::Column::ModelVersionId, champion::Column::SetTime])
            .to_owned(),
    )
    .exec_without_returning(db)
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

/// The most published versions [`PublishedVersions`] keeps; past it, it starts again.
const PUBLISHED_VERSIONS: usize = 64;

/// Published model versions by row id, parsed. Every assessment grades with one, and reading
/// its definition (a few kilobytes: overflow pages on SQLite) and copying the parsed model
/// was a twentieth of an assessment's time. A published version is never written again nor
/// deleted, and only published ones are kept, so an entry is never stale; the cache belongs
/// to one [`Store`], since row ids are only unique within a database.
#[derive(Default)]
pub(super) struct PublishedVersions(Mutex<HashMap<i64, Arc<ModelVersion>>>);

impl PublishedVersions {
    /// The version in row `id`: from the cache, else read (and kept, if it is published).
    pub(super) async fn get(
        &self,
        db: &impl ConnectionTrait,
        id: i64,
    ) -> Result<Arc<ModelVersion>, StorageError> {
        if let Some(version) = self.0.lock().ok().and_then(|cache| cache.get(&id).cloned()) {
            return Ok(version);
        }
        let version = Arc::new(load_version_by_id(db, id).await?);
        if version.state == VersionState::Published
            && let Ok(mut cache) = self.0.lock()
        {
            keep(&mut cache, PUBLISHED_VERSIONS, id, version.clone());
        }
        Ok(version)
    }
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

pub(super) fn to_domain(row: model_version::Model) -> Result<ModelVersion, StorageError> {
    let corrupt = |what: String| StorageError::Corrupt(format!("model version {}: {what}", row.id));
    let definition = parsed(&row.definition).map_err(corrupt)?;
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

/// The most definitions [`parsed`] keeps; past it, it starts again (drafts edited many times
/// would otherwise grow it without end).
const PARSED_DEFINITIONS: usize = 64;

/// `definition` parsed, from a cache keyed by the JSON itself. Every assessment reads its
/// version's definition, and parsing it took a tenth of an assessment's time; keyed by its
/// text, an entry is right whichever database or row it came from, and never stale.
fn parsed(definition: &str) -> Result<ScoringModel, String> {
    static CACHE: LazyLock<Mutex<HashMap<String, ScoringModel>>> = LazyLock::new(Mutex::default);
    if let Some(model) = CACHE
        .lock()
        .ok()
        .and_then(|cache| cache.get(definition).cloned())
    {
        return Ok(model);
    }
    let model: ScoringModel =
        serde_json::from_str(definition).map_err(|error| error.to_string())?;
    if let Ok(mut cache) = CACHE.lock() {
        keep(
            &mut cache,
            PARSED_DEFINITIONS,
            definition.to_owned(),
            model.clone(),
        );
    }
    Ok(model)
}

/// Inserts into `cache`, emptied first once it holds `bound` entries: the caches here hold a
/// handful of model versions, and one that outgrew its bound (drafts edited many times)
/// simply starts again.
fn keep<K: std::hash::Hash + Eq, V>(cache: &mut HashMap<K, V>, bound: usize, key: K, value: V) {
    if cache.len() >= bound {
        cache.clear();
    }
    cache.insert(key, value);
}
