//! Capability links in the database (migration 2): [`LinkStore`] makes, lists, finds and
//! revokes them.
//!
//! A link is a name, a fixed list of [`Permission`]s and a secret. The secret is 32 bytes
//! from the operating system's CSPRNG, handed out once (as 64 hex digits, in the link's
//! URL) and never stored: the table keeps its SHA-256, and a link is found by hashing what
//! a caller presents and looking the hash up. That lookup compares hashes, not secrets, so
//! how long it takes tells a guesser nothing about any secret (finding a secret from its
//! hash is a preimage attack on SHA-256), and a copy of the database does not give
//! anyone a working URL.
//!
//! A revoked link keeps its row (who made it, when it was revoked) and stops working at
//! once; its name can be given to a new link. The CLI writes this table directly while a
//! server runs on the same data dir: SQLite's write-ahead log shows the server each
//! committed change on its next lookup.

use std::fmt;
use std::sync::MutexGuard;
use std::time::SystemTime;

use rusqlite::{ErrorCode, OptionalExtension, TransactionBehavior, params};
use sha2::{Digest, Sha256};
use thiserror::Error;

use super::db::{Database, SharedDatabase};
use super::error::StoreError;
use crate::command::Permission;
use crate::session::Actor;
use crate::session::record::utc_nanos::{from_nanos, to_nanos};
use crate::session::rfc3339;

/// The longest link name.
pub const MAX_NAME: usize = 64;
/// Random bytes in a secret.
const SECRET_BYTES: usize = 32;
/// Hex digits in a secret as it appears in a URL.
pub const SECRET_CHARS: usize = SECRET_BYTES * 2;

/// A link's name: 1–64 lowercase letters, digits and single hyphens (like a plan's id),
/// so it reads well in a terminal, a URL and the actor `link:NAME`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkName(String);

/// Why a text is not a [`LinkName`].
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error(
    "{0:?} is not a link name: use 1–{MAX_NAME} lowercase letters, digits and single hyphens, like \"stream-deck\""
)]
pub struct LinkNameError(pub String);

impl LinkName {
    /// Checks `name` (see the type's docs).
    ///
    /// # Errors
    /// [`LinkNameError`] quoting it.
    pub fn parse(name: &str) -> Result<LinkName, LinkNameError> {
        let ok = (1..=MAX_NAME).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !name.starts_with('-')
            && !name.ends_with('-')
            && !name.contains("--");
        if ok {
            Ok(LinkName(name.to_owned()))
        } else {
            Err(LinkNameError(name.to_owned()))
        }
    }

    /// The name as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Who acts when the link is used: `link:NAME`.
    #[must_use]
    pub fn actor(&self) -> Actor {
        Actor::new(&format!("link:{}", self.0)).expect("link:NAME is at most 69 plain characters")
    }
}

impl fmt::Display for LinkName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new link's secret, as it goes into its URL: 64 lowercase hex digits. Exists only
/// between [`LinkStore::create`] and showing it to the person who asked; its `Debug` does
/// not print it, so it cannot end up in a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkSecret(String);

impl LinkSecret {
    fn generate() -> Result<LinkSecret, getrandom::Error> {
        let mut bytes = [0u8; SECRET_BYTES];
        getrandom::fill(&mut bytes)?;
        Ok(LinkSecret(hex::encode(bytes)))
    }

    /// The secret, to show once.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The path of the link's URL, `/l/SECRET` (an action goes after it).
    #[must_use]
    pub fn url_path(&self) -> String {
        format!("/l/{}", self.0)
    }

    /// The path of the listener page, `/listen/SECRET` (for a link that may `listen`).
    #[must_use]
    pub fn listen_path(&self) -> String {
        format!("/listen/{}", self.0)
    }
}

impl fmt::Debug for LinkSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkSecret(…)")
    }
}

/// Whether `text` has the shape of a secret [`LinkSecret`] hands out, so a mistyped URL
/// need not reach the database.
#[must_use]
pub fn looks_like_secret(text: &str) -> bool {
    text.len() == SECRET_CHARS
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// What the table keeps of a secret: SHA-256, in hex.
fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A live link as it is listed: everything but its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    /// Its name.
    pub name: LinkName,
    /// What it may do, sorted, without repeats.
    pub allow: Vec<Permission>,
    /// When it was made, UTC (RFC 3339).
    pub created: String,
    /// Who made it (`cli:ana`, `api`…).
    pub created_by: String,
}

/// A link found by its secret: who acts through it, and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Its name.
    pub name: LinkName,
    /// What it may do.
    pub allow: Vec<Permission>,
}

impl Link {
    /// Whether it may do what `needed` names (`cue` allows every `cue:X`). A listen-only
    /// link allows no command.
    #[must_use]
    pub fn allows(&self, needed: &Permission) -> bool {
        self.allow.iter().any(|held| held.allows(needed))
    }
}

/// A link just made: what is listed, and the secret, shown this once.
#[derive(Debug, Clone)]
pub struct CreatedLink {
    /// The link.
    pub info: LinkInfo,
    /// Its secret.
    pub secret: LinkSecret,
}

/// Why a link was not made. Nothing was written.
#[derive(Debug, Error)]
pub enum CreateError {
    /// A live link already has this name.
    #[error("a link named '{0}' already exists: revoke it first, or choose another name")]
    Taken(LinkName),
    /// An empty list of permissions: the link could do nothing.
    #[error("a link must be allowed at least one action")]
    NothingAllowed,
    /// The operating system gave no randomness for the secret.
    #[error("cannot make a secret: the operating system's random source failed ({0})")]
    NoRandomness(getrandom::Error),
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The links table, on its own connection (a lookup never waits for the journal's
/// writes). Blocking: call it from `spawn_blocking` in async code.
pub struct LinkStore {
    db: SharedDatabase,
}

impl LinkStore {
    /// The links in `db`.
    #[must_use]
    pub fn new(db: Database) -> LinkStore {
        LinkStore {
            db: SharedDatabase::new(db),
        }
    }

    /// The links of a data dir whose database cannot be opened (read-only, full): every
    /// call says why.
    #[must_use]
    pub fn unavailable(why: String) -> LinkStore {
        LinkStore {
            db: SharedDatabase::unavailable(why),
        }
    }

    fn db(&self) -> Result<MutexGuard<'_, Database>, StoreError> {
        self.db.lock()
    }

    /// Makes a link named `name` that may do `allow`, made by `by`, with a new secret.
    ///
    /// # Errors
    /// [`CreateError::Taken`] when a live link has the name (checked and written in one
    /// write transaction, so two makers racing, a CLI and a server, cannot both win);
    /// [`CreateError::NothingAllowed`]; the store's errors (a full disk:
    /// [`StoreError::Full`]).
    pub fn create(
        &self,
        name: &LinkName,
        allow: &[Permission],
        by: &Actor,
    ) -> Result<CreatedLink, CreateError> {
        let mut allow = allow.to_vec();
        allow.sort();
        allow.dedup();
        if allow.is_empty() {
            return Err(CreateError::NothingAllowed);
        }
        let secret = LinkSecret::generate().map_err(CreateError::NoRandomness)?;
        let now = SystemTime::now();
        let mut db = self.db()?;
        let tx = db
            .connection_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let taken = tx
            .query_row(
                "SELECT 1 FROM links WHERE name = ?1 AND revoked_ns IS NULL",
                params![name.as_str()],
                |_| Ok(()),
            )
            .optional()
            .map_err(StoreError::from)?
            .is_some();
        if taken {
            return Err(CreateError::Taken(name.clone()));
        }
        let inserted = tx.execute(
            "INSERT INTO links (name, secret_hash, allow, created_ns, created_by)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                name.as_str(),
                hash(secret.expose()),
                allow_text(&allow),
                to_nanos(now),
                by.as_str()
            ],
        );
        match inserted {
            Ok(_) => {}
            // The live-name index refuses a duplicate whatever the check above saw: the
            // same answer.
            Err(error) if error.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {
                return Err(CreateError::Taken(name.clone()));
            }
            Err(error) => return Err(StoreError::from(error).into()),
        }
        tx.commit().map_err(StoreError::from)?;
        Ok(CreatedLink {
            info: LinkInfo {
                name: name.clone(),
                allow,
                created: rfc3339(now),
                created_by: by.as_str().to_owned(),
            },
            secret,
        })
    }

    /// The live links, by name.
    ///
    /// # Errors
    /// The store's; [`StoreError::Corrupt`] for a row gongan did not write.
    pub fn list(&self) -> Result<Vec<LinkInfo>, StoreError> {
        let db = self.db()?;
        let mut statement = db.connection().prepare_cached(
            "SELECT name, allow, created_ns, created_by FROM links
             WHERE revoked_ns IS NULL ORDER BY name",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, String>(3)?,
            ))
        })?;
        let mut links = Vec::new();
        for row in rows {
            let (name, allow, created, created_by) = row?;
            let name = read_name(&name)?;
            let allow = read_allow(&name, &allow)?;
            links.push(LinkInfo {
                name,
                allow,
                created: rfc3339(from_nanos(created)),
                created_by,
            });
        }
        Ok(links)
    }

    /// Revokes the live link named `name`: its URL stops working at once.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when no live link has the name; the store's.
    pub fn revoke(&self, name: &LinkName) -> Result<(), StoreError> {
        let db = self.db()?;
        let changed = db.connection().execute(
            "UPDATE links SET revoked_ns = ?2 WHERE name = ?1 AND revoked_ns IS NULL",
            params![name.as_str(), to_nanos(SystemTime::now())],
        )?;
        if changed == 0 {
            return Err(StoreError::NotFound(format!("no link named '{name}'")));
        }
        Ok(())
    }

    /// The live link whose secret is `secret`, if any (`None` for an unknown, malformed
    /// or revoked one alike).
    ///
    /// # Errors
    /// The store's; [`StoreError::Corrupt`] for a row gongan did not write.
    pub fn find(&self, secret: &str) -> Result<Option<Link>, StoreError> {
        if !looks_like_secret(secret) {
            return Ok(None);
        }
        let db = self.db()?;
        let found: Option<(String, String)> = db
            .connection()
            .prepare_cached(
                "SELECT name, allow FROM links WHERE secret_hash = ?1 AND revoked_ns IS NULL",
            )?
            .query_row(params![hash(secret)], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        let Some((name, allow)) = found else {
            return Ok(None);
        };
        let name = read_name(&name)?;
        let allow = read_allow(&name, &allow)?;
        Ok(Some(Link { name, allow }))
    }
}

/// How the table keeps a list of permissions: `cue:gong,next,pause`.
fn allow_text(allow: &[Permission]) -> String {
    allow
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn read_name(name: &str) -> Result<LinkName, StoreError> {
    LinkName::parse(name).map_err(|e| StoreError::Corrupt(format!("a link's name: {e}")))
}

fn read_allow(name: &LinkName, allow: &str) -> Result<Vec<Permission>, StoreError> {
    Permission::parse_list(allow).map_err(|e| {
        StoreError::Corrupt(format!("link '{name}' has an unreadable allow list: {e}"))
    })
}

#[cfg(test)]
mod test {
    use super::*;

    fn store(dir: &std::path::Path) -> LinkStore {
        LinkStore::new(Database::open(dir).unwrap())
    }

    fn name(text: &str) -> LinkName {
        LinkName::parse(text).unwrap()
    }

    fn by() -> Actor {
        Actor::new("cli:ana").unwrap()
    }

    #[test]
    fn a_link_is_found_by_its_secret_and_listed_without_it() {
        let dir = tempfile::tempdir().unwrap();
        let links = store(dir.path());
        let allow = Permission::parse_list("pause,next,cue:gong").unwrap();
        let created = links.create(&name("deck"), &allow, &by()).unwrap();
        let secret = created.secret.expose().to_owned();
        assert!(looks_like_secret(&secret), "{secret}");
        assert_eq!(created.secret.url_path(), format!("/l/{secret}"));
        assert!(
            !format!("{created:?}").contains(&secret),
            "Debug shows no secret"
        );
        assert_eq!(
            created.info.allow,
            [
                Permission::Cue(Some("gong".into())),
                Permission::Next,
                Permission::Pause
            ]
        );
        assert_eq!(created.info.created_by, "cli:ana");
        assert!(created.info.created.ends_with('Z'));

        let found = links.find(&secret).unwrap().expect("the link");
        assert_eq!(found.name, name("deck"));
        assert_eq!(found.name.actor().as_str(), "link:deck");
        assert!(found.allows(&Permission::Next));
        assert!(found.allows(&Permission::Cue(Some("gong".into()))));
        assert!(!found.allows(&Permission::Cue(Some("kenong".into()))));
        assert!(!found.allows(&Permission::Stop));

        assert_eq!(links.list().unwrap(), vec![created.info]);
        // A second connection (the CLI's, beside a server's) sees the same.
        assert_eq!(store(dir.path()).find(&secret).unwrap(), Some(found));
    }

    #[test]
    fn wrong_malformed_and_revoked_secrets_find_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let links = store(dir.path());
        let created = links
            .create(&name("deck"), &[Permission::Next], &by())
            .unwrap();
        let secret = created.secret.expose().to_owned();
        let mut wrong = secret.clone();
        let last = if wrong.ends_with('0') { "1" } else { "0" };
        wrong.replace_range(SECRET_CHARS - 1.., last);
        for other in [
            wrong.as_str(),
            "",
            "deck",
            &secret.to_uppercase(),
            &secret[1..],
            &format!("{secret}0"),
            &hash(&secret),
        ] {
            assert_eq!(links.find(other).unwrap(), None, "{other:?}");
        }
        links.revoke(&name("deck")).unwrap();
        assert_eq!(links.find(&secret).unwrap(), None);
        assert!(links.list().unwrap().is_empty());
        assert!(matches!(
            links.revoke(&name("deck")),
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            links.revoke(&name("never")),
            Err(StoreError::NotFound(_))
        ));
    }

    #[test]
    fn a_live_name_is_taken_until_revoked_and_secrets_differ() {
        let dir = tempfile::tempdir().unwrap();
        let links = store(dir.path());
        let first = links
            .create(&name("deck"), &[Permission::Next], &by())
            .unwrap();
        let again = links.create(&name("deck"), &[Permission::Pause], &by());
        assert!(
            matches!(&again, Err(CreateError::Taken(n)) if n.as_str() == "deck"),
            "{again:?}"
        );
        links.revoke(&name("deck")).unwrap();
        let second = links
            .create(&name("deck"), &[Permission::Pause], &by())
            .unwrap();
        assert_ne!(first.secret, second.secret);
        // The old URL stays dead; the new one works with the new permissions.
        assert_eq!(links.find(first.secret.expose()).unwrap(), None);
        let found = links.find(second.secret.expose()).unwrap().unwrap();
        assert_eq!(found.allow, [Permission::Pause]);
        assert!(matches!(
            links.create(&name("empty"), &[], &by()),
            Err(CreateError::NothingAllowed)
        ));
    }

    #[test]
    fn only_the_hash_of_a_secret_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let links = store(dir.path());
        let created = links
            .create(&name("deck"), &[Permission::Listen], &by())
            .unwrap();
        let secret = created.secret.expose().to_owned();
        drop(links);
        // The database and its write-ahead log, byte for byte.
        let mut files = 0;
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            files += 1;
            assert!(
                !bytes.windows(SECRET_CHARS).any(|w| w == secret.as_bytes()),
                "the secret is in the data dir in clear text"
            );
        }
        assert!(files >= 1);
        let stored: String = Database::open(dir.path())
            .unwrap()
            .connection()
            .query_row("SELECT secret_hash FROM links", [], |r| r.get(0))
            .unwrap();
        assert_eq!(stored, hash(&secret));
        assert_eq!(stored.len(), 64);
    }

    #[test]
    fn a_listen_only_link_allows_no_command() {
        let link = Link {
            name: name("room"),
            allow: vec![Permission::Listen],
        };
        for text in [
            "next",
            "gong",
            "status",
            "help",
            "pause",
            "+2m",
            "start drill",
        ] {
            let needed = crate::command::Command::parse(text).unwrap().permission();
            assert!(!link.allows(&needed), "{text}");
        }
    }

    #[test]
    fn link_names_are_like_plan_ids() {
        for good in ["deck", "stream-deck-2", "a", &"x".repeat(MAX_NAME)] {
            assert!(LinkName::parse(good).is_ok(), "{good:?}");
        }
        for bad in [
            "",
            "Deck",
            "-deck",
            "deck-",
            "de--ck",
            "de ck",
            "../x",
            "deck\u{1b}",
            &"x".repeat(MAX_NAME + 1),
        ] {
            let error = LinkName::parse(bad).unwrap_err();
            assert!(error.to_string().contains("not a link name"), "{error}");
        }
    }

    #[test]
    fn an_unavailable_store_says_why() {
        let links = LinkStore::unavailable("read-only file system".into());
        assert!(matches!(
            links.find(&"a".repeat(64)),
            Err(StoreError::Full(_))
        ));
        assert!(matches!(links.list(), Err(StoreError::Full(_))));
        assert!(matches!(
            links.create(&name("deck"), &[Permission::Next], &by()),
            Err(CreateError::Store(StoreError::Full(_)))
        ));
    }

    #[test]
    fn a_read_only_database_refuses_a_new_link_as_full() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(dir.path()).unwrap();
        db.connection()
            .execute_batch("PRAGMA query_only = ON")
            .unwrap();
        let links = LinkStore::new(db);
        let error = links
            .create(&name("deck"), &[Permission::Next], &by())
            .unwrap_err();
        assert!(
            matches!(error, CreateError::Store(StoreError::Full(_))),
            "{error:?}"
        );
    }
}
