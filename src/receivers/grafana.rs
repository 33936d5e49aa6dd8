//! Grafana Alerting's webhook contact point: the payload (Alertmanager's shape, with
//! Grafana's `orgId`, `title`, `state` and `message`), its authentication — the hook
//! token as `Authorization: Bearer TOKEN` (or basic auth), or its HMAC signature — and the
//! [`Delivery`] it makes.
//!
//! The HMAC signature (Grafana 12 and later, "HMAC Signature" in the contact point's
//! optional settings): `X-Grafana-Alerting-Signature` carries the lowercase hex
//! HMAC-SHA256 of the body with the shared secret. When the contact point also names a
//! timestamp header — gongan reads [`TIMESTAMP_HEADER`], the name Grafana's provisioning
//! docs use — Grafana puts the Unix time in seconds there and signs `timestamp + ":" +
//! body` instead; gongan then refuses a timestamp more than [`REPLAY_WINDOW`] from its
//! clock.
//!
//! Grafana sends no delivery id, so a delivery is identified as Alertmanager's is: the
//! group's key and status with each alert's fingerprint, status and start
//! ([`group_delivery_id`](super::alertmanager::group_delivery_id)).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

use super::alertmanager::{self, Alert, Status};
use super::rules::{Delivery, DeliveryError, first_text, parse_json};
use super::verify::{hex_matches, hmac_sha256};
use crate::config::{Secret, Source};

/// The header Grafana's signature comes in (Grafana's default).
pub const SIGNATURE_HEADER: &str = "x-grafana-alerting-signature";
/// The header the signed timestamp comes in (set the contact point's "Timestamp Header" to
/// it).
pub const TIMESTAMP_HEADER: &str = "x-grafana-alerting-signature-timestamp";
/// How far a signed timestamp may be from the server's clock.
pub const REPLAY_WINDOW: Duration = Duration::from_secs(5 * 60);

/// One notification, as Grafana sends it. Fields it may add later are ignored.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// The contact point's name.
    #[serde(default)]
    pub receiver: String,
    /// The group's status.
    pub status: Status,
    /// The Grafana organisation.
    #[serde(default)]
    pub org_id: Option<i64>,
    /// The alerts.
    pub alerts: Vec<Alert>,
    /// The labels every alert of the group has (`alertname` is the rule's title).
    #[serde(default)]
    pub common_labels: Option<BTreeMap<String, String>>,
    /// The labels the group is formed by.
    #[serde(default)]
    pub group_labels: Option<BTreeMap<String, String>>,
    /// Identifies the group.
    #[serde(default)]
    pub group_key: String,
    /// The notification's title, `[FIRING:2]  (blue)` (deprecated by Grafana, still sent).
    #[serde(default)]
    pub title: String,
}

/// What a delivery brought to prove where it comes from.
#[derive(Debug, Clone, Copy, Default)]
pub struct Credentials<'a> {
    /// The `Authorization` header.
    pub authorization: Option<&'a [u8]>,
    /// [`SIGNATURE_HEADER`].
    pub signature: Option<&'a [u8]>,
    /// [`TIMESTAMP_HEADER`].
    pub timestamp: Option<&'a [u8]>,
}

/// Accepts a delivery whose bearer token (or basic-auth password) is `token`, or whose
/// signature is the HMAC with `hmac_secret` (over `timestamp:body` when a timestamp came,
/// then within [`REPLAY_WINDOW`] of `now`). Either is enough.
///
/// # Errors
/// [`DeliveryError::Stale`] for a true signature with a timestamp out of the window;
/// [`DeliveryError::BadSignature`] for anything else that does not check out.
pub fn check(
    token: Option<&Secret>,
    hmac_secret: Option<&Secret>,
    sent: Credentials<'_>,
    body: &[u8],
    now: SystemTime,
) -> Result<(), DeliveryError> {
    let mut why = Vec::new();
    if let (Some(token), Some(authorization)) = (token, sent.authorization) {
        match alertmanager::check_token(token, Some(authorization)) {
            Ok(()) => return Ok(()),
            Err(_) => why.push("the Authorization header does not carry the hook token"),
        }
    }
    if let Some(signature) = sent.signature {
        let Some(secret) = hmac_secret else {
            return Err(DeliveryError::BadSignature(
                "the delivery is signed but gongan has no grafana_hmac_secret \
                 (GONGAN_GRAFANA_HMAC_SECRET) to check it with"
                    .into(),
            ));
        };
        let key = secret.expose().as_bytes();
        let expected = match sent.timestamp {
            Some(timestamp) => hmac_sha256(key, &[timestamp, b":", body]),
            None => hmac_sha256(key, &[body]),
        };
        let signature = std::str::from_utf8(signature).unwrap_or("");
        if hex_matches(&expected, signature) {
            return match sent.timestamp {
                None => Ok(()),
                Some(timestamp) => fresh(timestamp, now),
            };
        }
        why.push(if sent.timestamp.is_some() {
            "the signature is not the HMAC-SHA256 of timestamp:body with grafana_hmac_secret"
        } else {
            "the signature is not the HMAC-SHA256 of the body with grafana_hmac_secret"
        });
    }
    if why.is_empty() {
        why.push(match (token, hmac_secret) {
            (Some(_), Some(_)) => {
                "no Authorization header and no X-Grafana-Alerting-Signature: set the contact \
                 point's Authorization header credentials to the hook token, or its HMAC \
                 signature secret"
            }
            (Some(_), None) => {
                "no Authorization header: set the contact point's Authorization header \
                 credentials to the hook token (GONGAN_HOOK_TOKEN)"
            }
            _ => {
                "no X-Grafana-Alerting-Signature: set the contact point's HMAC signature \
                 secret to grafana_hmac_secret (GONGAN_GRAFANA_HMAC_SECRET)"
            }
        });
    }
    Err(DeliveryError::BadSignature(why.join("; ")))
}

/// Whether a signed Unix time (seconds) is within the replay window of `now`.
fn fresh(timestamp: &[u8], now: SystemTime) -> Result<(), DeliveryError> {
    let sent = std::str::from_utf8(timestamp)
        .ok()
        .and_then(|t| t.trim().parse::<u64>().ok())
        .ok_or_else(|| {
            DeliveryError::BadSignature(
                "the signature timestamp is not a Unix time in seconds".into(),
            )
        })?;
    let now = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let off = now.abs_diff(sent);
    if off > REPLAY_WINDOW.as_secs() {
        return Err(DeliveryError::Stale(format!(
            "the signed timestamp is {off} s from the server's clock (at most {} s): a replayed \
             delivery, or a clock that is off",
            REPLAY_WINDOW.as_secs()
        )));
    }
    Ok(())
}

/// Reads a notification.
///
/// # Errors
/// [`DeliveryError::Unknown`] for a body that is not one.
pub fn read(body: &[u8]) -> Result<Delivery, DeliveryError> {
    let payload = parse_json("Grafana", body)?;
    let notification =
        Notification::deserialize(&payload).map_err(|e| DeliveryError::shape("Grafana", &e))?;
    let common = notification.common_labels.unwrap_or_default();
    let rule = common.get("alertname").map(String::as_str);
    let subject = first_text([
        rule,
        Some(notification.title.as_str()),
        Some(
            alertmanager::alert_name(
                &common,
                &notification.group_labels.unwrap_or_default(),
                &notification.alerts,
                &notification.receiver,
            )
            .as_str(),
        ),
    ]);
    Ok(Delivery {
        source: Source::Grafana,
        id: alertmanager::group_delivery_id(
            &notification.group_key,
            notification.status,
            &notification.alerts,
        ),
        subject,
        event: notification.status.name().to_owned(),
        payload,
    })
}

#[cfg(test)]
mod test {
    use super::*;

    const FIRING: &str = include_str!("../../tests/fixtures/hooks/grafana-firing.json");
    const RESOLVED: &str = include_str!("../../tests/fixtures/hooks/grafana-resolved.json");

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    fn sent<'a>(signature: &'a str, timestamp: Option<&'a str>) -> Credentials<'a> {
        Credentials {
            authorization: None,
            signature: Some(signature.as_bytes()),
            timestamp: timestamp.map(str::as_bytes),
        }
    }

    #[test]
    fn the_documented_payload_reads_with_its_title_as_subject() {
        let delivery = read(FIRING.as_bytes()).unwrap();
        assert_eq!(delivery.source, Source::Grafana);
        assert_eq!(delivery.event, "firing");
        // The two alerts share no alertname: the notification's title names it.
        assert_eq!(delivery.subject, "[FIRING:2]  (blue)");
        assert!(
            delivery
                .id
                .starts_with("{}:{}|firing|bc97ff14869b13e3/firing/")
        );
        let resolved = read(RESOLVED.as_bytes()).unwrap();
        assert_eq!(resolved.event, "resolved");
        assert_ne!(resolved.id, delivery.id);
        // One rule: its name is the subject.
        let mut one: serde_json::Value = serde_json::from_str(FIRING).unwrap();
        one["commonLabels"]["alertname"] = "High memory usage".into();
        assert_eq!(
            read(one.to_string().as_bytes()).unwrap().subject,
            "High memory usage"
        );
        for bad in ["{}", "{\"status\": \"firing\"}", "nope", "null"] {
            assert!(
                matches!(read(bad.as_bytes()), Err(DeliveryError::Unknown(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_signature_over_the_body_or_over_timestamp_and_body() {
        let secret = Secret::new("grafana-hmac").unwrap();
        let body = FIRING.as_bytes();
        let plain = hex::encode(hmac_sha256(b"grafana-hmac", &[body]));
        let plain = plain.as_str();
        assert_eq!(
            check(None, Some(&secret), sent(plain, None), body, at(0)),
            Ok(())
        );
        let stamped = hex::encode(hmac_sha256(b"grafana-hmac", &[b"1700000000", b":", body]));
        let stamped = stamped.as_str();
        let now = at(1_700_000_000);
        let good = sent(stamped, Some("1700000000"));
        assert_eq!(check(None, Some(&secret), good, body, now), Ok(()));
        assert_eq!(
            check(None, Some(&secret), good, body, at(1_700_000_299)),
            Ok(())
        );
        assert_eq!(
            check(None, Some(&secret), good, body, at(1_699_999_701)),
            Ok(())
        );
        assert!(matches!(
            check(None, Some(&secret), good, body, at(1_700_000_301)),
            Err(DeliveryError::Stale(_))
        ));
        assert!(matches!(
            check(None, Some(&secret), good, body, at(1_699_999_000)),
            Err(DeliveryError::Stale(_))
        ));
        // The body alone does not verify once a timestamp is sent, nor another timestamp.
        for wrong in [
            sent(plain, Some("1700000000")),
            sent(stamped, Some("1700000001")),
            sent(stamped, None),
            sent("zz", None),
        ] {
            assert!(matches!(
                check(None, Some(&secret), wrong, body, now),
                Err(DeliveryError::BadSignature(_))
            ));
        }
        let tampered = FIRING.replace("firing", "resolved");
        assert!(check(None, Some(&secret), good, tampered.as_bytes(), now).is_err());
        // Signed, but gongan has only the token.
        let token = Secret::new("tok").unwrap();
        let Err(DeliveryError::BadSignature(why)) = check(Some(&token), None, good, body, now)
        else {
            panic!()
        };
        assert!(why.contains("grafana_hmac_secret"), "{why}");
    }

    #[test]
    fn the_hook_token_or_the_signature_either_will_do() {
        let token = Secret::new("tok").unwrap();
        let secret = Secret::new("grafana-hmac").unwrap();
        let body = b"{}";
        let bearer = Credentials {
            authorization: Some(b"Bearer tok"),
            ..Credentials::default()
        };
        assert_eq!(
            check(Some(&token), Some(&secret), bearer, body, at(0)),
            Ok(())
        );
        assert!(check(None, Some(&secret), bearer, body, at(0)).is_err());
        let signed = hex::encode(hmac_sha256(b"grafana-hmac", &[body]));
        let wrong_token_good_signature = Credentials {
            authorization: Some(b"Bearer nope"),
            ..sent(&signed, None)
        };
        assert_eq!(
            check(
                Some(&token),
                Some(&secret),
                wrong_token_good_signature,
                body,
                at(0)
            ),
            Ok(())
        );
        let Err(DeliveryError::BadSignature(why)) = check(
            Some(&token),
            Some(&secret),
            Credentials::default(),
            body,
            at(0),
        ) else {
            panic!()
        };
        assert!(why.contains("no Authorization header"), "{why}");
    }
}
