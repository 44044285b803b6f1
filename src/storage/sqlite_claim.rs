//! One server per SQLite database. The grade cache ([`super::grade_cache`]) is true only if
//! every write to the database passes through this process, so the server claims the file:
//! a lock on it (`flock`, beside SQLite's own byte-range locks, which it does not touch),
//! held until the store is closed. A second server started on the same file stays NOT_SERVING,
//! saying why, until the first lets go: a redeploy that starts the new server before the old
//! one has stopped waits instead of failing.

use std::{fs::File, io::ErrorKind, path::Path, sync::Mutex};

use sea_orm::DbErr;

use super::StorageError;

/// The claim on the database file; empty until [`SqliteClaim::take`] and after
/// [`SqliteClaim::release`].
#[derive(Default)]
pub(super) struct SqliteClaim(Mutex<Option<File>>);

impl SqliteClaim {
    /// Claims the database at `path`, unless it is claimed already. An in-memory database has
    /// no file, and is private to this process anyway.
    pub(super) fn take(&self, path: &Path) -> Result<(), StorageError> {
        let mut held = self.held();
        if held.is_some() {
            return Ok(());
        }
        let file = match File::open(path) {
            Ok(file) => file,
            Err(error) if error.kind() == ErrorKind::NotFound => return Ok(()),
            Err(error) => return Err(unavailable(format!("cannot open it: {error}"))),
        };
        match file.try_lock() {
            Ok(()) => {
                *held = Some(file);
                Ok(())
            }
            Err(std::fs::TryLockError::WouldBlock) => Err(unavailable(
                "another custgrade server is using it; this one serves once that one stops"
                    .to_owned(),
            )),
            Err(std::fs::TryLockError::Error(error)) => {
                Err(unavailable(format!("cannot lock it: {error}")))
            }
        }
    }

    /// Lets another server claim the database.
    pub(super) fn release(&self) {
        self.held().take();
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Option<File>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
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

        first.take(&path).expect("the first claim succeeds");
        first.take(&path).expect("claiming again is a no-op");
        let refused = second.take(&path).expect_err("the file is claimed");
        assert!(
            format!("{refused:?}").contains("another custgrade server"),
            "{refused:?}"
        );

        first.release();
        second
            .take(&path)
            .expect("released, the file can be claimed");
    }

    #[test]
    fn a_database_without_a_file_needs_no_claim() {
        SqliteClaim::default()
            .take(Path::new("file:sqlx-in-memory-1"))
            .expect("nothing to claim");
    }
}
