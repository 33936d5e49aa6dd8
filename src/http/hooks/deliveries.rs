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
use std::time::{Instant, SystemTime};

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
        let (now, wall) = (Instant::now(), SystemTime::now());
        let since = wall.checked_sub(deliveries.dedup.window());
        let restored = since.map(|since| deliveries.log.recent(since, deliveries.dedup.capacity()));
        match restored {
            Some(Ok(recent)) => {
                let count = recent.len();
                for (key, seen) in recent {
                    let age = wall.duration_since(seen).unwrap_or_default();
                    deliveries
                        .dedup
                        .remember(key, now.checked_sub(age).unwrap_or(now));
                }
                if count > 0 {
                    tracing::info!("remembered {count} deliveries from the last run");
                }
                deliveries.prune(wall);
            }
            Some(Err(error)) => deliveries.failed(&error),
            None => {}
        }
        deliveries
    }

    /// Takes the delivery `id` of `source`: `Some` the first time within the window,
    /// `None` for a duplicate, and in the database before this returns.
    pub async fn first(&self, source: Source, id: &str) -> Option<Ticket> {
        let ticket = self.dedup.first(source, id, Instant::now())?;
        let log = self.log.clone();
        let prune = self.since_prune.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == 0;
        let (window, capacity) = (self.dedup.window(), self.dedup.capacity());
        let written = tokio::task::spawn_blocking(move || {
            let now = SystemTime::now();
            log.record(&ticket.key(), now)?;
            if prune {
                log.prune(now.checked_sub(window).unwrap_or(now), capacity)?;
            }
            Ok::<_, StoreError>(())
        })
        .await;
        match written {
            Ok(Ok(())) => self.recovered(),
            Ok(Err(error)) => self.failed(&error),
            Err(error) => self.failed(&StoreError::Database(error.to_string())),
        }
        Some(ticket)
    }

    /// Forgets a delivery taken with `ticket`, so the tool's retry is taken again.
    pub async fn forget(&self, ticket: Ticket) {
        self.dedup.forget(ticket);
        let log = self.log.clone();
        match tokio::task::spawn_blocking(move || log.forget(&ticket.key())).await {
            Ok(Ok(())) => self.recovered(),
            Ok(Err(error)) => self.failed(&error),
            Err(error) => self.failed(&StoreError::Database(error.to_string())),
        }
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

    fn prune(&self, now: SystemTime) {
        let before = now.checked_sub(self.dedup.window()).unwrap_or(now);
        if let Err(error) = self.log.prune(before, self.dedup.capacity()) {
            self.failed(&error);
        }
    }

    fn failed(&self, error: &StoreError) {
        if !self.failing.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "deliveries are remembered only until gongan stops: {error}; a tool's retry \
                 after a restart may play again"
            );
        }
    }

    fn recovered(&self) {
        if self.failing.swap(false, Ordering::Relaxed) {
            tracing::info!("deliveries are remembered across restarts again");
        }
    }
}

#[cfg(test)]
mod test {
    use std::time::Duration;

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
