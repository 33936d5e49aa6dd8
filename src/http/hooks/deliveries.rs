//! [`Deliveries`]: the deliveries the receivers took, remembered in memory for the quick
//! check ([`Dedup`]) and in the database ([`DeliveryLog`]) so that a restart forgets none:
//! a tool retrying what the last run took — PagerDuty's and Alertmanager's at-least-once
//! retries, a GitHub redelivery, an Alertmanager peer's copy — still plays nothing.
//!
//! A delivery is written to the database *before* it is carried out (and removed again if
//! carrying it out failed in a way the tool retries), so nothing a tool was told "done" is
//! ever taken twice. If the database cannot be written the delivery is still carried out —
//! a cue matters more than its memory — with one warning per outage.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime};

use crate::config::Source;
use crate::receivers::dedup::{Dedup, Ticket};
use crate::store::StoreError;
use crate::store::deliveries::DeliveryLog;

/// The database is pruned to the window and the capacity once per this many deliveries.
const PRUNE_EVERY: u32 = 1024;

/// The receivers' deliveries. Shared by every request.
pub struct Deliveries {
    dedup: Dedup,
    log: Arc<DeliveryLog>,
    since_prune: AtomicU32,
    /// Whether the database is failing (warned once until it works again).
    failing: AtomicBool,
}

impl Deliveries {
    /// Remembers what `log` kept within `dedup`'s window and capacity, and prunes the
    /// rest from it. Blocking: call it from `spawn_blocking`.
    pub fn open(dedup: Dedup, log: DeliveryLog) -> Deliveries {
        let deliveries = Deliveries {
            dedup,
            log: Arc::new(log),
            // `open` prunes; the next prune comes after PRUNE_EVERY deliveries.
            since_prune: AtomicU32::new(1),
            failing: AtomicBool::new(false),
        };
        let bounds = Bounds::of(&deliveries.dedup);
        let (now, wall) = (Instant::now(), SystemTime::now());
        let restored = deliveries
            .log
            .recent(bounds.oldest_kept(wall), bounds.capacity)
            .and_then(|recent| {
                let count = recent.len();
                for (key, seen) in recent {
                    let age = wall.duration_since(seen).unwrap_or_default();
                    let at = now.checked_sub(age).unwrap_or(now);
                    deliveries.dedup.remember(key, at);
                }
                if count > 0 {
                    tracing::info!("remembered {count} deliveries from the last run");
                }
                bounds.prune(&deliveries.log, wall)
            });
        deliveries.outcome(restored);
        deliveries
    }

    /// Takes the delivery `id` of `source`: `Some` the first time within the window,
    /// `None` for a duplicate, and in the database before this returns.
    pub async fn first(&self, source: Source, id: &str) -> Option<Ticket> {
        let ticket = self.dedup.first(source, id, Instant::now())?;
        let prune = self.since_prune.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == 0;
        self.write(move |bounds, log| {
            let now = SystemTime::now();
            log.record(&ticket.key(), now)?;
            if prune {
                bounds.prune(log, now)?;
            }
            Ok(())
        })
        .await;
        Some(ticket)
    }

    /// Forgets a delivery taken with `ticket`, so the tool's retry is taken again.
    pub async fn forget(&self, ticket: Ticket) {
        self.dedup.forget(ticket);
        self.write(move |_, log| log.forget(&ticket.key())).await;
    }

    /// How many deliveries are remembered now (in memory).
    #[must_use]
    pub fn len(&self) -> usize {
        self.dedup.len()
    }

    /// Whether no delivery is remembered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.dedup.is_empty()
    }

    /// Runs `change` on the log off the async workers, and waits for it.
    async fn write(
        &self,
        change: impl FnOnce(Bounds, &DeliveryLog) -> Result<(), StoreError> + Send + 'static,
    ) {
        let (log, bounds) = (self.log.clone(), Bounds::of(&self.dedup));
        let written = tokio::task::spawn_blocking(move || change(bounds, &log)).await;
        self.outcome(written.unwrap_or_else(|e| Err(StoreError::Database(e.to_string()))));
    }

    /// Warns once when the database starts failing, and says when it works again.
    fn outcome(&self, result: Result<(), StoreError>) {
        match result {
            Ok(()) => {
                if self.failing.swap(false, Ordering::Relaxed) {
                    tracing::info!("deliveries are remembered across restarts again");
                }
            }
            Err(error) => {
                if !self.failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        "deliveries are remembered only until gongan stops: {error}; a \
                         tool's retry after a restart may play again"
                    );
                }
            }
        }
    }
}

/// How long and how many deliveries are remembered: the dedup's bounds, which the
/// database is kept to as well.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    window: Duration,
    capacity: usize,
}

impl Bounds {
    fn of(dedup: &Dedup) -> Bounds {
        Bounds {
            window: dedup.window(),
            capacity: dedup.capacity(),
        }
    }

    /// The earliest a delivery still remembered at `now` can have come.
    fn oldest_kept(self, now: SystemTime) -> SystemTime {
        now.checked_sub(self.window)
            .unwrap_or(SystemTime::UNIX_EPOCH)
    }

    fn prune(self, log: &DeliveryLog, now: SystemTime) -> Result<(), StoreError> {
        log.prune(self.oldest_kept(now), self.capacity).map(drop)
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::store::Database;

    fn log(dir: &std::path::Path) -> DeliveryLog {
        DeliveryLog::new(Database::open(dir).unwrap()).unwrap()
    }

    #[tokio::test]
    async fn a_delivery_taken_before_a_restart_is_a_duplicate_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let first = Deliveries::open(Dedup::default(), log(dir.path()));
        assert!(first.first(Source::Github, "a").await.is_some());
        let failed = first.first(Source::Github, "b").await.unwrap();
        first.forget(failed).await;
        drop(first);

        let again = Deliveries::open(Dedup::default(), log(dir.path()));
        assert_eq!(again.len(), 1, "only the delivery carried out");
        assert!(again.first(Source::Github, "a").await.is_none());
        assert!(again.first(Source::Pagerduty, "a").await.is_some());
        assert!(again.first(Source::Github, "b").await.is_some());
    }

    #[tokio::test]
    async fn only_the_window_and_the_capacity_come_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = log(dir.path());
        let now = SystemTime::now();
        let old = Dedup::new(10, Duration::from_secs(60));
        for (id, age) in [("old", 61), ("a", 30), ("b", 20), ("c", 10)] {
            let key = old.first(Source::Github, id, Instant::now()).unwrap().key();
            store.record(&key, now - Duration::from_secs(age)).unwrap();
        }
        let deliveries = Deliveries::open(Dedup::new(2, Duration::from_secs(60)), store);
        assert_eq!(deliveries.len(), 2);
        // The database was pruned to the same two.
        let kept = log(dir.path())
            .recent(now - Duration::from_secs(3600), 10)
            .unwrap();
        assert_eq!(kept.len(), 2);
        // Duplicates first: each news takes a place of the two.
        for (id, news) in [("b", false), ("c", false), ("old", true), ("a", true)] {
            let taken = deliveries.first(Source::Github, id).await.is_some();
            assert_eq!(taken, news, "{id}");
        }
    }

    #[tokio::test]
    async fn without_a_database_deliveries_are_still_taken_once() {
        let deliveries = Deliveries::open(
            Dedup::default(),
            DeliveryLog::unavailable("read-only".into()),
        );
        assert!(deliveries.first(Source::Github, "a").await.is_some());
        assert!(deliveries.first(Source::Github, "a").await.is_none());
    }
}
