//! Current grades in memory on PostgreSQL, where replicas share the database and each writes
//! grades the others may keep (see [`super::grade_cache`]). A grade in memory is served at
//! once while this server holds a read lease; without one, only after a sync.
//!
//! - Every transaction that changes current grades announces the change ([`Replicas::announce`]):
//!   a notice naming its customers, which PostgreSQL delivers only if it commits. The same
//!   statement reads the read leases of the other servers (table `grade_readers`).
//! - Each server that keeps grades listens on a connection of its own, applies each notice
//!   as it arrives and acknowledges it on a second channel. A writer that read leases waits,
//!   after its commit and before its caller hears back, until each of those servers has
//!   acknowledged the change, or its lease has run out. So once a writer answered, every
//!   server holding a lease has dropped the grades it changed: a read served from memory
//!   sees it, as a read of the database would, with no trip to the database.
//! - A lease lasts [`LEASE`] and is renewed on the listening connection every
//!   [`RENEW_EVERY`]. The server counts it on its own clock from before it asked, less
//!   [`MARGIN`], so it stops serving from memory before any writer sees the lease run out.
//!   A server that stopped (killed, cut off, stalled) holds writers up for the rest of its
//!   lease at most; one that shuts down gives its lease back first.
//! - A server joins (at start, after losing its connection, after its lease ran out) with a
//!   new lease, and serves from memory only once every writer that could have missed the
//!   lease has been heard: the transactions in progress when the lease was written have
//!   ended, and a marker it sent after that has come back on its own connection (notices
//!   arrive in commit order, so every earlier one has too).
//! - Without a lease, a grade in memory is served after a sync: a `SELECT 1` on the listening
//!   connection sent after the read was asked for. A listening session sends its
//!   notifications before it reports a statement done, so once the sync ends this server has
//!   applied every change committed before the read was asked for. Syncs are shared: one at
//!   a time, each answering every read that asked while the one before ran.
//! - A listening connection that fails, or a new one, may have missed notices, so the cache
//!   forgets everything when a connection starts listening.
//!
//! A server that keeps no grades holds no lease, and listens only for acknowledgements.

use std::{
    collections::BTreeMap,
    pin::pin,
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, QueryResult, Statement, Value,
    sqlx::{
        self,
        pool::PoolOptions,
        postgres::{PgConnectOptions, PgListener, PgNotification, PgPool},
    },
};
use tokio::{
    sync::{mpsc, oneshot},
    time::Instant,
};

use super::{
    StorageError,
    grade_cache::GradeCache,
    grade_notices::{self, Awaiting, Change},
};
use crate::domain::customer::CustomerId;

/// The channel changes to current grades are announced on.
const GRADES: &str = "custgrade_grades";

/// The channel servers acknowledge the changes they heard on.
const HEARD: &str = "custgrade_grades_heard";

/// How long a read lease lasts from its writing.
const LEASE: Duration = Duration::from_secs(1);

/// How often a lease is renewed: a slow round trip or two may pass before it runs out.
const RENEW_EVERY: Duration = Duration::from_millis(250);

/// Taken off a lease on this server's clock: more than two clocks drift apart in a second.
const MARGIN: Duration = Duration::from_millis(100);

/// How often a joining server looks whether the transactions it waits for have ended.
const JOIN_POLL: Duration = Duration::from_millis(5);

/// How long one statement on the listening connection may take before the connection is
/// given up (a database that stopped answering).
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a writer waits for a server that keeps renewing its lease to acknowledge a
/// change before it revokes the lease: a server that hears nothing, or whose
/// acknowledgements are lost, would hold every writer up for good otherwise.
const REVOKE_AFTER: Duration = Duration::from_secs(3);

/// How long to wait before listening again after the connection failed.
const RETRY: Duration = Duration::from_millis(200);

/// How many reads may wait for a sync before callers wait to ask.
const QUEUE: usize = 1024;

/// How the listening connection shows in `pg_stat_activity`.
const APPLICATION_NAME: &str = "custgrade-grade-sync";

/// What this server shares with the others on the database: its name in notices, the
/// numbers of its changes, its read lease, and the acknowledgements its writers wait for.
pub(super) struct Replicas {
    server: String,
    numbers: AtomicU64,
    /// Microseconds after `clock` until which grades in memory may be served without a
    /// sync; 0 when they may not.
    live_until: AtomicU64,
    clock: Instant,
    awaiting: Mutex<Awaiting>,
    /// For looking again at leases a writer waited on for their whole length.
    db: DatabaseConnection,
}

/// A change announced in a transaction, and the leases that read it then.
pub(super) struct Announced {
    number: u64,
    leases: Vec<(String, Duration)>,
}

impl Replicas {
    pub(super) fn new(db: DatabaseConnection) -> Arc<Self> {
        Arc::new(Self {
            server: uuid::Uuid::now_v7().to_string(),
            numbers: AtomicU64::new(0),
            live_until: AtomicU64::new(0),
            clock: Instant::now(),
            awaiting: Mutex::default(),
            db,
        })
    }

    /// Whether a grade in memory may be served without a sync: this server holds a lease.
    pub(super) fn serves_from_memory(&self) -> bool {
        self.live_until.load(Ordering::Acquire) > self.micros(Instant::now())
    }

    fn micros(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.clock).as_micros()).unwrap_or(u64::MAX)
    }

    /// Serves from memory until `until`, or no more with `None`.
    fn serve_until(&self, until: Option<Instant>) {
        let until = until.map_or(0, |until| self.micros(until).max(1));
        self.live_until.store(until, Ordering::Release);
    }

    fn awaiting(&self) -> MutexGuard<'_, Awaiting> {
        // Nothing panics while holding the lock; if something did, the book is still whole.
        self.awaiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Announces, in `txn`, that its transaction changes the current grades of `customers`,
    /// and reads the leases of the other servers, whom the writer waits for once it commits
    /// (see [`Hearing::heard`]). Call it after the transaction's first write: a server that
    /// joins waits for the transactions that are writing when it takes its lease.
    pub(super) async fn announce(
        &self,
        txn: &impl ConnectionTrait,
        customers: &[CustomerId],
    ) -> Result<Announced, StorageError> {
        let change = Change {
            server: self.server.clone(),
            number: self.numbers.fetch_add(1, Ordering::Relaxed),
        };
        let notices = grade_notices::notices(&change, customers);
        let calls: Vec<String> = (0..notices.len())
            .map(|index| format!("pg_notify($2, ${})", index + 3))
            .collect();
        let values = [Value::from(self.server.clone()), Value::from(GRADES)]
            .into_iter()
            .chain(notices.into_iter().map(Value::from))
            .collect::<Vec<_>>();
        let sql = format!(
            "SELECT {}, (SELECT {LEASES_LEFT} FROM grade_readers \
             WHERE lease_until > clock_timestamp() AND server <> $1) AS leases",
            calls.join(", ")
        );
        let row = txn
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                sql,
                values,
            ))
            .await?;
        Ok(Announced {
            number: change.number,
            leases: leases_read(row)?,
        })
    }

    /// Starts waiting for the acknowledgements of `changes`: call it before their
    /// transaction commits, and await what it returns once it has.
    pub(super) fn expect(self: &Arc<Self>, changes: Vec<Announced>) -> Hearing {
        let mut awaiting = self.awaiting();
        let changes = changes
            .into_iter()
            .map(|announced| {
                let leases = announced.leases.iter().map(|(id, _)| id.clone());
                let heard = awaiting.expect(announced.number, leases);
                let left = announced.leases.iter().map(|(_, left)| *left).max();
                (announced.number, heard, left.unwrap_or_default())
            })
            .collect();
        Hearing {
            replicas: Arc::clone(self),
            changes,
            read: Instant::now(),
        }
    }
}

/// A writer's wait for the acknowledgements of its changes; it stops waiting when dropped.
#[must_use = "await it once the transaction has committed"]
pub(super) struct Hearing {
    replicas: Arc<Replicas>,
    /// Each change, told when heard, and the longest any of its leases had left.
    changes: Vec<(u64, oneshot::Receiver<()>, Duration)>,
    /// About when the leases were read (before, in fact: waiting from here waits longer).
    read: Instant,
}

impl Hearing {
    /// Waits until every lease read with the changes has acknowledged them, or has run out
    /// without being renewed (a server that stopped). A lease found renewed is waited for
    /// again: its server serves from memory, and will hear the change. One renewed for
    /// [`REVOKE_AFTER`] without acknowledging is revoked, and waited for a lease's length
    /// more: its server may serve from memory until then, and joins again after.
    pub(super) async fn heard(mut self) {
        let changes = std::mem::take(&mut self.changes);
        for (number, mut heard, left) in changes {
            let mut deadline = self.read + left + MARGIN;
            let mut revoked = false;
            loop {
                tokio::select! {
                    _ = &mut heard => break,
                    () = tokio::time::sleep_until(deadline) => {}
                }
                let pending = self.replicas.awaiting().pending(number);
                if revoked {
                    self.replicas.awaiting().gone(number, &pending);
                    continue;
                }
                deadline = match self.look_again(number, pending).await {
                    Ok(Some(left)) => Instant::now() + left + MARGIN,
                    Ok(None) => {
                        revoked = true;
                        Instant::now() + LEASE + MARGIN
                    }
                    Err(error) => {
                        tracing::warn!(%error, "reading read leases failed; waiting on");
                        Instant::now() + RETRY
                    }
                };
            }
            self.replicas.awaiting().forget(number);
        }
    }

    /// Looks again at the leases change `number` waits for: those run out are no longer
    /// waited for. Gives how long the others have left, or `None` once they were revoked.
    async fn look_again(
        &self,
        number: u64,
        pending: Vec<String>,
    ) -> Result<Option<Duration>, StorageError> {
        let held = still_held(&self.replicas.db, &pending).await?;
        let gone: Vec<String> = pending
            .into_iter()
            .filter(|lease| !held.iter().any(|(id, _)| id == lease))
            .collect();
        self.replicas.awaiting().gone(number, &gone);
        let Some(left) = held.iter().map(|(_, left)| *left).max() else {
            return Ok(Some(Duration::ZERO));
        };
        if self.read.elapsed() < REVOKE_AFTER {
            return Ok(Some(left));
        }
        let ids: Vec<&str> = held.iter().map(|(id, _)| id.as_str()).collect();
        tracing::warn!(
            leases = ids.join(","),
            "servers renewed their read leases without acknowledging a change; revoked"
        );
        self.replicas
            .db
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "UPDATE grade_readers SET lease_until = clock_timestamp() \
                 WHERE id = ANY(string_to_array($1, ','))",
                [Value::from(ids.join(","))],
            ))
            .await?;
        Ok(None)
    }
}

impl Drop for Hearing {
    fn drop(&mut self) {
        let mut awaiting = self.replicas.awaiting();
        for (number, _, _) in &self.changes {
            awaiting.forget(*number);
        }
    }
}

/// Which of `leases` are still held, each with how long it has left.
async fn still_held(
    db: &DatabaseConnection,
    leases: &[String],
) -> Result<Vec<(String, Duration)>, StorageError> {
    if leases.is_empty() {
        return Ok(Vec::new());
    }
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "SELECT {LEASES_LEFT} AS leases FROM grade_readers \
                 WHERE id = ANY(string_to_array($1, ',')) AND lease_until > clock_timestamp()"
            ),
            [Value::from(leases.join(","))],
        ))
        .await?;
    leases_read(row)
}

/// Leases that have not run out, each with how long it has left, as a list that
/// [`grade_notices::leases`] reads, from rows of `grade_readers`.
const LEASES_LEFT: &str = "coalesce(string_agg(id || '=' || \
     ceil(extract(epoch FROM lease_until - clock_timestamp()) * 1000)::bigint, ','), '')";

/// The leases listed in column `leases` of `row`.
fn leases_read(row: Option<QueryResult>) -> Result<Vec<(String, Duration)>, StorageError> {
    let row = row.ok_or_else(|| StorageError::Corrupt("no leases read".to_owned()))?;
    let listed: String = row.try_get("", "leases")?;
    grade_notices::leases(&listed)
        .ok_or_else(|| StorageError::Corrupt(format!("leases read as {listed}")))
}

/// The handle reads ask for syncs through. The task ends when the pool closes or every handle
/// is dropped.
#[derive(Clone)]
pub(super) struct GradeSync {
    requests: mpsc::Sender<oneshot::Sender<bool>>,
    /// The listening connection's own pool of one.
    pool: PgPool,
    replicas: Arc<Replicas>,
}

impl GradeSync {
    /// Starts the task, which listens on a connection made with `options`, applies what it
    /// hears to `cache` (holding a lease when `cache` keeps grades) and tells `replicas`'
    /// writers what was acknowledged.
    pub(super) fn start(
        options: PgConnectOptions,
        acquire_timeout: Duration,
        cache: Arc<GradeCache>,
        replicas: Arc<Replicas>,
    ) -> Self {
        let pool = PoolOptions::new()
            .max_connections(1)
            .acquire_timeout(acquire_timeout)
            .connect_lazy_with(options.application_name(APPLICATION_NAME));
        let (requests, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(run(waiting, pool.clone(), cache, Arc::clone(&replicas)));
        Self {
            requests,
            pool,
            replicas,
        }
    }

    /// Whether a grade in memory may be served as it is: this server holds a lease.
    pub(super) fn serves_from_memory(&self) -> bool {
        self.replicas.serves_from_memory()
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

    /// Stops serving from memory, stops listening, and gives the lease back, so that
    /// writers no longer wait for this server.
    pub(super) async fn close(&self) {
        self.replicas.serve_until(None);
        self.pool.close().await;
        let given_back = self
            .replicas
            .db
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "DELETE FROM grade_readers WHERE server = $1",
                [Value::from(self.replicas.server.clone())],
            ))
            .await;
        if let Err(error) = given_back {
            tracing::warn!(%error, "giving the read lease back failed; it runs out by itself");
        }
    }
}

async fn run(
    mut waiting: mpsc::Receiver<oneshot::Sender<bool>>,
    pool: PgPool,
    cache: Arc<GradeCache>,
    replicas: Arc<Replicas>,
) {
    let mut closed = pin!(pool.close_event());
    let mut asked: Vec<oneshot::Sender<bool>> = Vec::new();
    let mut listening: Option<Listening> = None;
    loop {
        let Some(connection) = listening.as_mut() else {
            match Listening::start(&pool, &cache, &replicas).await {
                Ok(started) => listening = Some(started),
                Err(error) => {
                    tracing::warn!(%error, "listening for grade changes failed; grades are read from the database");
                    for done in asked.drain(..) {
                        let _ = done.send(false);
                    }
                    tokio::select! {
                        () = &mut closed => return,
                        () = tokio::time::sleep(RETRY) => {}
                    }
                }
            }
            continue;
        };
        let next = connection.next_step();
        let step = tokio::select! {
            () = &mut closed => return,
            count = waiting.recv_many(&mut asked, QUEUE) => {
                if count == 0 {
                    return;
                }
                connection.sync(&cache, &replicas).await
            }
            heard = connection.listener.try_recv() => match heard {
                Ok(Some(notification)) => connection.hear(notification, &cache, &replicas).await,
                Ok(None) => Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into()),
                Err(error) => Err(error),
            },
            () = tokio::time::sleep_until(next) => connection.step(&cache, &replicas).await,
        };
        let synced = step.is_ok();
        for done in asked.drain(..) {
            let _ = done.send(synced);
        }
        if let Err(error) = step {
            tracing::warn!(%error, "the grade listening connection failed; listening again");
            replicas.serve_until(None);
            listening = None;
        }
    }
}

/// The listening connection, and this server's lease on it.
struct Listening {
    listener: PgListener,
    /// `None` on a server that keeps no grades.
    lease: Option<Lease>,
}

struct Lease {
    id: String,
    /// When this server asked for the lease's last renewal (or its writing).
    renewed: Instant,
    joining: Joining,
}

impl Lease {
    /// Until when this server may count on the lease, on its own clock.
    fn held_until(&self) -> Instant {
        self.renewed + LEASE - MARGIN
    }
}

/// How far a lease is from letting this server serve from memory.
enum Joining {
    /// Waiting for the transactions in progress when it was written to end.
    Waiting(Vec<String>),
    /// Waiting to hear back its marker.
    Marked,
    /// Serving from memory.
    Joined,
}

type Step = Result<(), sqlx::Error>;

impl Listening {
    /// Connects and listens; on a server that keeps grades, forgets them (notices may have
    /// gone unheard) and joins with a new lease.
    async fn start(
        pool: &PgPool,
        cache: &GradeCache,
        replicas: &Replicas,
    ) -> Result<Self, sqlx::Error> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.eager_reconnect(false);
        // Acknowledgements and lease renewals need not wait for the disk: a database that
        // restarts drops this connection, and the lease with it.
        bounded(sqlx::query("SET synchronous_commit = off").execute(&mut listener)).await?;
        if !cache.keeps_grades() {
            bounded(listener.listen(HEARD)).await?;
            return Ok(Self {
                listener,
                lease: None,
            });
        }
        bounded(listener.listen_all([GRADES, HEARD])).await?;
        cache.forget_all();
        let mut listening = Self {
            listener,
            lease: None,
        };
        listening.join(replicas).await?;
        Ok(listening)
    }

    /// Writes a new lease (giving back this server's earlier ones, and clearing long-expired
    /// ones of servers gone), and notes the transactions in progress, which may have read the
    /// leases before it and so will not wait for this server.
    async fn join(&mut self, replicas: &Replicas) -> Step {
        replicas.serve_until(None);
        let id = uuid::Uuid::now_v7().to_string();
        let renewed = Instant::now();
        bounded(
            sqlx::query(
                "WITH gone AS (DELETE FROM grade_readers WHERE server = $2 \
                 OR lease_until < clock_timestamp() - interval '1 hour') \
                 INSERT INTO grade_readers (id, server, lease_until) \
                 VALUES ($1, $2, clock_timestamp() + $3 * interval '1 millisecond')",
            )
            .bind(&id)
            .bind(&replicas.server)
            .bind(lease_millis())
            .execute(&mut self.listener),
        )
        .await?;
        let writing: Vec<String> = bounded(
            sqlx::query_scalar("SELECT pg_snapshot_xip(pg_current_snapshot())::text")
                .fetch_all(&mut self.listener),
        )
        .await?;
        self.lease = Some(Lease {
            id,
            renewed,
            joining: Joining::Waiting(writing),
        });
        Ok(())
    }

    /// When the next step of the lease is due: a renewal, or a look at the transactions a
    /// joining server waits for.
    fn next_step(&self) -> Instant {
        match &self.lease {
            None => Instant::now() + LEASE,
            Some(Lease {
                joining: Joining::Waiting(_),
                ..
            }) => Instant::now() + JOIN_POLL,
            Some(lease) => lease.renewed + RENEW_EVERY,
        }
    }

    /// Renews the lease when due, and moves a joining one on.
    async fn step(&mut self, cache: &GradeCache, replicas: &Replicas) -> Step {
        let Some(lease) = &self.lease else {
            return Ok(());
        };
        if lease.renewed + RENEW_EVERY <= Instant::now() {
            self.renew(replicas).await?;
        }
        let Some(lease) = &self.lease else {
            return Ok(());
        };
        if let Joining::Waiting(writing) = &lease.joining {
            let still: i64 = bounded(
                sqlx::query_scalar(
                    "SELECT count(*) FROM unnest($1::text[]) AS writing \
                     WHERE pg_xact_status(writing::xid8) = 'in progress'",
                )
                .bind(writing)
                .fetch_one(&mut self.listener),
            )
            .await?;
            if still == 0 {
                // A writer's notice may come after its end shows: PostgreSQL signals
                // listeners last. This marker follows every one of them.
                let marker = lease.id.clone();
                self.tell(marker).await?;
                if let Some(lease) = &mut self.lease {
                    lease.joining = Joining::Marked;
                }
            }
        }
        self.hear_buffered(cache, replicas).await
    }

    /// Renews the lease if it has not run out; joins again if it has, on the database or on
    /// this server's clock (the answer came too late to tell that no writer saw it run out).
    async fn renew(&mut self, replicas: &Replicas) -> Step {
        let Some(lease) = &mut self.lease else {
            return Ok(());
        };
        let asked = Instant::now();
        let renewed = bounded(
            sqlx::query(
                "UPDATE grade_readers SET lease_until = clock_timestamp() + $2 * interval '1 millisecond' \
                 WHERE id = $1 AND lease_until > clock_timestamp()",
            )
            .bind(&lease.id)
            .bind(lease_millis())
            .execute(&mut self.listener),
        )
        .await?
        .rows_affected()
            == 1;
        let in_time = Instant::now() < lease.held_until();
        if renewed && in_time {
            lease.renewed = asked;
            if matches!(lease.joining, Joining::Joined) {
                replicas.serve_until(Some(lease.held_until()));
            }
            return Ok(());
        }
        self.join(replicas).await
    }

    /// One sync: a statement, after which every notice committed before it has arrived.
    async fn sync(&mut self, cache: &GradeCache, replicas: &Replicas) -> Step {
        bounded(sqlx::query("SELECT 1").execute(&mut self.listener)).await?;
        self.hear_buffered(cache, replicas).await
    }

    /// Applies `notification`, and those that arrived with it, and acknowledges them.
    async fn hear(
        &mut self,
        notification: PgNotification,
        cache: &GradeCache,
        replicas: &Replicas,
    ) -> Step {
        let mut heard = BTreeMap::new();
        self.apply(&notification, cache, replicas, &mut heard);
        self.acknowledge(heard, cache, replicas).await
    }

    /// Applies the notifications that arrived during statements, and acknowledges them.
    async fn hear_buffered(&mut self, cache: &GradeCache, replicas: &Replicas) -> Step {
        self.acknowledge(BTreeMap::new(), cache, replicas).await
    }

    /// Applies every notification already arrived, then acknowledges `heard` and those.
    async fn acknowledge(
        &mut self,
        mut heard: BTreeMap<String, Vec<u64>>,
        cache: &GradeCache,
        replicas: &Replicas,
    ) -> Step {
        while let Some(notification) = self.listener.next_buffered() {
            self.apply(&notification, cache, replicas, &mut heard);
        }
        let (Some(lease), false) = (&self.lease, heard.is_empty()) else {
            return Ok(());
        };
        let payload = grade_notices::acknowledgement(&lease.id, &heard);
        // Notices that arrive meanwhile wait for the next turn.
        self.tell(payload).await
    }

    /// Sends `payload` on the acknowledgements' channel.
    async fn tell(&mut self, payload: String) -> Step {
        bounded(
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(HEARD)
                .bind(payload)
                .execute(&mut self.listener),
        )
        .await?;
        Ok(())
    }

    /// Applies one notification: a notice to the cache (noting the change to acknowledge),
    /// an acknowledgement to the writers waiting for it, this server's own marker to its
    /// joining.
    fn apply(
        &mut self,
        notification: &PgNotification,
        cache: &GradeCache,
        replicas: &Replicas,
        heard: &mut BTreeMap<String, Vec<u64>>,
    ) {
        let payload = notification.payload();
        if notification.channel() == HEARD {
            if let Some(lease) = &mut self.lease
                && matches!(lease.joining, Joining::Marked)
                && payload == lease.id
            {
                lease.joining = Joining::Joined;
                replicas.serve_until(Some(lease.held_until()));
            } else if let Some((lease, numbers)) =
                grade_notices::acknowledged(payload, &replicas.server)
            {
                replicas.awaiting().acknowledged(lease, &numbers);
            }
            return;
        }
        match grade_notices::notice(payload) {
            // This server's own change: its cache saw it start and end.
            Some(notice)
                if notice
                    .change
                    .as_ref()
                    .is_some_and(|change| change.server == replicas.server) => {}
            Some(notice) => {
                cache.changed_elsewhere(notice.customers);
                if let Some(change) = notice.change {
                    heard.entry(change.server).or_default().push(change.number);
                }
            }
            // Not a notice (another version of the server?): whose grade changed is
            // unknown, so every grade goes.
            None => cache.forget_all(),
        }
    }
}

fn lease_millis() -> i64 {
    i64::try_from(LEASE.as_millis()).unwrap_or(i64::MAX)
}

/// `statement`, or a failure once it took longer than [`STATEMENT_TIMEOUT`].
async fn bounded<T>(
    statement: impl Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, sqlx::Error> {
    tokio::time::timeout(STATEMENT_TIMEOUT, statement)
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))?
}
