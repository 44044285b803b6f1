//! Write transactions, and the order they take on SQLite.
//!
//! SQLite has one writer. A second connection that wants to write while another holds the
//! lock does not queue: its busy handler sleeps and polls (1, 2, 5, 10 ... 100 ms), so under
//! concurrent writes most of the time went to sleeping, and a commit's latency to whichever
//! poll happened to win. Here writers take turns in the server instead: a fair, FIFO queue
//! hands the write lock over the moment the previous transaction ends, and SQLite's busy
//! handler is left for writers in other processes.

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{
    StorageError,
    grade_sync::{Announced, Replicas},
};
use crate::domain::customer::CustomerId;

/// How long a write waits for its turn (in this server, and then for SQLite's lock) before
/// it fails as unavailable.
pub(super) const WRITE_WAIT: Duration = Duration::from_secs(10);

/// The queue of writers: one turn at a time on SQLite, no queue on PostgreSQL, whose row
/// locks let writers run side by side.
#[derive(Clone)]
pub(super) struct WriteTurns {
    turns: Option<Arc<Semaphore>>,
    /// On PostgreSQL, the other servers a change to current grades is announced to.
    replicas: Option<Arc<Replicas>>,
}

impl WriteTurns {
    pub(super) fn for_backend(backend: DbBackend, replicas: Option<Arc<Replicas>>) -> Self {
        Self {
            turns: (backend == DbBackend::Sqlite).then(|| Arc::new(Semaphore::new(1))),
            replicas,
        }
    }

    /// Starts a write transaction once it is this caller's turn. On SQLite it begins
    /// IMMEDIATE: it takes the write lock at once, because a deferred transaction that reads
    /// and then writes fails with "database is locked" when another writer got there first.
    pub(super) async fn begin(&self, db: &DatabaseConnection) -> Result<WriteTxn, StorageError> {
        let turn = match &self.turns {
            Some(turns) => Some(
                tokio::time::timeout(WRITE_WAIT, Arc::clone(turns).acquire_owned())
                    .await
                    .map_err(|_| StorageError::Unavailable(None))?
                    .map_err(|_| StorageError::Unavailable(None))?,
            ),
            None => None,
        };
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        Ok(WriteTxn {
            txn: db.begin_with_options(options).await?,
            replicas: self.replicas.clone(),
            announced: Mutex::default(),
            _turn: turn,
        })
    }
}

/// A write transaction that holds its turn until it ends. Dropped without `commit`, it rolls
/// back.
pub(super) struct WriteTxn {
    txn: DatabaseTransaction,
    replicas: Option<Arc<Replicas>>,
    /// The changes to current grades announced in it.
    announced: Mutex<Vec<Announced>>,
    /// Released after `txn` is dropped (fields drop in order), so an abandoned transaction
    /// starts its rollback before the next writer begins.
    _turn: Option<OwnedSemaphorePermit>,
}

impl WriteTxn {
    /// Commits; once a change to current grades announced in it has been heard by the other
    /// servers that keep grades (see `grade_sync.rs`), returns.
    pub(super) async fn commit(self) -> Result<(), DbErr> {
        let Self {
            txn,
            replicas,
            announced,
            _turn,
        } = self;
        let announced = announced
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        let hearing = replicas
            .filter(|_| !announced.is_empty())
            .map(|replicas| replicas.expect(announced));
        txn.commit().await?;
        if let Some(hearing) = hearing {
            hearing.heard().await;
        }
        Ok(())
    }

    /// Tells the other servers on the database that this transaction changes the current
    /// grades of `customers`, if it commits. Nothing on SQLite.
    pub(super) async fn announce(&self, customers: &[CustomerId]) -> Result<(), StorageError> {
        let Some(replicas) = &self.replicas else {
            return Ok(());
        };
        if customers.is_empty() {
            return Ok(());
        }
        let announced = replicas.announce(&self.txn, customers).await?;
        self.announced
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(announced);
        Ok(())
    }
}

impl std::ops::Deref for WriteTxn {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTxn {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.txn.support_returning()
    }
}
