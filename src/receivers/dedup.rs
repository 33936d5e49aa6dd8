//! [`Dedup`]: the deliveries already taken, by source and delivery id, so that a tool's
//! retry (PagerDuty and Alertmanager deliver at least once; a GitHub redelivery; each peer
//! of an Alertmanager cluster) plays nothing the second time.
//!
//! Bounded in both ways: an id is remembered for [`WINDOW`] (longer than any tool's retries:
//! PagerDuty's span about 20 minutes) and at most [`CAPACITY`] ids are kept, the oldest
//! forgotten first. Each id is kept as 16 bytes of its SHA-256, so a long Alertmanager
//! group key costs no more than a GitHub GUID. One short lock per delivery; each check is
//! O(1) (amortised: the ids that expire are dropped as later ones arrive).
//!
//! This is the memory of one run; the server keeps each key in the database as well
//! (`store::deliveries`) and hands the recent ones back with [`Dedup::remember`] when it
//! starts again.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::config::Source;

/// How many delivery ids are remembered at most.
pub const CAPACITY: usize = 10_000;
/// How long a delivery id is remembered.
pub const WINDOW: Duration = Duration::from_secs(60 * 60);

/// What a delivery is remembered by: 16 bytes of the SHA-256 of its source and id.
pub type Key = [u8; 16];

/// The deliveries seen lately. Shared by every request (thread-safe).
#[derive(Debug)]
pub struct Dedup {
    capacity: usize,
    window: Duration,
    seen: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    /// Each remembered id, with the number of its entry in `order`.
    by_key: HashMap<Key, u64>,
    /// Every entry, oldest first: the id, its number, when it came.
    order: VecDeque<(Key, u64, Instant)>,
    next: u64,
}

impl Seen {
    /// Drops entries from the front of `order` while `drop` says so of the oldest (given
    /// the number of entries).
    fn drop_oldest_while(&mut self, drop: impl Fn(&(Key, u64, Instant), usize) -> bool) {
        while let Some(&(old, number, at)) = self.order.front() {
            if !drop(&(old, number, at), self.order.len()) {
                break;
            }
            self.order.pop_front();
            if self.by_key.get(&old) == Some(&number) {
                self.by_key.remove(&old);
            }
        }
    }
}

/// A delivery taken for the first time: hand it back with [`Dedup::forget`] if carrying
/// it out failed in a way the tool should retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct Ticket {
    key: Key,
    number: u64,
}

impl Ticket {
    /// The key the delivery is remembered by.
    #[must_use]
    pub fn key(&self) -> Key {
        self.key
    }
}

impl Default for Dedup {
    fn default() -> Dedup {
        Dedup::new(CAPACITY, WINDOW)
    }
}

impl Dedup {
    /// Remembers up to `capacity` ids (at least one) for `window` each.
    #[must_use]
    pub fn new(capacity: usize, window: Duration) -> Dedup {
        Dedup {
            capacity: capacity.max(1),
            window,
            seen: Mutex::new(Seen::default()),
        }
    }

    /// Records the delivery `id` of `source` at `now`: `Some` the first time within the
    /// window, `None` for a duplicate.
    pub fn first(&self, source: Source, id: &str, now: Instant) -> Option<Ticket> {
        self.take(key(source, id), now)
    }

    /// Remembers a delivery an earlier run took at `at`, as if it had been taken here.
    /// Call it for each, oldest first, before taking any delivery.
    pub fn remember(&self, key: Key, at: Instant) {
        let _ = self.take(key, at);
    }

    fn take(&self, key: Key, now: Instant) -> Option<Ticket> {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let seen = &mut *seen;
        seen.drop_oldest_while(|&(_, _, at), _| now.saturating_duration_since(at) >= self.window);
        if seen.by_key.contains_key(&key) {
            return None;
        }
        // Room for the news, only now: a copy of the oldest id is still a duplicate.
        seen.drop_oldest_while(|_, len| len >= self.capacity);
        let number = seen.next;
        seen.next += 1;
        seen.by_key.insert(key, number);
        seen.order.push_back((key, number, now));
        Some(Ticket { key, number })
    }

    /// How long an id is remembered.
    #[must_use]
    pub fn window(&self) -> Duration {
        self.window
    }

    /// How many ids are remembered at most.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Forgets a delivery taken with `ticket`, so the tool's retry is taken again (unless
    /// a later delivery of the same id was taken since).
    pub fn forget(&self, ticket: Ticket) {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.by_key.get(&ticket.key) == Some(&ticket.number) {
            seen.by_key.remove(&ticket.key);
        }
    }

    /// How many ids are remembered now.
    #[must_use]
    pub fn len(&self) -> usize {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .by_key
            .len()
    }

    /// Whether no id is remembered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn key(source: Source, id: &str) -> Key {
    let digest = Sha256::new()
        .chain_update(source.name())
        .chain_update([0])
        .chain_update(id)
        .finalize();
    let mut key = [0; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

#[cfg(test)]
mod test {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    const GH: Source = Source::Github;

    #[test]
    fn a_delivery_is_taken_once_within_the_window() {
        let dedup = Dedup::new(100, Duration::from_secs(60));
        let t0 = Instant::now();
        assert!(dedup.first(GH, "a", t0).is_some());
        assert!(dedup.first(GH, "a", t0 + Duration::from_secs(59)).is_none());
        assert!(
            dedup.first(Source::Pagerduty, "a", t0).is_some(),
            "ids are per source"
        );
        assert!(dedup.first(GH, "b", t0).is_some());
        // After the window, the same id is news again.
        assert!(dedup.first(GH, "a", t0 + Duration::from_secs(60)).is_some());
        assert!(dedup.first(GH, "a", t0 + Duration::from_secs(61)).is_none());
    }

    #[test]
    fn memory_is_bounded_by_the_capacity_oldest_first() {
        let dedup = Dedup::new(3, Duration::from_secs(3600));
        let t0 = Instant::now();
        for id in ["a", "b", "c", "d"] {
            assert!(dedup.first(GH, id, t0).is_some());
        }
        assert_eq!(dedup.len(), 3);
        assert!(dedup.first(GH, "d", t0).is_none());
        assert!(
            dedup.first(GH, "b", t0).is_none(),
            "a copy of the oldest kept is a duplicate, even with every place taken"
        );
        assert!(
            dedup.first(GH, "a", t0).is_some(),
            "the oldest was forgotten"
        );
        for i in 0..10_000 {
            let _ = dedup.first(GH, &i.to_string(), t0);
        }
        assert_eq!(dedup.len(), 3);
        let seen = dedup.seen.lock().unwrap();
        assert!(seen.order.len() <= 3);
    }

    #[test]
    fn expired_ids_are_dropped_as_later_ones_arrive() {
        let dedup = Dedup::new(1000, Duration::from_secs(10));
        let t0 = Instant::now();
        for i in 0..100 {
            let _ = dedup.first(GH, &i.to_string(), t0);
        }
        let _ = dedup.first(GH, "later", t0 + Duration::from_secs(11));
        assert_eq!(dedup.len(), 1);
        assert!(!dedup.is_empty());
    }

    #[test]
    fn a_forgotten_delivery_is_taken_again() {
        let dedup = Dedup::new(10, Duration::from_secs(60));
        let t0 = Instant::now();
        let ticket = dedup.first(GH, "a", t0).unwrap();
        dedup.forget(ticket);
        let again = dedup.first(GH, "a", t0).unwrap();
        // An old ticket does not forget the newer taking.
        dedup.forget(ticket);
        assert!(dedup.first(GH, "a", t0).is_none());
        dedup.forget(again);
        assert!(dedup.first(GH, "a", t0).is_some());
        assert!(dedup.seen.lock().unwrap().order.len() <= 10);
    }

    #[test]
    fn deliveries_remembered_from_an_earlier_run_are_duplicates_until_they_expire() {
        let earlier = Dedup::new(10, Duration::from_secs(60));
        let t0 = Instant::now();
        let a = earlier.first(GH, "a", t0).unwrap().key();
        let b = earlier
            .first(GH, "b", t0 + Duration::from_secs(30))
            .unwrap()
            .key();

        let dedup = Dedup::new(10, Duration::from_secs(60));
        dedup.remember(a, t0);
        dedup.remember(b, t0 + Duration::from_secs(30));
        let now = t0 + Duration::from_secs(40);
        assert!(dedup.first(GH, "a", now).is_none());
        assert!(dedup.first(GH, "b", now).is_none());
        assert!(dedup.first(GH, "c", now).is_some());
        // Each keeps its own age: `a` expires a minute after it first came, `b` later.
        let later = t0 + Duration::from_secs(61);
        assert!(dedup.first(GH, "a", later).is_some());
        assert!(dedup.first(GH, "b", later).is_none());
    }

    #[test]
    fn concurrent_copies_are_taken_exactly_once() {
        let dedup = Arc::new(Dedup::default());
        let taken = Arc::new(AtomicUsize::new(0));
        let now = Instant::now();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let dedup = dedup.clone();
                let taken = taken.clone();
                std::thread::spawn(move || {
                    for i in 0..1000 {
                        if dedup.first(GH, &format!("delivery-{i}"), now).is_some() {
                            taken.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(taken.load(Ordering::Relaxed), 1000);
    }
}
