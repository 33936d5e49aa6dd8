//! [`DeliveryLog`]: the deliveries the receivers took, in the database (migration 4), so
//! that a tool's retry after gongan restarted plays nothing twice.
//!
//! A delivery is kept as an opaque 16-byte key (the receivers hash source and delivery id)
//! and the UTC instant it came. The receivers decide what the keys mean, how long they
//! matter and how many are kept; this is only their memory across restarts.
//!
//! On its own connection with `synchronous = NORMAL`: in WAL mode a commit is then a write
//! to the WAL without an fsync, so it survives gongan being killed at any moment (the
//! case that matters: a tool retries what a crashed server may have played) though not a
//! power cut, and the receivers keep their ≥ 2 000 deliveries/s. The journal's connection
//! stays `FULL`.

use std::sync::MutexGuard;
use std::time::SystemTime;

use rusqlite::params;

use super::db::{Database, SharedDatabase};
use super::error::StoreError;
use crate::session::record::utc_nanos::{from_nanos, to_nanos};

/// A delivery's key: what the receivers make of its source and id.
pub type DeliveryKey = [u8; 16];

/// The deliveries table. Blocking: call it from `spawn_blocking` in async code.
pub struct DeliveryLog {
    db: SharedDatabase,
}

impl DeliveryLog {
    /// The deliveries in `db`, whose connection this takes over (and makes `NORMAL`).
    ///
    /// # Errors
    /// The database's, if the pragma cannot be set.
    pub fn new(db: Database) -> Result<DeliveryLog, StoreError> {
        db.connection()
            .execute_batch("PRAGMA synchronous = NORMAL;")?;
        Ok(DeliveryLog {
            db: SharedDatabase::new(db),
        })
    }

    /// The log of a data dir whose database cannot be opened (read-only, full): every call
    /// says why, and the receivers remember deliveries only while they run.
    #[must_use]
    pub fn unavailable(why: String) -> DeliveryLog {
        DeliveryLog {
            db: SharedDatabase::unavailable(why),
        }
    }

    fn db(&self) -> Result<MutexGuard<'_, Database>, StoreError> {
        self.db.lock()
    }

    /// Records that the delivery `key` came at `at` (again: the later time wins).
    ///
    /// # Errors
    /// The store's (a full disk: [`StoreError::Full`]).
    pub fn record(&self, key: &DeliveryKey, at: SystemTime) -> Result<(), StoreError> {
        self.db()?
            .connection()
            .prepare_cached("INSERT OR REPLACE INTO deliveries (key, seen_ns) VALUES (?1, ?2)")?
            .execute(params![key.as_slice(), to_nanos(at)])?;
        Ok(())
    }

    /// Forgets the delivery `key`, so it is taken again.
    ///
    /// # Errors
    /// The store's.
    pub fn forget(&self, key: &DeliveryKey) -> Result<(), StoreError> {
        self.db()?
            .connection()
            .prepare_cached("DELETE FROM deliveries WHERE key = ?1")?
            .execute(params![key.as_slice()])?;
        Ok(())
    }

    /// The newest `limit` deliveries that came at `since` or later, oldest first.
    ///
    /// # Errors
    /// The store's; [`StoreError::Corrupt`] for a key that is not 16 bytes.
    pub fn recent(
        &self,
        since: SystemTime,
        limit: usize,
    ) -> Result<Vec<(DeliveryKey, SystemTime)>, StoreError> {
        let db = self.db()?;
        let mut statement = db.connection().prepare(
            "SELECT key, seen_ns FROM deliveries WHERE seen_ns >= ?1
             ORDER BY seen_ns DESC LIMIT ?2",
        )?;
        let rows = statement.query_map(
            params![to_nanos(since), i64::try_from(limit).unwrap_or(i64::MAX)],
            |row| Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, i64>(1)?)),
        )?;
        let mut recent = Vec::new();
        for row in rows {
            let (key, seen) = row?;
            let key = DeliveryKey::try_from(key.as_slice()).map_err(|_| {
                StoreError::Corrupt(format!("a delivery key of {} bytes", key.len()))
            })?;
            recent.push((key, from_nanos(seen)));
        }
        recent.reverse();
        Ok(recent)
    }

    /// Drops the deliveries that came before `before`, and all but the newest `keep`.
    /// Returns how many went.
    ///
    /// # Errors
    /// The store's.
    pub fn prune(&self, before: SystemTime, keep: usize) -> Result<usize, StoreError> {
        Ok(self.db()?.connection().execute(
            "DELETE FROM deliveries WHERE seen_ns < ?1 OR key IN
                (SELECT key FROM deliveries ORDER BY seen_ns DESC LIMIT -1 OFFSET ?2)",
            params![to_nanos(before), i64::try_from(keep).unwrap_or(i64::MAX)],
        )?)
    }
}

#[cfg(test)]
mod test {
    use std::time::Duration;

    use super::*;

    fn at(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + seconds)
    }

    fn key(n: u8) -> DeliveryKey {
        [n; 16]
    }

    fn open(dir: &std::path::Path) -> DeliveryLog {
        DeliveryLog::new(Database::open(dir).unwrap()).unwrap()
    }

    #[test]
    fn deliveries_outlive_the_connection_and_come_back_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path());
        log.record(&key(2), at(20)).unwrap();
        log.record(&key(1), at(10)).unwrap();
        log.record(&key(3), at(30)).unwrap();
        drop(log);

        let log = open(dir.path());
        assert_eq!(
            log.recent(at(0), 10).unwrap(),
            vec![(key(1), at(10)), (key(2), at(20)), (key(3), at(30))]
        );
        // Only the newest within the limit, and none before `since`.
        assert_eq!(
            log.recent(at(0), 2).unwrap(),
            vec![(key(2), at(20)), (key(3), at(30))]
        );
        assert_eq!(log.recent(at(25), 10).unwrap(), vec![(key(3), at(30))]);
    }

    #[test]
    fn a_delivery_seen_again_moves_on_and_a_forgotten_one_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path());
        log.record(&key(1), at(10)).unwrap();
        log.record(&key(2), at(20)).unwrap();
        log.record(&key(1), at(30)).unwrap();
        log.forget(&key(2)).unwrap();
        log.forget(&key(9)).unwrap();
        assert_eq!(log.recent(at(0), 10).unwrap(), vec![(key(1), at(30))]);
    }

    #[test]
    fn pruning_drops_the_old_and_all_but_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path());
        for n in 1..=6 {
            log.record(&key(n), at(u64::from(n) * 10)).unwrap();
        }
        // Before 20 s: key 1 goes; beyond the newest 3: keys 2 and 3 go.
        assert_eq!(log.prune(at(20), 3).unwrap(), 3);
        assert_eq!(
            log.recent(at(0), 10).unwrap(),
            vec![(key(4), at(40)), (key(5), at(50)), (key(6), at(60))]
        );
    }

    #[test]
    fn an_unavailable_log_says_why() {
        let log = DeliveryLog::unavailable("read-only".into());
        let error = log.record(&key(1), at(0)).unwrap_err();
        assert!(matches!(error, StoreError::Full(ref why) if why == "read-only"));
    }
}
