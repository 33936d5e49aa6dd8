//! The session journal on SQLite: [`SqliteJournal`] is the conductor's
//! [`Journal`] (every entry committed durably before the change
//! it records is acknowledged), and [`HistoryReader`] reads sessions back for resume and
//! the debrief.
//!
//! Each entry is one row holding its JSON; the `sessions` table is only an index (plan
//! name, start, end) so the history list does not read every row.

use std::time::SystemTime;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::db::{Database, SharedDatabase};
use super::error::StoreError;
use crate::session::record::utc_nanos::{from_nanos, to_nanos};
use crate::session::{
    Action, Journal, JournalEntry, JournalError, SessionId, SessionRecord, rfc3339,
};

/// The conductor's journal: one connection, written from one task.
pub struct SqliteJournal {
    db: Database,
}

impl SqliteJournal {
    /// The journal in `db`.
    #[must_use]
    pub fn new(db: Database) -> SqliteJournal {
        SqliteJournal { db }
    }

    /// The newest session that has not finished, if any: the one to resume.
    pub fn unfinished(&self) -> Result<Option<SessionRecord>, StoreError> {
        let id: Option<String> = self
            .db
            .connection()
            .query_row(
                "SELECT id FROM sessions WHERE finished_ns IS NULL
                 ORDER BY started_ns DESC LIMIT 1",
                [],
                |row| row.get(0),
            )
            .optional()?;
        match id {
            None => Ok(None),
            Some(id) => read_record(self.db.connection(), &parse_id(&id)?).map(Some),
        }
    }

    /// The last sign of life written ([`Journal::alive`]), if any.
    pub fn last_alive(&self) -> Result<Option<SystemTime>, StoreError> {
        let nanos: Option<i64> = self
            .db
            .connection()
            .query_row("SELECT utc_ns FROM alive WHERE one = 1", [], |row| {
                row.get(0)
            })
            .optional()?;
        Ok(nanos.map(from_nanos))
    }

    fn write(&mut self, entry: &JournalEntry) -> Result<(), StoreError> {
        let json = serde_json::to_string(entry)
            .map_err(|e| StoreError::Corrupt(format!("cannot encode an entry: {e}")))?;
        let tx = self.db.connection_mut().transaction()?;
        let utc = to_nanos(entry.utc);
        match &entry.action {
            Action::Started { plan, .. } => {
                let started = to_nanos(
                    entry
                        .utc
                        .checked_sub(entry.at.as_duration(crate::session::SESSION_RATE))
                        .unwrap_or(entry.utc),
                );
                tx.execute(
                    "INSERT INTO sessions (id, plan_name, started_by, started_ns)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![
                        entry.session.as_str(),
                        plan.name(),
                        entry.actor.as_str(),
                        started
                    ],
                )?;
            }
            Action::Finished { ending } => {
                tx.execute(
                    "UPDATE sessions SET finished_ns = ?2, ending = ?3 WHERE id = ?1",
                    params![
                        entry.session.as_str(),
                        utc,
                        serde_json::to_value(ending)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                    ],
                )?;
            }
            _ => {}
        }
        tx.execute(
            "INSERT INTO journal (session, at, utc_ns, actor, action, entry)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                entry.session.as_str(),
                i64::try_from(entry.at.0).unwrap_or(i64::MAX),
                utc,
                entry.actor.as_str(),
                entry.action.name(),
                json
            ],
        )?;
        tx.commit()?;
        Ok(())
    }
}

impl Journal for SqliteJournal {
    fn record(&mut self, entry: &JournalEntry) -> Result<(), JournalError> {
        self.write(entry).map_err(JournalError::from)
    }

    fn alive(&mut self, utc: SystemTime) {
        let result = self.db.connection().execute(
            "INSERT INTO alive (one, utc_ns) VALUES (1, ?1)
             ON CONFLICT (one) DO UPDATE SET utc_ns = excluded.utc_ns",
            params![to_nanos(utc)],
        );
        if let Err(error) = result {
            tracing::debug!("cannot note that the server is alive: {error}");
        }
    }
}

/// The journal of a data dir whose database cannot be opened (read-only, full): the
/// server still serves (cues, the page), and every change to a session is refused with
/// the reason (507) rather than made without a record.
pub struct UnwritableJournal {
    why: String,
}

impl UnwritableJournal {
    /// A journal that refuses everything, saying `why`.
    #[must_use]
    pub fn new(why: String) -> UnwritableJournal {
        UnwritableJournal { why }
    }
}

impl Journal for UnwritableJournal {
    fn record(&mut self, _entry: &JournalEntry) -> Result<(), JournalError> {
        Err(JournalError::Full(self.why.clone()))
    }
}

/// One line of the history list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionSummary {
    /// The session's id.
    pub id: SessionId,
    /// Its plan's name.
    pub plan: String,
    /// Who started it.
    pub started_by: String,
    /// When its buka began, UTC.
    pub started: String,
    /// When it ended, UTC; absent while it runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished: Option<String>,
    /// How it ended (`completed`, `stopped`, `ended_while_down`); absent while it runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ending: Option<String>,
}

/// Reads the journal for the history routes and `gongan history`: its own connection,
/// so readers never wait for the conductor's writes (WAL).
pub struct HistoryReader {
    db: SharedDatabase,
}

impl HistoryReader {
    /// A reader on `db`.
    #[must_use]
    pub fn new(db: Database) -> HistoryReader {
        HistoryReader {
            db: SharedDatabase::new(db),
        }
    }

    /// A reader for a data dir whose database cannot be opened (read-only, full): every
    /// read says why.
    #[must_use]
    pub fn unavailable(why: String) -> HistoryReader {
        HistoryReader {
            db: SharedDatabase::unavailable(why),
        }
    }

    fn db(&self) -> Result<std::sync::MutexGuard<'_, Database>, StoreError> {
        self.db.lock()
    }

    /// Sessions newest first: at most `limit`, started before session `before` if given.
    pub fn list(
        &self,
        limit: usize,
        before: Option<&SessionId>,
    ) -> Result<Vec<SessionSummary>, StoreError> {
        let db = self.db()?;
        let connection = db.connection();
        let before_ns: i64 = match before {
            None => i64::MAX,
            Some(id) => connection
                .query_row(
                    "SELECT started_ns FROM sessions WHERE id = ?1",
                    params![id.as_str()],
                    |row| row.get(0),
                )
                .optional()?
                .ok_or_else(|| no_session(id))?,
        };
        let mut statement = connection.prepare_cached(
            "SELECT id, plan_name, started_by, started_ns, finished_ns, ending FROM sessions
             WHERE started_ns < ?1 ORDER BY started_ns DESC, id DESC LIMIT ?2",
        )?;
        let rows = statement.query_map(
            params![before_ns, i64::try_from(limit).unwrap_or(i64::MAX)],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, i64>(3)?,
                    row.get::<_, Option<i64>>(4)?,
                    row.get::<_, Option<String>>(5)?,
                ))
            },
        )?;
        let mut sessions = Vec::new();
        for row in rows {
            let (id, plan, started_by, started, finished, ending) = row?;
            sessions.push(SessionSummary {
                id: parse_id(&id)?,
                plan,
                started_by,
                started: rfc3339(from_nanos(started)),
                finished: finished.map(|ns| rfc3339(from_nanos(ns))),
                ending,
            });
        }
        Ok(sessions)
    }

    /// One session, every entry of it.
    pub fn record(&self, id: &SessionId) -> Result<SessionRecord, StoreError> {
        read_record(self.db()?.connection(), id)
    }
}

fn no_session(id: &SessionId) -> StoreError {
    StoreError::NotFound(format!(
        "no session {id} in the history; GET /v1/history lists them"
    ))
}

fn parse_id(id: &str) -> Result<SessionId, StoreError> {
    SessionId::parse(id).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn read_record(connection: &Connection, id: &SessionId) -> Result<SessionRecord, StoreError> {
    let mut statement =
        connection.prepare_cached("SELECT entry FROM journal WHERE session = ?1 ORDER BY seq")?;
    let rows = statement.query_map(params![id.as_str()], |row| row.get::<_, String>(0))?;
    let mut entries = Vec::new();
    for row in rows {
        let json = row?;
        let entry: JournalEntry = serde_json::from_str(&json)
            .map_err(|e| StoreError::Corrupt(format!("session {id}: a journal entry: {e}")))?;
        entries.push(entry);
    }
    SessionRecord::from_entries(entries)
        .map_err(|e| StoreError::Corrupt(e.to_string()))?
        .ok_or_else(|| no_session(id))
}

#[cfg(test)]
mod test {
    use std::time::Duration;

    use super::*;
    use crate::audio::Frame;
    use crate::session::{Actor, Ending, Steer, ValidPlan};

    fn plan() -> ValidPlan {
        ValidPlan::from_toml(
            "name = \"drill\"\n[[segments]]\ntitle = \"a\"\nduration = \"1m\"\nform = \"lancaran\"\n",
        )
        .unwrap()
    }

    fn entry(id: &SessionId, at: u64, actor: &str, action: Action) -> JournalEntry {
        JournalEntry {
            session: id.clone(),
            at: Frame(at),
            utc: SystemTime::UNIX_EPOCH
                + Duration::from_secs(1_795_339_800)
                + Frame(at).as_duration(48_000),
            actor: Actor::new(actor).unwrap(),
            action,
        }
    }

    #[test]
    fn entries_survive_reopening_and_fold_into_the_session() {
        let dir = tempfile::tempdir().unwrap();
        let id = SessionId::parse("20261122-093000-0001").unwrap();
        {
            let mut journal = SqliteJournal::new(Database::open(dir.path()).unwrap());
            journal
                .record(&entry(
                    &id,
                    0,
                    "page",
                    Action::Started {
                        plan: plan(),
                        speed: 1.0,
                    },
                ))
                .unwrap();
            journal
                .record(&entry(
                    &id,
                    96_000,
                    "cli:ana",
                    Action::Steered {
                        steer: Steer::Pause { at: Frame(96_000) },
                    },
                ))
                .unwrap();
            journal.alive(SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_339_810));
        }
        let journal = SqliteJournal::new(Database::open(dir.path()).unwrap());
        let record = journal
            .unfinished()
            .unwrap()
            .expect("an unfinished session");
        assert_eq!(record.id, id);
        assert_eq!(
            record.steering.events(),
            &[Steer::Pause { at: Frame(96_000) }]
        );
        assert_eq!(record.log[1].actor.as_str(), "cli:ana");
        assert_eq!(
            journal.last_alive().unwrap(),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_339_810))
        );
    }

    #[test]
    fn a_finished_session_is_history_not_resumed() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = SqliteJournal::new(Database::open(dir.path()).unwrap());
        let ids: Vec<SessionId> = ["20261122-093000-0001", "20261122-100000-0002"]
            .iter()
            .map(|s| SessionId::parse(s).unwrap())
            .collect();
        for (n, id) in ids.iter().enumerate() {
            let mut start = entry(
                id,
                0,
                "page",
                Action::Started {
                    plan: plan(),
                    speed: 1.0,
                },
            );
            start.utc += Duration::from_secs(3600 * n as u64);
            journal.record(&start).unwrap();
            let mut end = entry(
                id,
                48_000 * 60,
                "server",
                Action::Finished {
                    ending: Ending::Completed,
                },
            );
            end.utc += Duration::from_secs(3600 * n as u64);
            journal.record(&end).unwrap();
        }
        assert_eq!(journal.unfinished().unwrap(), None);
        let reader = HistoryReader::new(Database::open(dir.path()).unwrap());
        let list = reader.list(10, None).unwrap();
        assert_eq!(
            list.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
            vec![ids[1].clone(), ids[0].clone()],
            "newest first"
        );
        assert_eq!(list[0].ending.as_deref(), Some("completed"));
        assert_eq!(reader.list(10, Some(&ids[1])).unwrap().len(), 1);
        assert_eq!(reader.list(1, None).unwrap().len(), 1);
        assert!(matches!(
            reader.record(&SessionId::parse("20261122-110000-0003").unwrap()),
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(reader.record(&ids[0]).unwrap().log.len(), 2);
    }

    #[test]
    fn a_journal_in_a_read_only_dir_says_the_disk_cannot_take_it() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(dir.path()).unwrap();
        db.connection()
            .execute_batch("PRAGMA query_only = ON")
            .unwrap();
        let mut journal = SqliteJournal::new(db);
        let id = SessionId::parse("20261122-093000-0001").unwrap();
        let error = journal
            .record(&entry(
                &id,
                0,
                "page",
                Action::Started {
                    plan: plan(),
                    speed: 1.0,
                },
            ))
            .unwrap_err();
        assert!(matches!(error, JournalError::Full(_)), "{error:?}");
    }
}
