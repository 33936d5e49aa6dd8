//! The subscriber: takes the conductor's events, turns them into notices ([`Tracker`]),
//! and puts one message per interested target into the outbox. It only enqueues — the
//! POSTs happen in the delivery tasks — so it keeps up with the event stream, and the
//! conductor never waits for it (a broadcast channel: a subscriber that fell behind
//! loses events, which is logged).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::{Notify, broadcast, watch};

use super::format::message;
use super::notice::Notice;
use super::tracker::Tracker;
use super::{SharedOutbox, stopped, with_outbox};
use crate::config::NotifyTarget;
use crate::session::{ConductorHandle, Event, Snapshot};
use crate::store::outbox::NewMessage;

/// Events taken off the stream before one write: bursts cost one transaction.
const BATCH: usize = 256;
/// How long the conductor gets to describe its session.
const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(2);
/// How often delivered and failed messages are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Delivered and failed messages are kept this long…
pub const KEEP_FOR: Duration = Duration::from_secs(7 * 24 * 3600);
/// …and at most this many of them.
pub const KEEP_AT_MOST: usize = 10_000;

/// The subscriber task.
pub(super) struct Listener {
    pub events: broadcast::Receiver<Event>,
    pub conductor: ConductorHandle,
    pub outbox: SharedOutbox,
    pub targets: Arc<[Arc<NotifyTarget>]>,
    /// Each target's delivery task, by the targets' order.
    pub wakes: Arc<[Arc<Notify>]>,
    pub stop: watch::Receiver<bool>,
}

impl Listener {
    /// Enqueues until the notifier stops; on the way out, enqueues what the stream
    /// already holds.
    pub async fn run(mut self) {
        self.warn_of_orphans().await;
        let mut tracker = Tracker::default();
        let mut prune = tokio::time::interval(PRUNE_EVERY);
        prune.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let first = tokio::select! {
                received = self.events.recv() => received,
                _ = prune.tick() => {
                    self.prune().await;
                    continue;
                }
                () = stopped(&mut self.stop) => {
                    let rest = self.drain(BATCH * 4);
                    self.enqueue(&mut tracker, rest).await;
                    return;
                }
            };
            let mut batch = match first {
                Ok(event) => vec![event],
                Err(RecvError::Lagged(missed)) => {
                    lagged(missed);
                    Vec::new()
                }
                Err(RecvError::Closed) => return,
            };
            batch.extend(self.drain(BATCH));
            self.enqueue(&mut tracker, batch).await;
        }
    }

    /// What the stream holds now, up to `at_most` events.
    fn drain(&mut self, at_most: usize) -> Vec<Event> {
        let mut events = Vec::new();
        while events.len() < at_most {
            match self.events.try_recv() {
                Ok(event) => events.push(event),
                Err(TryRecvError::Lagged(missed)) => lagged(missed),
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
        events
    }

    async fn enqueue(&self, tracker: &mut Tracker, events: Vec<Event>) {
        let mut notices: Vec<Notice> = Vec::new();
        for event in events {
            let Event::Session(event) = event else {
                continue;
            };
            let snapshot = if tracker.needs_snapshot(&event) {
                self.snapshot().await
            } else {
                None
            };
            notices.extend(tracker.notices(&event, snapshot.as_ref()));
        }
        let mut messages = Vec::new();
        let mut woken = vec![false; self.targets.len()];
        for notice in &notices {
            let event = notice.what.event();
            for (i, target) in self.targets.iter().enumerate() {
                if target.events.iter().any(|e| e == event) {
                    let message = message(notice, target.format);
                    messages.push(NewMessage {
                        target: target.name.clone(),
                        event: event.to_owned(),
                        body: message.body,
                    });
                    woken[i] = true;
                }
            }
        }
        if messages.is_empty() {
            return;
        }
        let count = messages.len();
        match with_outbox(&self.outbox, move |o| {
            o.enqueue(&messages, SystemTime::now())
        })
        .await
        {
            Ok(_) => {
                for (wake, woken) in self.wakes.iter().zip(woken) {
                    if woken {
                        wake.notify_one();
                    }
                }
            }
            Err(error) => tracing::error!(
                "{count} notifications are lost: the outbox cannot be written ({error})"
            ),
        }
    }

    /// The conductor's description of its session, if it gives one in time.
    async fn snapshot(&self) -> Option<Snapshot> {
        match tokio::time::timeout(SNAPSHOT_TIMEOUT, self.conductor.snapshot()).await {
            Ok(Ok(snapshot)) => snapshot,
            Ok(Err(error)) => {
                tracing::debug!("the notifier cannot ask about the session: {error}");
                None
            }
            Err(_) => {
                tracing::warn!(
                    "the conductor did not describe its session in time for a notification"
                );
                None
            }
        }
    }

    async fn prune(&self) {
        let pruned = with_outbox(&self.outbox, |o| {
            o.prune(SystemTime::now(), KEEP_FOR, KEEP_AT_MOST)
        })
        .await;
        match pruned {
            Ok(0) => {}
            Ok(n) => tracing::debug!("pruned {n} old notifications from the outbox"),
            Err(error) => tracing::warn!("cannot prune the notification outbox: {error}"),
        }
    }
}

impl Listener {
    /// Logs the messages waiting for targets that are no longer configured: they stay,
    /// and go out if a target of that name comes back.
    async fn warn_of_orphans(&self) {
        match with_outbox(&self.outbox, |o| o.pending_by_target()).await {
            Ok(pending) => {
                for (name, count) in pending {
                    if !self.targets.iter().any(|t| t.name == name) {
                        tracing::warn!(
                            "{count} notifications wait for target '{name}', which is not \
                             configured any more; they are kept and sent if it comes back"
                        );
                    }
                }
            }
            Err(error) => tracing::warn!("cannot read the notification outbox: {error}"),
        }
    }
}

fn lagged(missed: u64) {
    tracing::warn!(
        "the notifier fell behind the event stream and missed {missed} events; \
         some notifications may be missing"
    );
}
