//! Current grades in memory on PostgreSQL, where replicas share the database and each writes
//! grades the others may keep (see [`super::grade_cache`]).
//!
//! - Every transaction that changes current grades announces their customers with
//!   `pg_notify` ([`announce`]). PostgreSQL delivers a notification only if its transaction
//!   commits, and signals the listening sessions before the writer's caller hears back.
//! - Each server listens on a connection of its own. A grade in memory is served only after
//!   a sync: a `SELECT 1` on that connection sent after the read was asked for. A listening
//!   session that was signalled sends its notifications before it reports the statement done,
//!   so once the sync ends this server has heard, and applied, every change committed before
//!   the read was asked for, by any server. This is how a read sees a write another replica
//!   answered before it, as a read of the database would.
//! - Syncs are shared: one at a time, each answering every read that asked while the one
//!   before ran (about a round trip per batch of reads instead of a query per read).
//! - A listening connection that fails, or a new one, may have missed notifications, so the
//!   cache forgets everything when a connection starts listening; reads go to the database
//!   until a sync succeeds again.
//!
//! `pg_notify` costs the writer a statement and, at commit, a lock that orders the commits of
//! notifying transactions (the notifications' order): measured in docs/design/portfolio.md.

use std::{pin::pin, sync::Arc, time::Duration};

use sea_orm::{
    ConnectionTrait, DbBackend, Statement, Value,
    sqlx::{
        self, Executor,
        pool::PoolOptions,
        postgres::{PgConnectOptions, PgListener, PgPool},
    },
};
use tokio::sync::{mpsc, oneshot};

use super::{StorageError, grade_cache::GradeCache};
use crate::domain::customer::CustomerId;

/// The channel changes to current grades are announced on.
const CHANNEL: &str = "custgrade_grades";

/// Customers named by one notification: a payload stays under PostgreSQL's 8,000 bytes (an
/// id and its comma are 37).
const PER_NOTIFICATION: usize = 200;

/// How long the connection may go without a sync when no read asks for one: notifications
/// are read off it only by a sync.
const IDLE_SYNC: Duration = Duration::from_millis(200);

/// How many reads may wait for a sync before callers wait to ask.
const QUEUE: usize = 1024;

/// How the listening connection shows in `pg_stat_activity`.
const APPLICATION_NAME: &str = "custgrade-grade-sync";

/// The handle reads ask for syncs through. The task ends when the pool closes or every handle
/// is dropped.
#[derive(Clone)]
pub(super) struct GradeSync {
    requests: mpsc::Sender<oneshot::Sender<bool>>,
    /// The listening connection's own pool of one.
    pool: PgPool,
}

impl GradeSync {
    /// Starts the task, which listens on a connection made with `options` and applies what it
    /// hears to `cache`.
    pub(super) fn start(
        options: PgConnectOptions,
        acquire_timeout: Duration,
        cache: Arc<GradeCache>,
    ) -> Self {
        let pool = PoolOptions::new()
            .max_connections(1)
            .acquire_timeout(acquire_timeout)
            .connect_lazy_with(options.application_name(APPLICATION_NAME));
        let (requests, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(run(waiting, pool.clone(), cache));
        Self { requests, pool }
    }

    /// Whether the cache now holds no grade changed by a transaction committed before this
    /// call: true once a sync that began after it has ended; false when the database could
    /// not be reached.
    pub(super) async fn sync(&self) -> bool {
        let (done, synced) = oneshot::channel();
        if self.requests.send(done).await.is_err() {
            return false;
        }
        synced.await.unwrap_or(false)
    }

    /// Stops listening and closes the connection.
    pub(super) async fn close(&self) {
        self.pool.close().await;
    }
}

async fn run(
    mut waiting: mpsc::Receiver<oneshot::Sender<bool>>,
    pool: PgPool,
    cache: Arc<GradeCache>,
) {
    let mut listening: Option<PgListener> = None;
    let mut closed = pin!(pool.close_event());
    let mut asked = Vec::new();
    loop {
        tokio::select! {
            () = &mut closed => return,
            count = waiting.recv_many(&mut asked, QUEUE) => if count == 0 { return },
            () = tokio::time::sleep(IDLE_SYNC) => {}
        }
        let synced = match sync(&pool, listening.take(), &cache).await {
            Ok(listener) => {
                listening = Some(listener);
                true
            }
            Err(error) => {
                tracing::warn!(%error, "grade sync failed; grades are read from the database");
                false
            }
        };
        for done in asked.drain(..) {
            let _ = done.send(synced);
        }
    }
}

/// One sync on `listener` (or on a new connection, which starts listening), applying what it
/// heard to `cache`; gives the connection back to sync on next time.
async fn sync(
    pool: &PgPool,
    listener: Option<PgListener>,
    cache: &GradeCache,
) -> Result<PgListener, sqlx::Error> {
    let mut listener = match listener {
        Some(listener) => listener,
        None => {
            let mut listener = PgListener::connect_with(pool).await?;
            listener.listen(CHANNEL).await?;
            // What was committed before it listened went unheard.
            cache.forget_all();
            listener
        }
    };
    (&mut listener).execute("SELECT 1").await?;
    while let Some(notification) = listener.next_buffered() {
        match heard(notification.payload()) {
            Some(customers) => cache.changed_elsewhere(customers),
            // Not a list of ids (another version of the server?): whose grade changed is
            // unknown, so every grade goes.
            None => cache.forget_all(),
        }
    }
    Ok(listener)
}

/// Announces, in `txn`, that its transaction changes the current grades of `customers`.
pub(super) async fn announce(
    txn: &impl ConnectionTrait,
    customers: &[CustomerId],
) -> Result<(), StorageError> {
    if customers.is_empty() {
        return Ok(());
    }
    let payloads = payloads(customers);
    let calls: Vec<String> = (0..payloads.len())
        .map(|index| format!("pg_notify($1, ${})", index + 2))
        .collect();
    let values = std::iter::once(Value::from(CHANNEL))
        .chain(payloads.into_iter().map(Value::from))
        .collect::<Vec<_>>();
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!("SELECT {}", calls.join(", ")),
        values,
    ))
    .await?;
    Ok(())
}

/// The payloads naming `customers`: their ids, comma-separated, [`PER_NOTIFICATION`] at most
/// in each.
fn payloads(customers: &[CustomerId]) -> Vec<String> {
    customers
        .chunks(PER_NOTIFICATION)
        .map(|chunk| {
            chunk
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

/// The customers a payload names; `None` when it is not such a list.
fn heard(payload: &str) -> Option<Vec<CustomerId>> {
    payload
        .split(',')
        .map(|id| CustomerId::parse(id).ok())
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn payloads_name_every_customer_and_stay_under_postgresqls_limit() {
        let customers: Vec<_> = (0..450).map(|_| CustomerId::generate()).collect();

        let payloads = payloads(&customers);

        assert_eq!(payloads.len(), 3);
        assert!(payloads.iter().all(|payload| payload.len() < 8_000));
        let heard: Vec<_> = payloads
            .iter()
            .flat_map(|payload| heard(payload).unwrap())
            .collect();
        assert_eq!(heard, customers);
    }

    #[test]
    fn a_payload_that_is_not_a_list_of_ids_is_not_heard_as_one() {
        let customer = CustomerId::generate();
        assert_eq!(heard(&customer.to_string()), Some(vec![customer]));
        assert_eq!(heard(&format!("{customer},someone")), None);
        assert_eq!(heard(""), None);
    }
}
