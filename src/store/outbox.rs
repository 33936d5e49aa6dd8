//! [`Outbox`]: the notification outbox in the database (migration 3).
//!
//! Each message to each target is one row, written before anything is sent, so a restart
//! or an unreachable chat loses none. A target's messages leave in `seq` order, one at a
//! time: the head of its queue is retried (with backoff) until the target takes it or
//! refuses it for good, and only then does the next one go. `seq` is never reused
//! (AUTOINCREMENT), so it doubles as the delivery id receivers deduplicate by.
//!
//! A row is *pending* (neither time set), *delivered* (`delivered_ns`) or *failed*
//! (`failed_ns`, with `last_error`: the target answered a 4xx that retrying cannot fix).
//! Delivered and failed rows are kept for a while for the record, then pruned.

use std::time::{Duration, SystemTime};

use rusqlite::{OptionalExtension, params};

use super::db::Database;
use super::error::StoreError;
use crate::session::record::utc_nanos::{from_nanos, to_nanos};

/// A message's delivery id: its row's `seq`, sent as `X-Gongan-Delivery`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeliveryId(pub i64);

impl std::fmt::Display for DeliveryId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A message to put in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// The target's name (`[[notify]] name`).
    pub target: String,
    /// The event's name (`started`, `segment`…), sent as `X-Gongan-Event`.
    pub event: String,
    /// The exact bytes to POST.
    pub body: String,
}

/// A message waiting to be delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// Its delivery id.
    pub id: DeliveryId,
    /// The target's name.
    pub target: String,
    /// The event's name.
    pub event: String,
    /// The exact bytes to POST.
    pub body: String,
    /// When it was enqueued.
    pub created: SystemTime,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Not to be tried again before this.
    pub next: SystemTime,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// How many messages are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    /// Waiting to be delivered.
    pub pending: u64,
    /// Delivered (and not yet pruned).
    pub delivered: u64,
    /// Refused for good by their target (and not yet pruned).
    pub failed: u64,
}

/// The outbox, on its own connection to the data dir's database.
pub struct Outbox {
    db: Database,
}

/// How much of an error is kept in `last_error`.
const MAX_ERROR_CHARS: usize = 500;

impl Outbox {
    /// The outbox in `db`.
    #[must_use]
    pub fn new(db: Database) -> Outbox {
        Outbox { db }
    }

    /// Puts `messages` in the outbox at `now`, all or none (one transaction, committed
    /// durably before this returns), and returns their delivery ids in order.
    ///
    /// # Errors
    /// The database cannot be written ([`StoreError::Full`] for a full or read-only disk).
    pub fn enqueue(
        &mut self,
        messages: &[NewMessage],
        now: SystemTime,
    ) -> Result<Vec<DeliveryId>, StoreError> {
        let now = to_nanos(now);
        let tx = self.db.connection_mut().transaction()?;
        let mut ids = Vec::with_capacity(messages.len());
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO outbox (target, event, body, created_ns, next_ns)
                 VALUES (?1, ?2, ?3, ?4, ?4)",
            )?;
            for message in messages {
                insert.execute(params![message.target, message.event, message.body, now])?;
                ids.push(DeliveryId(tx.last_insert_rowid()));
            }
        }
        tx.commit()?;
        Ok(ids)
    }

    /// The oldest pending message of `target`: the one to deliver next.
    ///
    /// # Errors
    /// The database cannot be read.
    pub fn head(&self, target: &str) -> Result<Option<Pending>, StoreError> {
        Ok(self
            .db
            .connection()
            .prepare_cached(
                "SELECT seq, target, event, body, created_ns, attempts, next_ns, last_error
                 FROM outbox
                 WHERE target = ?1 AND delivered_ns IS NULL AND failed_ns IS NULL
                 ORDER BY seq LIMIT 1",
            )?
            .query_row(params![target], |row| {
                Ok(Pending {
                    id: DeliveryId(row.get(0)?),
                    target: row.get(1)?,
                    event: row.get(2)?,
                    body: row.get(3)?,
                    created: from_nanos(row.get(4)?),
                    attempts: u32::try_from(row.get::<_, i64>(5)?).unwrap_or(u32::MAX),
                    next: from_nanos(row.get(6)?),
                    last_error: row.get(7)?,
                })
            })
            .optional()?)
    }

    /// Records that `id` was delivered at `now`.
    ///
    /// # Errors
    /// The database cannot be written.
    pub fn delivered(&self, id: DeliveryId, now: SystemTime) -> Result<(), StoreError> {
        self.db.connection().execute(
            "UPDATE outbox SET delivered_ns = ?2 WHERE seq = ?1",
            params![id.0, to_nanos(now)],
        )?;
        Ok(())
    }

    /// Records a failed attempt at `id`: it is tried again at `next`.
    ///
    /// # Errors
    /// The database cannot be written.
    pub fn retry_at(
        &self,
        id: DeliveryId,
        next: SystemTime,
        error: &str,
    ) -> Result<(), StoreError> {
        self.db.connection().execute(
            "UPDATE outbox SET attempts = attempts + 1, next_ns = ?2, last_error = ?3
             WHERE seq = ?1",
            params![id.0, to_nanos(next), clip(error)],
        )?;
        Ok(())
    }

    /// Records that the target refused `id` for good at `now`: it is never tried again.
    ///
    /// # Errors
    /// The database cannot be written.
    pub fn failed(&self, id: DeliveryId, now: SystemTime, error: &str) -> Result<(), StoreError> {
        self.db.connection().execute(
            "UPDATE outbox SET attempts = attempts + 1, failed_ns = ?2, last_error = ?3
             WHERE seq = ?1",
            params![id.0, to_nanos(now), clip(error)],
        )?;
        Ok(())
    }

    /// Deletes delivered and failed messages settled before `now - keep_for`, and any
    /// beyond the newest `keep_at_most` of them. Pending messages are never pruned.
    /// Returns how many were deleted.
    ///
    /// # Errors
    /// The database cannot be written.
    pub fn prune(
        &self,
        now: SystemTime,
        keep_for: Duration,
        keep_at_most: usize,
    ) -> Result<usize, StoreError> {
        let before = to_nanos(now.checked_sub(keep_for).unwrap_or(SystemTime::UNIX_EPOCH));
        let keep = i64::try_from(keep_at_most).unwrap_or(i64::MAX);
        Ok(self.db.connection().execute(
            "DELETE FROM outbox
             WHERE (delivered_ns IS NOT NULL OR failed_ns IS NOT NULL)
               AND (COALESCE(delivered_ns, failed_ns) < ?1
                    OR seq NOT IN (SELECT seq FROM outbox
                                   WHERE delivered_ns IS NOT NULL OR failed_ns IS NOT NULL
                                   ORDER BY seq DESC LIMIT ?2))",
            params![before, keep],
        )?)
    }

    /// How many messages of `target` (or of every target) are in each state.
    ///
    /// # Errors
    /// The database cannot be read.
    pub fn counts(&self, target: Option<&str>) -> Result<OutboxCounts, StoreError> {
        Ok(self.db.connection().query_row(
            "SELECT
                 COUNT(*) FILTER (WHERE delivered_ns IS NULL AND failed_ns IS NULL),
                 COUNT(*) FILTER (WHERE delivered_ns IS NOT NULL),
                 COUNT(*) FILTER (WHERE failed_ns IS NOT NULL)
             FROM outbox WHERE ?1 IS NULL OR target = ?1",
            params![target],
            |row| {
                let n = |i: usize| row.get::<_, i64>(i).map(|n| n.max(0).unsigned_abs());
                Ok(OutboxCounts {
                    pending: n(0)?,
                    delivered: n(1)?,
                    failed: n(2)?,
                })
            },
        )?)
    }

    /// The targets with pending messages, and how many each has.
    ///
    /// # Errors
    /// The database cannot be read.
    pub fn pending_by_target(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let connection = self.db.connection();
        let mut query = connection.prepare(
            "SELECT target, COUNT(*) FROM outbox
             WHERE delivered_ns IS NULL AND failed_ns IS NULL
             GROUP BY target ORDER BY target",
        )?;
        let rows = query.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?.max(0).unsigned_abs(),
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// `error`, cut to [`MAX_ERROR_CHARS`].
fn clip(error: &str) -> String {
    match error.char_indices().nth(MAX_ERROR_CHARS) {
        Some((end, _)) => format!("{}…", &error[..end]),
        None => error.to_owned(),
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn message(target: &str, event: &str, body: &str) -> NewMessage {
        NewMessage {
            target: target.into(),
            event: event.into(),
            body: body.into(),
        }
    }

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
    }

    #[test]
    fn each_target_gets_its_messages_in_order_and_they_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut outbox = Outbox::new(Database::open(dir.path()).unwrap());
        let ids = outbox
            .enqueue(
                &[
                    message("chat", "started", "{\"text\":\"1\"}"),
                    message("ops", "started", "{\"event\":\"started\"}"),
                    message("chat", "segment", "{\"text\":\"2\"}"),
                ],
                at(0),
            )
            .unwrap();
        assert_eq!(ids.len(), 3);
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        drop(outbox);

        // A restart: the rows are on disk.
        let outbox = Outbox::new(Database::open(dir.path()).unwrap());
        let head = outbox.head("chat").unwrap().unwrap();
        assert_eq!(
            (head.id, head.event.as_str(), head.body.as_str()),
            (ids[0], "started", "{\"text\":\"1\"}")
        );
        assert_eq!((head.attempts, head.created, head.next), (0, at(0), at(0)));
        outbox.delivered(head.id, at(1)).unwrap();
        let head = outbox.head("chat").unwrap().unwrap();
        assert_eq!((head.id, head.event.as_str()), (ids[2], "segment"));
        assert_eq!(outbox.head("ops").unwrap().unwrap().id, ids[1]);
        assert_eq!(outbox.head("nobody").unwrap(), None);
        assert_eq!(
            outbox.counts(None).unwrap(),
            OutboxCounts {
                pending: 2,
                delivered: 1,
                failed: 0
            }
        );
        assert_eq!(
            outbox.pending_by_target().unwrap(),
            vec![("chat".to_owned(), 1), ("ops".to_owned(), 1)]
        );
    }

    #[test]
    fn a_retried_message_stays_at_the_head_and_a_failed_one_lets_the_next_go() {
        let dir = tempfile::tempdir().unwrap();
        let mut outbox = Outbox::new(Database::open(dir.path()).unwrap());
        let ids = outbox
            .enqueue(
                &[
                    message("chat", "started", "a"),
                    message("chat", "segment", "b"),
                ],
                at(0),
            )
            .unwrap();
        outbox
            .retry_at(ids[0], at(2), "connection refused")
            .unwrap();
        outbox.retry_at(ids[0], at(6), "HTTP 503").unwrap();
        let head = outbox.head("chat").unwrap().unwrap();
        assert_eq!(head.id, ids[0]);
        assert_eq!((head.attempts, head.next), (2, at(6)));
        assert_eq!(head.last_error.as_deref(), Some("HTTP 503"));

        outbox
            .failed(ids[0], at(7), &"HTTP 404: no_team ".repeat(100))
            .unwrap();
        assert_eq!(outbox.head("chat").unwrap().unwrap().id, ids[1]);
        let (failed, error): (i64, String) = outbox
            .db
            .connection()
            .query_row(
                "SELECT failed_ns, last_error FROM outbox WHERE seq = ?1",
                [ids[0].0],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(failed, to_nanos(at(7)));
        assert_eq!(error.chars().count(), MAX_ERROR_CHARS + 1, "clipped");
        assert_eq!(outbox.counts(Some("chat")).unwrap().failed, 1);
    }

    #[test]
    fn pruning_keeps_pending_messages_and_the_newest_settled_ones() {
        let dir = tempfile::tempdir().unwrap();
        let mut outbox = Outbox::new(Database::open(dir.path()).unwrap());
        let batch: Vec<_> = (0..10)
            .map(|i| message("chat", "segment", &i.to_string()))
            .collect();
        let ids = outbox.enqueue(&batch, at(0)).unwrap();
        // 0–2 settled long ago, 3–7 recently, 8–9 still pending.
        for id in &ids[..3] {
            outbox.delivered(*id, at(10)).unwrap();
        }
        outbox.failed(ids[3], at(1_000), "HTTP 410").unwrap();
        for id in &ids[4..8] {
            outbox.delivered(*id, at(1_000)).unwrap();
        }
        let week = Duration::from_secs(500);
        assert_eq!(outbox.prune(at(1_000), week, 100).unwrap(), 3, "too old");
        assert_eq!(outbox.prune(at(1_000), week, 3).unwrap(), 2, "too many");
        assert_eq!(
            outbox.counts(None).unwrap(),
            OutboxCounts {
                pending: 2,
                delivered: 3,
                failed: 0
            }
        );
        assert_eq!(outbox.prune(at(1_000), week, 0).unwrap(), 3);
        assert_eq!(outbox.head("chat").unwrap().unwrap().id, ids[8]);
        // The ids of pruned rows are never given out again.
        let next = outbox
            .enqueue(&[message("chat", "finished", "x")], at(1_001))
            .unwrap();
        assert!(next[0] > ids[9]);
    }

    #[test]
    fn an_empty_batch_is_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut outbox = Outbox::new(Database::open(dir.path()).unwrap());
        assert!(outbox.enqueue(&[], at(0)).unwrap().is_empty());
        assert_eq!(outbox.counts(None).unwrap(), OutboxCounts::default());
    }
}
