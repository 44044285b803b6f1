//! Idempotency keys: a create-like call with a `request_id` records which resource it made, in
//! the same transaction, so that a retry finds it instead of making a second one.

use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{StorageError, entities::idempotency_key, now};

/// One use of a request id: the method it belongs to and a fingerprint of the request.
pub struct RequestKey<'a> {
    scope: &'static str,
    request_id: &'a str,
    request_hash: String,
}

impl<'a> RequestKey<'a> {
    /// Fingerprints `request` (its canonical JSON) under `scope`.
    pub fn new(
        scope: &'static str,
        request_id: &'a str,
        request: &impl Serialize,
    ) -> Result<Self, StorageError> {
        let canonical = serde_json::to_vec(request)
            .map_err(|error| StorageError::Corrupt(format!("request fingerprint: {error}")))?;
        Ok(Self {
            scope,
            request_id,
            request_hash: hex::encode(Sha256::digest(canonical)),
        })
    }

    /// The id of the resource an earlier call with this key made, if any. The same key with a
    /// different request is refused.
    pub async fn earlier_result(
        &self,
        db: &impl ConnectionTrait,
    ) -> Result<Option<String>, StorageError> {
        let found = idempotency_key::Entity::find_by_id((
            self.scope.to_owned(),
            self.request_id.to_owned(),
        ))
        .one(db)
        .await?;
        match found {
            Some(row) if row.request_hash == self.request_hash => Ok(Some(row.resource_id)),
            Some(_) => Err(StorageError::RequestIdReused),
            None => Ok(None),
        }
    }

    /// Records that this key made `resource_id`; call it inside the transaction that made it.
    pub async fn remember(
        &self,
        db: &impl ConnectionTrait,
        resource_id: &str,
    ) -> Result<(), StorageError> {
        self.row(resource_id).insert(db).await?;
        Ok(())
    }

    /// The row that records this key made `resource_id`, to insert with the resource.
    pub(super) fn row(&self, resource_id: &str) -> idempotency_key::ActiveModel {
        idempotency_key::ActiveModel {
            scope: Set(self.scope.to_owned()),
            request_id: Set(self.request_id.to_owned()),
            request_hash: Set(self.request_hash.clone()),
            resource_id: Set(resource_id.to_owned()),
            create_time: Set(now()),
        }
    }
}

/// After a create-like write failed with `conflict`: the id of what a concurrent call with
/// the same request id made, when that is what the write collided with; else the conflict.
pub async fn concurrent_result(
    key: Option<&RequestKey<'_>>,
    conflict: StorageError,
    db: &impl ConnectionTrait,
) -> Result<String, StorageError> {
    let Some(key) = key else {
        return Err(conflict);
    };
    key.earlier_result(db).await?.ok_or(conflict)
}
