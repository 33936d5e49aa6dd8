//! Delivery: one task per target POSTs its outbox messages in order, one at a time.
//!
//! The head of a target's queue is retried until the target takes it or refuses it for
//! good; only then does the next one go, so a chat never shows "finished" before
//! "started". What is worth retrying: no connection, no answer within the timeout, 408,
//! 429 and 5xx — after an exponential backoff (1 s doubling to 60 s, with jitter so many
//! servers do not retry in step), or after the target's `Retry-After`. Any other answer
//! that is not a 2xx (a 4xx: the webhook was deleted, the payload is refused; a redirect,
//! which is not followed) cannot get better by retrying: the message is marked failed
//! with the answer, logged, and the next one goes.
//!
//! A message being sent when the server stops stays pending and is sent again after the
//! restart; delivery is at least once, and the `X-Gongan-Delivery` id lets a receiver
//! drop a repeat.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use tokio::sync::{Notify, watch};

use super::format::{DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, plain, signature};
use super::{NotifyError, SharedOutbox, stopped, with_outbox};
use crate::config::{NotifyFormat, NotifyTarget};
use crate::store::outbox::{DeliveryId, Pending};

/// How deliveries are timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// How long one POST may take, answer included.
    pub timeout: Duration,
    /// The wait after a first failure; it doubles with each failure after that.
    pub first_retry: Duration,
    /// The longest wait between attempts (unless the target asks for longer).
    pub max_retry: Duration,
    /// The longest `Retry-After` honoured.
    pub max_retry_after: Duration,
}

impl Default for DeliveryPolicy {
    fn default() -> DeliveryPolicy {
        DeliveryPolicy {
            timeout: Duration::from_secs(10),
            first_retry: Duration::from_secs(1),
            max_retry: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(3600),
        }
    }
}

/// The HTTP client deliveries go through: rustls (ring) with the platform's roots,
/// redirects not followed (a webhook that moved is a setting to fix, and a redirected
/// POST would become a GET), the policy's timeout, `User-Agent: gongan/VERSION`.
///
/// # Errors
/// [`NotifyError::Client`] when the TLS setup fails.
pub fn http_client(policy: &DeliveryPolicy) -> Result<reqwest::Client, NotifyError> {
    crate::client::http_builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(policy.timeout)
        .connect_timeout(policy.timeout.min(Duration::from_secs(5)))
        .build()
        .map_err(|e| NotifyError::Client(describe(&e)))
}

/// How one POST went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// A 2xx.
    Delivered {
        /// The status.
        status: u16,
    },
    /// Worth trying again: no connection, no answer in time, 408, 429 or 5xx.
    Retry {
        /// What happened.
        error: String,
        /// How long the target asked to wait (`Retry-After`).
        after: Option<Duration>,
    },
    /// Refused in a way retrying cannot fix.
    Refused {
        /// What happened.
        error: String,
    },
}

/// POSTs `body` (the `event` message with delivery id `delivery`) to `target`, with the
/// headers of its format.
pub async fn post(
    client: &reqwest::Client,
    target: &NotifyTarget,
    event: &str,
    delivery: &str,
    body: String,
) -> Attempt {
    let mut request = client
        .post(&target.url)
        .header(CONTENT_TYPE, "application/json")
        .header(EVENT_HEADER, event)
        .header(DELIVERY_HEADER, delivery);
    if target.format == NotifyFormat::Json
        && let Some(secret) = &target.secret
    {
        request = request.header(SIGNATURE_HEADER, signature(secret, body.as_bytes()));
    }
    let response = match request.body(body).send().await {
        Ok(response) => response,
        Err(error) if error.is_builder() => {
            return Attempt::Refused {
                error: describe(&error),
            };
        }
        Err(error) => {
            return Attempt::Retry {
                error: describe(&error),
                after: None,
            };
        }
    };
    let status = response.status();
    if status.is_success() {
        return Attempt::Delivered {
            status: status.as_u16(),
        };
    }
    let after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| retry_after(v, SystemTime::now()));
    let location = if status.is_redirection() {
        " (a redirect, which is not followed: configure the final URL)"
    } else {
        ""
    };
    let said = snippet(response).await;
    let error = format!(
        "HTTP {status}{location}{}",
        if said.is_empty() {
            String::new()
        } else {
            format!(": {said}")
        }
    );
    match status.as_u16() {
        408 | 429 | 500..=599 => Attempt::Retry { error, after },
        _ => Attempt::Refused { error },
    }
}

/// The start of an answer's body, on one line, for the log and `last_error`.
async fn snippet(mut response: reqwest::Response) -> String {
    const MAX: usize = 200;
    let mut bytes = Vec::new();
    while bytes.len() < MAX {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    bytes.truncate(MAX);
    plain(String::from_utf8_lossy(&bytes).trim())
}

/// A client error on one line, without the URL (a chat webhook's URL is its secret).
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "no answer in time".to_owned()
    } else if error.is_connect() {
        "cannot connect".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut source = std::error::Error::source(error);
    let mut last = String::new();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !said.is_empty() && !last.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        last = said;
        source = cause.source();
    }
    text
}

/// The wait before attempt `failures + 1`, after `failures` (≥ 1) failed attempts:
/// `first_retry` doubling up to `max_retry`, of which the upper half is scaled by
/// `jitter` (from 0 to 1). This is "equal jitter": never less than half the step, never
/// in step with another server.
#[must_use]
pub fn backoff(failures: u32, policy: &DeliveryPolicy, jitter: f64) -> Duration {
    let doublings = failures.saturating_sub(1).min(30);
    let step = policy
        .first_retry
        .saturating_mul(1 << doublings)
        .min(policy.max_retry);
    step / 2 + (step / 2).mul_f64(jitter.clamp(0.0, 1.0))
}

/// A random number from 0 to 1, for [`backoff`]'s jitter.
fn jitter() -> f64 {
    getrandom::u64().map_or(0.5, |n| (n >> 11) as f64 / (1u64 << 53) as f64)
}

/// A `Retry-After` value: delay seconds, or an HTTP date (IMF-fixdate,
/// `Sun, 06 Nov 1994 08:49:37 GMT`) read against `now`.
#[must_use]
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = http_date(value)?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// An IMF-fixdate (RFC 9110 §5.6.7), the form servers send.
fn http_date(value: &str) -> Option<SystemTime> {
    let (_, rest) = value.split_once(", ")?;
    let mut parts = rest.split(' ');
    let day: i64 = parts.next()?.parse().ok()?;
    let month = parts.next()?;
    let year: i64 = parts.next()?.parse().ok()?;
    let time = parts.next()?;
    if parts.next()? != "GMT" || parts.next().is_some() {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == month)? as i64 + 1;
    let mut hms = time.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 || hms.next().is_some() {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = u64::try_from(days * 86_400 + h * 3600 + m * 60 + s).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

/// The delivery task of one target.
pub(super) struct Worker {
    pub target: Arc<NotifyTarget>,
    pub client: reqwest::Client,
    pub outbox: SharedOutbox,
    pub wake: Arc<Notify>,
    pub policy: DeliveryPolicy,
    pub stop: watch::Receiver<bool>,
}

impl Worker {
    /// Delivers the target's messages until the notifier stops.
    pub async fn run(mut self) {
        let name = self.target.name.clone();
        // The head this process has already tried: it waits for its retry time. A head
        // left by a previous run is tried at once.
        let mut tried: Option<DeliveryId> = None;
        let mut store_failures = 0u32;
        loop {
            let target = name.clone();
            let head = match with_outbox(&self.outbox, move |o| o.head(&target)).await {
                Ok(head) => {
                    store_failures = 0;
                    head
                }
                Err(error) => {
                    store_failures += 1;
                    tracing::warn!(target = %name, "cannot read the notification outbox: {error}");
                    let wait = backoff(store_failures, &self.policy, jitter());
                    if self.pause(wait).await {
                        return;
                    }
                    continue;
                }
            };
            let Some(message) = head else {
                tokio::select! {
                    () = self.wake.notified() => continue,
                    () = stopped(&mut self.stop) => return,
                }
            };
            if tried == Some(message.id) {
                let wait = message
                    .next
                    .duration_since(SystemTime::now())
                    .unwrap_or(Duration::ZERO);
                if self.pause(wait).await {
                    return;
                }
            }
            tried = Some(message.id);
            let delivery = message.id.to_string();
            let attempt = tokio::select! {
                attempt = post(
                    &self.client,
                    &self.target,
                    &message.event,
                    &delivery,
                    message.body.clone(),
                ) => attempt,
                // Still pending: sent again after the restart.
                () = stopped(&mut self.stop) => return,
            };
            if let Err(error) = self.settle(&message, attempt).await {
                store_failures += 1;
                tracing::warn!(
                    target = %name,
                    delivery = %message.id,
                    "cannot record a notification's delivery: {error}"
                );
                let wait = backoff(store_failures, &self.policy, jitter());
                if self.pause(wait).await {
                    return;
                }
            }
        }
    }

    /// Records how an attempt went.
    async fn settle(
        &self,
        message: &Pending,
        attempt: Attempt,
    ) -> Result<(), crate::store::StoreError> {
        let (id, name, event) = (message.id, &self.target.name, &message.event);
        let now = SystemTime::now();
        match attempt {
            Attempt::Delivered { status } => {
                if message.attempts > 0 {
                    tracing::info!(
                        target = %name, delivery = %id, event,
                        "notification delivered ({status}) after {} failed attempts",
                        message.attempts
                    );
                } else {
                    tracing::debug!(target = %name, delivery = %id, event, "notification delivered ({status})");
                }
                with_outbox(&self.outbox, move |o| o.delivered(id, now)).await
            }
            Attempt::Retry { error, after } => {
                let failures = message.attempts.saturating_add(1);
                let wait = after.map_or_else(
                    || backoff(failures, &self.policy, jitter()),
                    |after| after.min(self.policy.max_retry_after),
                );
                if failures == 1 {
                    tracing::warn!(
                        target = %name, delivery = %id, event,
                        "cannot deliver a notification: {error}; retrying in {:.1} s (and on until it is delivered)",
                        wait.as_secs_f64()
                    );
                } else {
                    tracing::debug!(
                        target = %name, delivery = %id, event, failures,
                        "cannot deliver a notification: {error}; retrying in {:.1} s",
                        wait.as_secs_f64()
                    );
                }
                let next = now + wait;
                with_outbox(&self.outbox, move |o| o.retry_at(id, next, &error)).await
            }
            Attempt::Refused { error } => {
                tracing::warn!(
                    target = %name, delivery = %id, event,
                    "the target refused a notification: {error}; it will not be retried (check the target's url and format)"
                );
                with_outbox(&self.outbox, move |o| o.failed(id, now, &error)).await
            }
        }
    }

    /// Waits `wait`; true when the notifier stopped meanwhile.
    async fn pause(&mut self, wait: Duration) -> bool {
        if wait.is_zero() {
            return *self.stop.borrow();
        }
        tokio::select! {
            () = tokio::time::sleep(wait) => false,
            () = stopped(&mut self.stop) => true,
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn backoff_doubles_from_a_second_to_a_minute_with_jitter_in_the_upper_half() {
        let policy = DeliveryPolicy::default();
        let secs = |failures, jitter| backoff(failures, &policy, jitter).as_secs_f64();
        assert_eq!(secs(1, 0.0), 0.5);
        assert_eq!(secs(1, 1.0), 1.0);
        assert_eq!(secs(2, 1.0), 2.0);
        assert_eq!(secs(4, 0.5), 6.0);
        assert_eq!(secs(7, 1.0), 60.0, "capped");
        assert_eq!(secs(u32::MAX, 0.0), 30.0);
        for _ in 0..100 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j));
        }
    }

    #[test]
    fn retry_after_is_seconds_or_an_http_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_770);
        assert_eq!(retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::from_secs(7)),
            "RFC 9110's example date is 784111777"
        );
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO),
            "a date in the past"
        );
        for bad in [
            "",
            "-1",
            "soon",
            "Sun, 06 Nov 1994 08:49:37 PST",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun, 32 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(retry_after(bad, now), None, "{bad}");
        }
    }
}
