//! [`Database`]: the one SQLite file in the data dir (`gongan.sqlite3`).
//!
//! WAL mode with `synchronous = FULL`: a commit returns after its WAL frames are on disk,
//! so a journal write that has returned survives a crash or a power cut, and readers (the
//! history routes) never block the writer (the conductor). The schema is versioned in code:
//! `PRAGMA user_version` counts the `MIGRATIONS` applied, each in its own transaction.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::error::StoreError;

/// The database's file name inside the data dir.
pub const FILE_NAME: &str = "gongan.sqlite3";

/// The schema, one step per version. Never edit a step that has shipped: add one.
const MIGRATIONS: &[&str] = &[
    // 1: the session journal. `sessions` is an index of the journal for the history list;
    // the journal rows are the record of truth (`entry` is the JSON of a JournalEntry).
    "CREATE TABLE sessions (
        id          TEXT PRIMARY KEY,
        plan_name   TEXT NOT NULL,
        started_by  TEXT NOT NULL,
        started_ns  INTEGER NOT NULL,
        finished_ns INTEGER,
        ending      TEXT
    );
    CREATE INDEX sessions_by_start ON sessions (started_ns DESC);
    CREATE TABLE journal (
        seq     INTEGER PRIMARY KEY AUTOINCREMENT,
        session TEXT NOT NULL REFERENCES sessions (id),
        at      INTEGER NOT NULL,
        utc_ns  INTEGER NOT NULL,
        actor   TEXT NOT NULL,
        action  TEXT NOT NULL,
        entry   TEXT NOT NULL
    );
    CREATE INDEX journal_by_session ON journal (session, seq);
    CREATE TABLE alive (
        one     INTEGER PRIMARY KEY CHECK (one = 1),
        utc_ns  INTEGER NOT NULL
    );",
    // 2: capability links. Only a hash of each secret is kept; a revoked link stays (who
    // made it, when it was revoked) but its name can be used again.
    "CREATE TABLE links (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        name        TEXT NOT NULL,
        secret_hash TEXT NOT NULL UNIQUE,
        allow       TEXT NOT NULL,
        created_ns  INTEGER NOT NULL,
        created_by  TEXT NOT NULL,
        revoked_ns  INTEGER
    );
    CREATE UNIQUE INDEX links_live_name ON links (name) WHERE revoked_ns IS NULL;",
    // 3: the notification outbox: each message to each target, kept until delivered, so
    // a restart or an unreachable chat loses none. `body` is what is POSTed; `seq` (never
    // reused: AUTOINCREMENT) is its delivery id. A message the target refused for good (a
    // 4xx other than 408/429) gets `failed_ns` and its `last_error` instead of
    // `delivered_ns`: kept for the record, never retried, and the next one goes on.
    "CREATE TABLE outbox (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        target       TEXT NOT NULL,
        event        TEXT NOT NULL,
        body         TEXT NOT NULL,
        created_ns   INTEGER NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        next_ns      INTEGER NOT NULL,
        delivered_ns INTEGER,
        failed_ns    INTEGER,
        last_error   TEXT
    );
    CREATE INDEX outbox_pending ON outbox (target, seq)
        WHERE delivered_ns IS NULL AND failed_ns IS NULL;",
    // 4: the deliveries the receivers took, so a tool's retry after a restart plays nothing
    // again. `key` is 16 bytes of the SHA-256 of source and delivery id; `seen_ns` when it
    // came (UTC). Rows older than the dedup window are pruned.
    "CREATE TABLE deliveries (
        key     BLOB PRIMARY KEY,
        seen_ns INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX deliveries_by_age ON deliveries (seen_ns);",
];

/// An open connection to the data dir's database.
pub struct Database {
    connection: Connection,
    path: PathBuf,
}

impl Database {
    /// Opens (creating if needed) the database in `data_dir` and brings its schema up to
    /// date.
    pub fn open(data_dir: &Path) -> Result<Database, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StoreError::Full(format!(
                "cannot create the data dir {}: {e}",
                data_dir.display()
            ))
        })?;
        let path = data_dir.join(FILE_NAME);
        let connection = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let mut db = Database { connection, path };
        db.configure()?;
        db.migrate()?;
        Ok(db)
    }

    fn configure(&mut self) -> Result<(), StoreError> {
        // A reader and the writer may briefly contend for the WAL index.
        self.connection.busy_timeout(Duration::from_secs(2))?;
        let mode: String = self
            .connection
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Database(format!(
                "{} cannot use write-ahead logging (journal mode {mode})",
                self.path.display()
            )));
        }
        self.connection.execute_batch(
            "PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;",
        )?;
        Ok(())
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let version: usize = self
            .connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))?;
        if version > MIGRATIONS.len() {
            return Err(StoreError::Database(format!(
                "{} was written by a newer gongan (schema {version}, this one knows {})",
                self.path.display(),
                MIGRATIONS.len()
            )));
        }
        for (step, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            let tx = self.connection.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", step + 1)?;
            tx.commit()?;
            tracing::debug!(version = step + 1, "database schema migrated");
        }
        Ok(())
    }

    /// The connection.
    #[must_use]
    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// The connection, for transactions.
    pub fn connection_mut(&mut self) -> &mut Connection {
        &mut self.connection
    }

    /// Where the file is.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version (migrations applied).
    pub fn schema_version(&self) -> Result<usize, StoreError> {
        Ok(self
            .connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))?)
    }
}

/// A connection of its own for one part of the store (history, links, deliveries), shared
/// by blocking callers, or why the data dir gave none (read-only, full): then every use
/// says why, as [`StoreError::Full`].
pub struct SharedDatabase(Result<Mutex<Database>, String>);

impl SharedDatabase {
    /// Shares `db`.
    #[must_use]
    pub fn new(db: Database) -> SharedDatabase {
        SharedDatabase(Ok(Mutex::new(db)))
    }

    /// No database, because of `why`.
    #[must_use]
    pub fn unavailable(why: String) -> SharedDatabase {
        SharedDatabase(Err(why))
    }

    /// The connection, once the other callers are done with it.
    ///
    /// # Errors
    /// [`StoreError::Full`] with the reason there is none.
    pub fn lock(&self) -> Result<MutexGuard<'_, Database>, StoreError> {
        match &self.0 {
            Ok(db) => Ok(db.lock().unwrap_or_else(PoisonError::into_inner)),
            Err(why) => Err(StoreError::Full(why.clone())),
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn a_new_database_is_migrated_once_and_uses_wal() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(dir.path()).unwrap();
        assert_eq!(db.schema_version().unwrap(), MIGRATIONS.len());
        let mode: String = db
            .connection()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        drop(db);
        // Opening again applies nothing twice (a second CREATE TABLE would fail).
        let again = Database::open(dir.path()).unwrap();
        assert_eq!(again.schema_version().unwrap(), MIGRATIONS.len());
    }

    #[test]
    fn a_database_from_a_newer_gongan_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(dir.path()).unwrap();
        db.connection()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        drop(db);
        let error = Database::open(dir.path()).err().unwrap();
        assert!(error.to_string().contains("newer gongan"), "{error}");
    }
}
