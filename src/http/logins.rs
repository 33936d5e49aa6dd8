//! [`Logins`]: the page's server-side login sessions. `POST /v1/login` trades the token
//! for a random session id in an HttpOnly, SameSite=Strict cookie; the server keeps only a
//! hash of each id with its expiry, so the cookie is never the token and a logout (or the
//! expiry) ends it. Failed logins are rate-limited for everyone at once: a guesser gets a
//! handful of tries a minute, not thousands a second.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// The name of the login cookie.
pub const SESSION_COOKIE: &str = "gongan_session";
/// How long a login lasts.
pub const LOGIN_LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// Failed logins allowed in a burst before the limit applies.
const FAILURE_BURST: f64 = 10.0;
/// Failed logins allowed per second, on average, after the burst.
const FAILURES_PER_SECOND: f64 = 0.2;
/// The most live logins kept (the oldest go first beyond it).
const MAX_LOGINS: usize = 1000;

/// A new login's id, to put in the cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginId(pub String);

/// Why a login attempt is refused before its token is even compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// When to try again.
    pub retry_after: Duration,
}

/// The live logins and the failed-login limiter.
pub struct Logins {
    inner: Mutex<Inner>,
    lifetime: Duration,
}

struct Inner {
    /// SHA-256 of each live id → when it expires.
    live: HashMap<[u8; 32], Instant>,
    /// Tokens in the failed-login bucket, and when it was last topped up.
    allowance: f64,
    topped_up: Instant,
}

impl Default for Logins {
    fn default() -> Logins {
        Logins::new(LOGIN_LIFETIME)
    }
}

impl Logins {
    /// No logins yet; each will last `lifetime`.
    #[must_use]
    pub fn new(lifetime: Duration) -> Logins {
        Logins {
            inner: Mutex::new(Inner {
                live: HashMap::new(),
                allowance: FAILURE_BURST,
                topped_up: Instant::now(),
            }),
            lifetime,
        }
    }

    /// How long a login lasts.
    #[must_use]
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// Whether an attempt may be made now. While failures are over the limit, every
    /// attempt is refused, the right token too: otherwise the limit would still let a
    /// guesser learn which token is right.
    ///
    /// # Errors
    /// [`Throttled`], with when to try again.
    pub fn may_attempt(&self, now: Instant) -> Result<(), Throttled> {
        let mut inner = self.lock();
        inner.top_up(now);
        if inner.allowance >= 1.0 {
            Ok(())
        } else {
            let wait = (1.0 - inner.allowance) / FAILURES_PER_SECOND;
            Err(Throttled {
                retry_after: Duration::from_secs_f64(wait.max(1.0)),
            })
        }
    }

    /// Counts a failed attempt against the limit.
    pub fn failed(&self, now: Instant) {
        let mut inner = self.lock();
        inner.top_up(now);
        inner.allowance = (inner.allowance - 1.0).max(0.0);
    }

    /// Starts a login: a new random id, valid until `now + lifetime`.
    ///
    /// # Errors
    /// The operating system has no randomness to give (nothing to do but report it).
    pub fn begin(&self, now: Instant) -> Result<LoginId, getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        let id = hex::encode(bytes);
        let mut inner = self.lock();
        inner.live.retain(|_, expires| *expires > now);
        if inner.live.len() >= MAX_LOGINS
            && let Some(oldest) = inner
                .live
                .iter()
                .min_by_key(|(_, expires)| **expires)
                .map(|(hash, _)| *hash)
        {
            inner.live.remove(&oldest);
        }
        inner.live.insert(hash(&id), now + self.lifetime);
        Ok(LoginId(id))
    }

    /// Whether `id` is a live login at `now`.
    #[must_use]
    pub fn is_live(&self, id: &str, now: Instant) -> bool {
        let key = hash(id);
        let mut inner = self.lock();
        match inner.live.get(&key) {
            Some(expires) if *expires > now => true,
            Some(_) => {
                inner.live.remove(&key);
                false
            }
            None => false,
        }
    }

    /// Ends a login (a logout). Unknown ids are fine: the answer is the same.
    pub fn end(&self, id: &str) {
        self.lock().live.remove(&hash(id));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The map stays consistent under a panic elsewhere: every update is one call.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Inner {
    fn top_up(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.topped_up).as_secs_f64();
        self.allowance = (self.allowance + elapsed * FAILURES_PER_SECOND).min(FAILURE_BURST);
        self.topped_up = now;
    }
}

fn hash(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn a_login_lives_until_it_expires_or_is_ended() {
        let logins = Logins::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let a = logins.begin(t0).unwrap();
        let b = logins.begin(t0).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.0.len(), 64);
        assert!(logins.is_live(&a.0, t0 + Duration::from_secs(59)));
        assert!(!logins.is_live(&a.0, t0 + Duration::from_secs(60)));
        assert!(logins.is_live(&b.0, t0));
        logins.end(&b.0);
        assert!(!logins.is_live(&b.0, t0));
        assert!(!logins.is_live("", t0));
        assert!(!logins.is_live("0000", t0));
    }

    #[test]
    fn failed_logins_are_limited_for_everyone_then_allowed_again() {
        let logins = Logins::default();
        let t0 = Instant::now();
        let mut allowed = 0;
        for _ in 0..100 {
            if logins.may_attempt(t0).is_ok() {
                allowed += 1;
                logins.failed(t0);
            }
        }
        assert_eq!(allowed, FAILURE_BURST as usize);
        let throttled = logins.may_attempt(t0).unwrap_err();
        assert!(throttled.retry_after >= Duration::from_secs(1));
        // One more attempt a five seconds.
        assert!(logins.may_attempt(t0 + Duration::from_secs(4)).is_err());
        assert!(logins.may_attempt(t0 + Duration::from_secs(5)).is_ok());
        // Over a minute, at most 10 + 12 failures: far from thousands a second.
        let mut failures = 0;
        for tenth in 0..600 {
            let now = t0 + Duration::from_millis(5000 + tenth * 100);
            if logins.may_attempt(now).is_ok() {
                logins.failed(now);
                failures += 1;
            }
        }
        assert!((11..=13).contains(&failures), "{failures}");
    }

    #[test]
    fn the_oldest_login_goes_when_there_are_too_many() {
        let logins = Logins::default();
        let t0 = Instant::now();
        let first = logins.begin(t0).unwrap();
        for i in 1..=MAX_LOGINS {
            logins.begin(t0 + Duration::from_millis(i as u64)).unwrap();
        }
        assert!(!logins.is_live(&first.0, t0));
    }
}
