//! Storage: the database connection, migrations and the repositories, on SQLite (embedded
//! default) or PostgreSQL (production) with one schema and one set of queries.

pub mod assessments;
pub mod customers;
mod entities;
pub mod error;
pub mod figures;
mod grade_cache;
mod grade_notices;
mod grade_reads;
mod grade_sync;
pub mod grades;
mod group_commit;
mod idempotency;
mod migrations;
pub mod models;
pub mod operations;
pub mod outcomes;
pub mod overrides;
mod period;
mod rationale;
pub mod regrade;
mod sqlite_claim;
pub mod stability;
mod write;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use chrono::{DateTime, SubsecRound, Utc};
use grade_cache::GradeCache;
use grade_reads::GradeReader;
use grade_sync::{GradeSync, Replicas};
use group_commit::AssessmentWriter;
use models::PublishedVersions;
use sea_orm::{
    AccessMode, ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    IsolationLevel, SqlxPostgresConnector, SqlxSqliteConnector, TransactionTrait, sqlx,
};
use sea_orm_migration::MigratorTrait;
use sqlite_claim::SqliteClaim;
use write::{WRITE_WAIT, WriteTurns, WriteTxn};

pub use error::StorageError;

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub database_url: String,
    pub max_connections: u32,
    /// How long a call waits for a free connection before it fails as unavailable.
    pub acquire_timeout: Duration,
    /// How many customers' current grades are kept in memory (0: none).
    pub grade_cache_entries: usize,
}

/// The database, shared by every request. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    /// Set once migrations have run; until then every call answers `Unavailable`, so a server
    /// that started before its database can serve health checks but no stale schema.
    schema_ready: Arc<AtomicBool>,
    turns: WriteTurns,
    assessments: AssessmentWriter,
    /// Current grades in memory (see `grade_cache.rs`).
    grades: Arc<GradeCache>,
    /// On PostgreSQL, what makes a grade in memory safe to serve (see `grade_sync.rs`).
    grade_sync: Option<GradeSync>,
    /// Current grades read from the database in batches (see `grade_reads.rs`).
    grade_reads: GradeReader,
    /// This server's claim on a SQLite database file, which the grade cache relies on.
    claim: Arc<SqliteClaim>,
    /// The published model versions assessments grade with, parsed.
    published: Arc<PublishedVersions>,
}

impl Store {
    /// Prepares a connection pool without connecting yet: the server starts even while the
    /// database is down, reports NOT_SERVING, and catches up when it comes back.
    pub async fn connect_lazy(options: &StoreOptions) -> Result<Self, StorageError> {
        let mut connect = ConnectOptions::new(options.database_url.clone());
        connect
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .connect_timeout(options.acquire_timeout)
            .connect_lazy(true)
            // Ping only a connection that sat idle (one a server, proxy or firewall may have
            // dropped), not every connection on every checkout: that ping is a round trip to
            // the database (on SQLite, to the connection's thread) before every query.
            .test_before_acquire_if_idle_for(Duration::from_secs(30))
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|sqlite| {
                // WAL lets readers run beside the single writer; the busy timeout is how long
                // an IMMEDIATE transaction waits for that writer (a writer in another process:
                // this server's writers take turns, see `write.rs`). A checkpoint every 32 MiB
                // of log (not 4 MiB) writes a page rewritten by many re-grade batches back
                // once. The page cache: see `POOL_CACHE` and `WRITER_CACHE`.
                sqlite
                    .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                    .busy_timeout(WRITE_WAIT)
                    .pragma("cache_size", POOL_CACHE)
                    .pragma("wal_autocheckpoint", "8192")
                    .foreign_keys(true)
                    .create_if_missing(true)
            });
        let db = Database::connect(connect)
            .await
            .map_err(|error| StorageError::InvalidUrl(error.to_string()))?;
        let shared = db.get_database_backend() == DbBackend::Postgres;
        let replicas = shared.then(|| Replicas::new(db.clone()));
        let turns = WriteTurns::for_backend(db.get_database_backend(), replicas.clone());
        let grades = Arc::new(GradeCache::new(options.grade_cache_entries));
        // On PostgreSQL every server listens: one that keeps grades for changes, every one
        // for the acknowledgements its writers wait for.
        let grade_sync = replicas.map(|replicas| {
            GradeSync::start(
                db.get_postgres_connection_pool()
                    .connect_options()
                    .as_ref()
                    .clone(),
                options.acquire_timeout,
                grades.clone(),
                replicas,
            )
        });
        let assessments = AssessmentWriter::start(
            connection_of_its_own(&db, options.acquire_timeout),
            turns.clone(),
            grades.clone(),
        );
        Ok(Self {
            grade_reads: GradeReader::start(db.clone()),
            db,
            schema_ready: Arc::new(AtomicBool::new(false)),
            turns,
            assessments,
            grades,
            grade_sync,
            claim: Arc::default(),
            published: Arc::default(),
        })
    }

    /// On SQLite, claims the database file (a connection creates it) so that a second server
    /// neither migrates nor serves a database another one uses; with no file to claim, keeps
    /// no grades in memory. Safe to call again.
    async fn claim_sqlite_file(&self) -> Result<(), StorageError> {
        if self.backend() != DbBackend::Sqlite {
            return Ok(());
        }
        self.ping().await?;
        let options = self.db.get_sqlite_connection_pool().connect_options();
        if !self.claim.take(options.get_filename())? {
            self.grades.turn_off();
        }
        Ok(())
    }

    /// Brings the schema up to date. Safe to call again: applied migrations are skipped.
    async fn migrate(&self) -> Result<(), StorageError> {
        migrations::Migrator::up(&self.db, None).await?;
        Ok(())
    }

    /// Lets calls through: the schema is up to date and the first data is in place.
    fn mark_ready(&self) {
        self.schema_ready.store(true, Ordering::Release);
    }

    pub fn is_schema_ready(&self) -> bool {
        self.schema_ready.load(Ordering::Acquire)
    }

    /// One round trip to the database: is it reachable right now?
    pub async fn ping(&self) -> Result<(), StorageError> {
        self.db.ping().await.map_err(StorageError::from)
    }

    /// Closes the pool, the group commit's connection and the grade sync's, waiting for
    /// connections in use to come back, and lets another server claim a SQLite database.
    pub async fn close(&self) {
        if let Some(sync) = &self.grade_sync {
            sync.close().await;
        }
        for db in [&self.db, self.assessments.connection()] {
            if let Err(error) = db.close_by_ref().await {
                tracing::warn!(%error, "closing the database pool failed");
            }
        }
        self.claim.release();
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// The connection for reads, once the schema is ready.
    fn reader(&self) -> Result<&DatabaseConnection, StorageError> {
        if !self.is_schema_ready() {
            return Err(StorageError::Unavailable(None));
        }
        Ok(&self.db)
    }

    /// Starts a read of several statements that must see one state of the database (a
    /// customer row and its labels): REPEATABLE READ and read-only on PostgreSQL, whose default
    /// gives each statement its own snapshot; a plain transaction on SQLite, where a reader in
    /// WAL mode keeps one snapshot until it ends.
    async fn begin_read(&self) -> Result<DatabaseTransaction, StorageError> {
        let db = self.reader()?;
        let txn = match self.backend() {
            DbBackend::Postgres => {
                db.begin_with_config(
                    Some(IsolationLevel::RepeatableRead),
                    Some(AccessMode::ReadOnly),
                )
                .await?
            }
            _ => db.begin().await?,
        };
        Ok(txn)
    }

    /// Starts a write transaction (see [`WriteTurns::begin`]).
    async fn begin_write(&self) -> Result<WriteTxn, StorageError> {
        self.reader()?;
        self.begin_write_unchecked().await
    }

    /// [`Self::begin_write`] before the schema is ready, for preparing the database. On
    /// SQLite every write goes through the group commit's connection: writes take turns
    /// anyway, and a connection whose cache no other connection's writes invalidate keeps the
    /// pages the next write touches (the re-grade's indexes) in its large cache, while the
    /// pool's connections, whose caches every write empties, keep small ones.
    async fn begin_write_unchecked(&self) -> Result<WriteTxn, StorageError> {
        let db = match self.backend() {
            DbBackend::Sqlite => self.assessments.connection(),
            _ => &self.db,
        };
        self.turns.begin(db).await
    }
}

/// Runs `write`, which changes current grades, to its end even if the caller stops waiting
/// (a deadline, a cancel). A write dropped while its COMMIT is under way still commits, after
/// its change to the grade cache has ended; a read in between would keep the old grade in
/// memory. The group commit and re-grade batches run in tasks of their own already.
async fn to_completion<T: Send + 'static>(
    write: impl Future<Output = Result<T, StorageError>> + Send + 'static,
) -> Result<T, StorageError> {
    use tracing::Instrument;
    tokio::spawn(write.in_current_span())
        .await
        .map_err(|stopped| {
            StorageError::Internal(sea_orm::DbErr::Custom(format!(
                "the write stopped: {stopped}"
            )))
        })?
}

/// A pool of one connection, which connects as `db`'s connections do: the same file or server
/// and the same settings (an in-memory SQLite database, too, is shared only by connections made
/// from one set of options), but its own page cache on SQLite ([`WRITER_CACHE`]). The group
/// commit stores through it (on SQLite, every other write too): a group of N assessments is
/// a statement of N rows, prepared once per connection and N, and on connections of the pool
/// it was prepared again every few groups (on PostgreSQL, 502 prepares in a load run's 3,184
/// group inserts; 56 on a connection of its own). It is not pinged before each group: a
/// connection the server dropped fails that group's transaction, and the group commit stores
/// the group again on the connection that replaces it.
fn connection_of_its_own(db: &DatabaseConnection, acquire_timeout: Duration) -> DatabaseConnection {
    match db.get_database_backend() {
        DbBackend::Sqlite => SqlxSqliteConnector::from_sqlx_sqlite_pool(pool_of_one(
            db.get_sqlite_connection_pool()
                .connect_options()
                .as_ref()
                .clone()
                .pragma("cache_size", WRITER_CACHE),
            acquire_timeout,
        )),
        DbBackend::Postgres => SqlxPostgresConnector::from_sqlx_postgres_pool(pool_of_one(
            db.get_postgres_connection_pool()
                .connect_options()
                .as_ref()
                .clone(),
            acquire_timeout,
        )),
        _ => db.clone(),
    }
}

/// A pool of one connection, made with `options`; see [`connection_of_its_own`].
fn pool_of_one<DB: sqlx::Database>(
    options: <DB::Connection as sqlx::Connection>::Options,
    acquire_timeout: Duration,
) -> sqlx::Pool<DB> {
    sqlx::pool::PoolOptions::<DB>::new()
        .max_connections(1)
        .acquire_timeout(acquire_timeout)
        .test_before_acquire(false)
        .connect_lazy_with(options)
}

/// SQLite's page cache on a connection of the pool: 2 MiB (a negative size is in KiB).
/// Small, because in WAL mode a connection empties its cache whenever it starts a read after
/// another connection wrote: under writes, a large cache only holds memory (16 connections
/// of 16 MiB would be 256 MiB on a large database) and costs time to empty.
const POOL_CACHE: &str = "-2048";
/// SQLite's page cache on the connection every write goes through (see
/// [`Store::begin_write`]): 16 MiB, which nothing else empties, keeps the indexes a re-grade
/// batch writes to in memory. With the checkpoint interval it took a re-grade from ~10,500
/// to ~11,500 customers/s; it is small enough that a book of 100,000 fills it as a million
/// does, so memory is flat in book size.
const WRITER_CACHE: &str = "-16384";

/// The most rows one multi-row INSERT carries: 500 rows of up to 16 columns stay well under
/// SQLite's 32,766 bound parameters (PostgreSQL allows 65,535).
const ROWS_PER_INSERT: usize = 500;

/// The rows after `(first, second)` in a newest-first order on `(first_column,
/// second_column)`: the keyset condition of a page that continues a history (by time and id,
/// by date and revision).
fn older_than<A, B>(
    first_column: impl sea_orm::ColumnTrait,
    second_column: impl sea_orm::ColumnTrait,
    (first, second): (A, B),
) -> sea_orm::Condition
where
    A: Into<sea_orm::Value> + Clone,
    B: Into<sea_orm::Value>,
{
    sea_orm::Condition::any()
        .add(first_column.lt(first.clone()))
        .add(
            sea_orm::Condition::all()
                .add(first_column.eq(first))
                .add(second_column.lt(second)),
        )
}

/// The current time at the precision both databases keep (microseconds), so a value returned
/// on write equals the value read back later.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
