//! Notifications (PRODUCT.md §7): session events posted to chat and webhooks, through the
//! outbox in the database, so a restart or an unreachable chat loses none and the session
//! never waits for them.
//!
//! ```text
//! conductor ──broadcast──▶ listener ──one transaction per burst──▶ outbox (SQLite)
//!   (never waits)          (Tracker → Notice → a body per target)      │
//!                                                                      ▼
//!                                           one delivery task per target, in seq order
//! ```
//!
//! - [`notice`]: what a target hears about ([`Notice`]), with everything its message needs.
//! - [`tracker`]: the conductor's events → notices.
//! - [`format`](mod@format): a notice → the exact body for Slack, Mattermost or gongan's signed JSON.
//! - [`deliver`]: the POSTs, with timeouts, retries and backoff.
//!
//! [`Notifier::spawn`] starts it all; [`Notifier::stop`] ends it (messages still pending
//! stay in the outbox for the next start).

pub mod deliver;
pub mod format;
mod listen;
pub mod notice;
pub mod tracker;

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use thiserror::Error;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

pub use deliver::{Attempt, DeliveryPolicy, http_client, post};
pub use format::{Message, message, signature};
pub use listen::{KEEP_AT_MOST, KEEP_FOR};
pub use notice::{Notice, SegmentRef, What};

use crate::config::NotifyTarget;
use crate::session::ConductorHandle;
use crate::store::outbox::Outbox;
use crate::store::{Database, StoreError};

/// How long [`Notifier::stop`] waits for its tasks.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// Why notifications could not start.
#[derive(Debug, Error)]
pub enum NotifyError {
    /// The HTTP client could not be built (TLS setup).
    #[error("cannot set up the HTTP client for notifications: {0}")]
    Client(String),
    /// The outbox could not be read or written.
    #[error("the notification outbox failed: {0}")]
    Store(#[from] StoreError),
}

/// The outbox, shared by the listener and the delivery tasks. Every use goes through
/// [`with_outbox`], on a blocking thread: a commit waits for the disk, and no async
/// worker thread (the conductor's among them) should wait with it.
type SharedOutbox = Arc<Mutex<Outbox>>;

async fn with_outbox<T: Send + 'static>(
    outbox: &SharedOutbox,
    work: impl FnOnce(&mut Outbox) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let outbox = outbox.clone();
    tokio::task::spawn_blocking(move || {
        work(&mut outbox.lock().unwrap_or_else(PoisonError::into_inner))
    })
    .await
    .map_err(|e| StoreError::Stopped(e.to_string()))?
}

/// Resolves once `stop` says so (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    while !*stop.borrow_and_update() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

/// The running notifier: a listener and a delivery task per target.
pub struct Notifier {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Notifier {
    /// Subscribes to `conductor`'s events and starts delivering to `targets` through the
    /// outbox in `db`, with the default [`DeliveryPolicy`]. Messages left pending by a
    /// previous run are delivered first. Call it before the conductor resumes a session,
    /// so the `resumed` event is heard.
    ///
    /// # Errors
    /// [`NotifyError`] when the HTTP client cannot be built.
    pub fn spawn(
        conductor: &ConductorHandle,
        db: Database,
        targets: Vec<NotifyTarget>,
    ) -> Result<Notifier, NotifyError> {
        Notifier::spawn_with(conductor, db, targets, DeliveryPolicy::default())
    }

    /// [`Notifier::spawn`] with another delivery policy (shorter waits for tests and
    /// benchmarks).
    ///
    /// # Errors
    /// [`NotifyError`] when the HTTP client cannot be built.
    pub fn spawn_with(
        conductor: &ConductorHandle,
        db: Database,
        targets: Vec<NotifyTarget>,
        policy: DeliveryPolicy,
    ) -> Result<Notifier, NotifyError> {
        let client = http_client(&policy)?;
        let events = conductor.subscribe();
        let outbox: SharedOutbox = Arc::new(Mutex::new(Outbox::new(db)));
        let (stop, stop_rx) = watch::channel(false);
        let targets: Arc<[Arc<NotifyTarget>]> = targets.into_iter().map(Arc::new).collect();
        let wakes: Arc<[Arc<Notify>]> = targets.iter().map(|_| Arc::new(Notify::new())).collect();
        let mut tasks = Vec::with_capacity(targets.len() + 1);
        for (target, wake) in targets.iter().zip(wakes.iter()) {
            tasks.push(tokio::spawn(
                deliver::Worker {
                    target: target.clone(),
                    client: client.clone(),
                    outbox: outbox.clone(),
                    wake: wake.clone(),
                    policy,
                    stop: stop_rx.clone(),
                }
                .run(),
            ));
        }
        tasks.push(tokio::spawn(
            listen::Listener {
                events,
                conductor: conductor.clone(),
                outbox,
                targets,
                wakes,
                stop: stop_rx,
            }
            .run(),
        ));
        Ok(Notifier { stop, tasks })
    }

    /// Starts the notifier of a server: when `targets` are configured, on its own
    /// connection to the database in `data_dir`. Without a usable database (a read-only
    /// or full data dir) it logs why and returns `None`: the server runs without
    /// notifications rather than not at all.
    pub async fn start(
        conductor: &ConductorHandle,
        data_dir: &Path,
        targets: &[NotifyTarget],
    ) -> Option<Notifier> {
        if targets.is_empty() {
            return None;
        }
        let dir = data_dir.to_owned();
        let opened = tokio::task::spawn_blocking(move || Database::open(&dir))
            .await
            .map_err(|e| StoreError::Stopped(e.to_string()))
            .and_then(|db| db);
        let started = opened
            .map_err(NotifyError::from)
            .and_then(|db| Notifier::spawn(conductor, db, targets.to_vec()));
        match started {
            Ok(notifier) => {
                tracing::info!("notifications go to {} target(s)", targets.len());
                Some(notifier)
            }
            Err(error) => {
                tracing::error!("notifications are off: {error}");
                None
            }
        }
    }

    /// Stops: the listener enqueues what the event stream still holds, POSTs in flight
    /// are dropped (their messages stay pending, for the next start), and this returns
    /// once every task has ended (or after a few seconds).
    pub async fn stop(self) {
        self.stop.send_replace(true);
        let all = futures_util::future::join_all(self.tasks);
        if tokio::time::timeout(STOP_TIMEOUT, all).await.is_err() {
            tracing::warn!("the notifier did not stop in time");
        }
    }
}
