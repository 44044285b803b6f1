//! One server per SQLite database. The grade cache ([`super::grade_cache`]) is true only if
//! every write to the database passes through this process, so the server claims the file:
//! an `flock` on a lock file beside it (`<database>.custgrade-lock`), held until the store is
//! closed. Not on the database file itself: closing any descriptor of that file drops the
//! byte-range locks SQLite holds on it in this process. A second server started on the same
//! file stays NOT_SERVING, saying why, until the first lets go: a redeploy that starts the
//! new server before the old one has stopped waits instead of failing.

use std::{
    fs::{File, OpenOptions, TryLockError},
    path::{Path, PathBuf},
    sync::{Mutex, MutexGuard, PoisonError},
};

use sea_orm::DbErr;

use super::StorageError;

/// The claim on the database file; empty until [`SqliteClaim::take`] and after
/// [`SqliteClaim::release`].
#[derive(Default)]
pub(super) struct SqliteClaim(Mutex<Option<File>>);

impl SqliteClaim {
    /// Claims the database at `path`, unless this store has already. `Ok(false)` when there
    /// is no file to claim: an in-memory database (private to this process anyway), or a
    /// name that is not a plain path, such as a `file:` URI, which this process then cannot
    /// keep for itself.
    pub(super) fn take(&self, path: &Path) -> Result<bool, StorageError> {
        let mut held = self.held();
        if held.is_some() {
            return Ok(true);
        }
        if !path.is_file() {
            return Ok(false);
        }
        let lock_path = lock_file(path);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|error| {
                unavailable(format!("cannot open {}: {error}", lock_path.display()))
            })?;
        match file.try_lock() {
            Ok(()) => {
                *held = Some(file);
                Ok(true)
            }
            Err(TryLockError::WouldBlock) => Err(unavailable(
                "another custgrade server is using it; this one serves once that one stops"
                    .to_owned(),
            )),
            Err(TryLockError::Error(error)) => Err(unavailable(format!(
                "cannot lock {}: {error}",
                lock_path.display()
            ))),
        }
    }

    /// Lets another server claim the database.
    pub(super) fn release(&self) {
        self.held().take();
    }

    fn held(&self) -> MutexGuard<'_, Option<File>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The lock file of the database at `path`, beside it. It stays when the server stops:
/// removing a lock file races with the next server taking it.
fn lock_file(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".custgrade-lock");
    PathBuf::from(name)
}

fn unavailable(reason: String) -> StorageError {
    StorageError::Unavailable(Some(DbErr::Custom(format!(
        "the SQLite database file: {reason}"
    ))))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_second_claim_on_a_file_waits_for_the_first_to_be_released() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("custgrade.db");
        std::fs::write(&path, b"").expect("the file is written");
        let (first, second) = (SqliteClaim::default(), SqliteClaim::default());

        assert!(first.take(&path).expect("the first claim succeeds"));
        assert!(first.take(&path).expect("claiming again is a no-op"));
        let refused = second.take(&path).expect_err("the file is claimed");
        assert!(
            format!("{refused:?}").contains("another custgrade server"),
            "{refused:?}"
        );
        assert!(dir.path().join("custgrade.db.custgrade-lock").is_file());

        first.release();
        assert!(
            second
                .take(&path)
                .expect("released, the file can be claimed")
        );
    }

    #[test]
    fn a_database_without_a_file_cannot_be_claimed() {
        for name in ["file:sqlx-in-memory-1", "file:/tmp/custgrade.db"] {
            let claimed = SqliteClaim::default().take(Path::new(name));
            assert!(!claimed.expect("nothing to claim"), "{name}");
        }
    }
}
