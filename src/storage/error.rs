//! What can go wrong in storage, and the one place where database errors are classified:
//! a lost connection is `Unavailable` (the caller may retry), a unique violation is a
//! conflict, anything else is internal and is never shown to a caller.

use sea_orm::{DbErr, RuntimeErr, SqlErr, sqlx};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("{what} not found")]
    NotFound { what: &'static str },
    #[error("{0}")]
    AlreadyExists(String),
    #[error("the etag does not match the stored one")]
    EtagMismatch,
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("the request id was already used for a different request")]
    RequestIdReused,
    #[error("the write conflicted with a concurrent one; retry it")]
    Contention,
    #[error("the database url is not usable: {0}")]
    InvalidUrl(String),
    #[error("the database is unavailable")]
    Unavailable(#[source] Option<DbErr>),
    #[error("stored data cannot be read: {0}")]
    Corrupt(String),
    #[error("database error")]
    Internal(#[source] DbErr),
}

impl StorageError {
    /// True for the conflicts that a concurrent identical create can cause.
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::AlreadyExists(_))
    }

    /// The same error for each of several callers that one failed statement served (a
    /// batch of reads): a database error cannot be cloned, so the copy carries its text.
    pub(super) fn duplicate(&self) -> Self {
        let text = |error: &DbErr| DbErr::Custom(error.to_string());
        match self {
            Self::NotFound { what } => Self::NotFound { what },
            Self::AlreadyExists(message) => Self::AlreadyExists(message.clone()),
            Self::EtagMismatch => Self::EtagMismatch,
            Self::FailedPrecondition(message) => Self::FailedPrecondition(message.clone()),
            Self::RequestIdReused => Self::RequestIdReused,
            Self::Contention => Self::Contention,
            Self::InvalidUrl(message) => Self::InvalidUrl(message.clone()),
            Self::Unavailable(source) => Self::Unavailable(source.as_ref().map(text)),
            Self::Corrupt(message) => Self::Corrupt(message.clone()),
            Self::Internal(source) => Self::Internal(text(source)),
        }
    }
}

impl From<crate::domain::Refusal> for StorageError {
    fn from(refusal: crate::domain::Refusal) -> Self {
        Self::FailedPrecondition(refusal.0)
    }
}

impl From<DbErr> for StorageError {
    fn from(error: DbErr) -> Self {
        if let Some(SqlErr::UniqueConstraintViolation(_)) = error.sql_err() {
            return Self::AlreadyExists("the resource already exists".to_owned());
        }
        if is_contention(&error) {
            return Self::Contention;
        }
        if is_unavailable(&error) {
            return Self::Unavailable(Some(error));
        }
        Self::Internal(error)
    }
}

/// PostgreSQL's deadlock (40P01) and serialization failure (40001): the transaction was
/// rolled back and running it again will most likely succeed.
fn is_contention(error: &DbErr) -> bool {
    let (DbErr::Exec(RuntimeErr::SqlxError(sqlx_error))
    | DbErr::Query(RuntimeErr::SqlxError(sqlx_error))) = error
    else {
        return false;
    };
    match sqlx_error.as_ref() {
        sqlx::Error::Database(database) => {
            database
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .is_some()
                && matches!(database.code().as_deref(), Some("40P01" | "40001"))
        }
        _ => false,
    }
}

/// Errors that say the database cannot be reached or is refusing work for now.
fn is_unavailable(error: &DbErr) -> bool {
    let runtime = match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Exec(runtime) | DbErr::Query(runtime) => runtime,
        _ => return false,
    };
    let RuntimeErr::SqlxError(sqlx_error) = runtime else {
        return false;
    };
    match sqlx_error.as_ref() {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(database) => {
            let code = database.code().unwrap_or_default();
            if database
                .try_downcast_ref::<sqlx::sqlite::SqliteError>()
                .is_some()
            {
                is_sqlite_busy(&code)
            } else {
                is_postgres_unavailable(&code)
            }
        }
        _ => false,
    }
}

/// PostgreSQL SQLSTATEs for a connection problem (class 08), an operator intervention
/// (57P01-57P03) or too many connections (53300). Failures to connect at all arrive as
/// `DbErr::Conn` and are unavailable whatever their code.
fn is_postgres_unavailable(sqlstate: &str) -> bool {
    sqlstate.starts_with("08") || matches!(sqlstate, "57P01" | "57P02" | "57P03" | "53300")
}

/// SQLite's BUSY (5) or LOCKED (6), in any extended form: the writer did not get the lock
/// within `busy_timeout`, so the call may be retried.
fn is_sqlite_busy(code: &str) -> bool {
    code.parse::<i32>()
        .is_ok_and(|code| matches!(code & 0xff, 5 | 6))
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case("08006", true)]
    #[case("57P01", true)]
    #[case("53300", true)]
    #[case("23505", false)]
    #[case("42P01", false)]
    fn sqlstates_of_lost_connections_mean_unavailable(#[case] code: &str, #[case] expected: bool) {
        assert_eq!(is_postgres_unavailable(code), expected);
    }

    #[rstest]
    #[case("5", true)]
    #[case("517", true)]
    #[case("6", true)]
    #[case("19", false)]
    #[case("2067", false)]
    fn sqlite_busy_codes_mean_unavailable(#[case] code: &str, #[case] expected: bool) {
        assert_eq!(is_sqlite_busy(code), expected);
    }

    #[test]
    fn a_timed_out_pool_means_unavailable() {
        let error = DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::Timeout);
        assert!(matches!(
            StorageError::from(error),
            StorageError::Unavailable(_)
        ));
    }
}
