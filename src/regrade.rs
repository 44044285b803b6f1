//! Runs portfolio re-grades in the background, batch after batch, at the run's pace. Each
//! server is one holder (a fresh id per start): it runs the operations it started and takes
//! over the ones nobody holds (released by a server that shut down, or whose server stopped
//! renewing its lease). On shutdown every run stops at a batch boundary and is released, so
//! the next server to start continues it at once.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use tokio::{sync::watch, task::JoinSet};

use crate::{
    domain::{
        regrade::OperationId,
        scoring::{Locale, assess_without_sentences},
    },
    storage::{
        StorageError, Store,
        operations::LEASE,
        regrade::{BatchOutcome, GradedBatch, RegradePlan},
    },
};

/// What a caller of a run that failed on an unexpected error is told; the details are logged.
const FAILED: &str = "the re-grade stopped on an internal error; the server log has the details";

/// How long a run waits before trying again after the database could not be reached.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// How often a server looks for runs nobody holds: well within a lease, so a crashed
/// server's runs wait at most about a lease and a third.
const ORPHAN_SCAN: Duration = Duration::from_secs(LEASE.as_secs() / 3);

/// The re-grades this server runs. Cheap to clone.
#[derive(Clone)]
pub struct Regrader {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    /// This server's holder id.
    owner: String,
    stop: watch::Sender<bool>,
    tasks: Mutex<JoinSet<()>>,
    /// The runs this server is running, so none runs twice here.
    running: Mutex<HashSet<OperationId>>,
}

impl Regrader {
    pub fn new(store: Store) -> Self {
        let (stop, _) = watch::channel(false);
        Self {
            inner: Arc::new(Inner {
                store,
                owner: uuid::Uuid::now_v7().to_string(),
                stop,
                tasks: Mutex::new(JoinSet::new()),
                running: Mutex::new(HashSet::new()),
            }),
        }
    }

    /// The holder id this server writes on the runs it holds.
    pub fn owner(&self) -> &str {
        &self.inner.owner
    }

    /// Runs `id`, which this server holds, in the background.
    pub fn run(&self, id: OperationId) {
        if *self.inner.stop.borrow() {
            return;
        }
        let newly = lock(&self.inner.running).insert(id);
        if !newly {
            return;
        }
        let inner = Arc::clone(&self.inner);
        let mut tasks = lock(&self.inner.tasks);
        // Forget the runs that ended, so a server up for months keeps no trace of each.
        while tasks.try_join_next().is_some() {}
        tasks.spawn(async move {
            drive(&inner, id).await;
            lock(&inner.running).remove(&id);
        });
    }

    /// Takes over runs nobody holds, once the database is ready and then every so often,
    /// until [`Self::shutdown`].
    pub fn watch_orphans(&self) {
        let regrader = self.clone();
        let mut stop = self.inner.stop.subscribe();
        lock(&self.inner.tasks).spawn(async move {
            let store = &regrader.inner.store;
            loop {
                let wait = if store.is_schema_ready() {
                    match store.claim_orphaned_regrades(regrader.owner()).await {
                        Ok(claimed) => {
                            for id in claimed {
                                tracing::info!(operation = %id, "re-grade taken over");
                                regrader.run(id);
                            }
                        }
                        Err(error) => {
                            tracing::warn!(%error, "looking for orphaned re-grades failed")
                        }
                    }
                    ORPHAN_SCAN
                } else {
                    Duration::from_millis(200)
                };
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    _ = stop.changed() => return,
                }
            }
        });
    }

    /// Stops every run at its next batch boundary and releases it, waiting up to `timeout`.
    pub async fn shutdown(&self, timeout: Duration) {
        self.inner.stop.send_replace(true);
        let mut tasks = std::mem::take(&mut *lock(&self.inner.tasks));
        let drained = tokio::time::timeout(timeout, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!("re-grades did not stop in time; their leases will expire");
        }
    }
}

/// Runs batches of `id` until it ends, is no longer held, or the server stops. Each batch is
/// stored while the next one is graded: the database writes one while this server computes
/// the other.
async fn drive(inner: &Inner, id: OperationId) {
    let stop = inner.stop.subscribe();
    let store = &inner.store;
    let owner = inner.owner.as_str();
    let plan = match retry_unavailable(stop.clone(), || store.regrade_plan(id)).await {
        None => return release(inner, id).await,
        Some(Err(error)) => return fail(inner, id, &error).await,
        Some(Ok(plan)) => Arc::new(plan),
    };
    tracing::info!(operation = %id, "re-grade running");
    let started = Instant::now();
    let mut cursor = plan.cursor.clone();
    let mut next = retry_unavailable(stop.clone(), || grade(store, &plan, cursor.as_deref())).await;
    loop {
        let batch = match next {
            None => return release(inner, id).await,
            Some(Err(error)) => return fail(inner, id, &error).await,
            Some(Ok(batch)) => batch,
        };
        let Some(batch) = batch else {
            let finished = retry_unavailable(stop.clone(), || {
                store.finish_regrade(&plan, owner, cursor.as_deref())
            });
            return ended(inner, id, finished.await).await;
        };
        if *stop.borrow() {
            return release(inner, id).await;
        }
        // Stored on a task of its own, so that grading the next batch (CPU here) and storing
        // this one (the database) really run side by side.
        let last = batch.last.clone();
        let storing = tokio::spawn({
            let (store, plan, owner, stop) = (
                store.clone(),
                Arc::clone(&plan),
                inner.owner.clone(),
                stop.clone(),
            );
            async move { retry_unavailable(stop, || store.store_batch(&plan, &owner, &batch)).await }
        });
        let following = retry_unavailable(stop.clone(), || grade(store, &plan, Some(&last))).await;
        let stored = storing.await.unwrap_or_else(|error| {
            tracing::error!(%error, "storing a re-grade batch panicked");
            None
        });
        let progress = match stored {
            Some(Ok(BatchOutcome::Stored(progress))) => progress,
            other => return ended(inner, id, other).await,
        };
        cursor = Some(last);
        next = following;
        let processed_here = progress.processed.saturating_sub(plan.processed_before);
        let wait = plan
            .pace
            .wait_before_next(processed_here, started.elapsed());
        if !wait.is_zero() {
            let mut stop = stop.clone();
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

/// Logs how a run ended here, or releases or fails it when storing did not come to an end.
async fn ended(
    inner: &Inner,
    id: OperationId,
    outcome: Option<Result<BatchOutcome, StorageError>>,
) {
    match outcome {
        None => release(inner, id).await,
        Some(Err(error)) => fail(inner, id, &error).await,
        Some(Ok(BatchOutcome::NotHeld)) => {
            tracing::info!(operation = %id, "re-grade no longer held here: cancelled or taken over");
        }
        Some(Ok(BatchOutcome::Finished(progress) | BatchOutcome::Stored(progress))) => {
            tracing::info!(
                operation = %id,
                assessed = progress.assessed,
                skipped = progress.skips.total(),
                "re-grade finished"
            );
        }
    }
}

async fn grade(
    store: &Store,
    plan: &RegradePlan,
    after: Option<&str>,
) -> Result<Option<GradedBatch>, StorageError> {
    store
        .grade_batch(plan, after, |model, snapshot| {
            assess_without_sentences(model, snapshot, Locale::En)
        })
        .await
}

/// Calls `attempt` until it does not fail for want of the database; `None` once the server
/// stops.
async fn retry_unavailable<T, F>(
    mut stop: watch::Receiver<bool>,
    mut attempt: impl FnMut() -> F,
) -> Option<Result<T, StorageError>>
where
    F: Future<Output = Result<T, StorageError>>,
{
    loop {
        match attempt().await {
            Err(StorageError::Unavailable(_) | StorageError::Contention) => {
                tracing::warn!("re-grade waiting for the database");
                if *stop.borrow() {
                    return None;
                }
                tokio::select! {
                    () = tokio::time::sleep(RETRY_AFTER) => {}
                    _ = stop.changed() => return None,
                }
            }
            other => return Some(other),
        }
    }
}

async fn release(inner: &Inner, id: OperationId) {
    match inner.store.release_regrade(id, &inner.owner).await {
        Ok(()) => tracing::info!(operation = %id, "re-grade released"),
        Err(error) => tracing::warn!(operation = %id, %error, "releasing a re-grade failed"),
    }
}

async fn fail(inner: &Inner, id: OperationId, error: &StorageError) {
    tracing::error!(operation = %id, %error, "re-grade failed");
    if let Err(error) = inner.store.fail_regrade(id, &inner.owner, FAILED).await {
        tracing::warn!(operation = %id, %error, "recording a failed re-grade failed");
    }
}

/// The guarded value; a panic elsewhere while it was held leaves it usable (a set of ids).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
