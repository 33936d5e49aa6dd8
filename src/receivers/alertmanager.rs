//! Prometheus Alertmanager's webhook (`webhook_config`, payload version 4): the payload
//! types, the token check its `http_config` allows (`Authorization: Bearer TOKEN`, or
//! basic auth with the token as the password), and the [`Delivery`] it makes.
//!
//! The delivery id is the group's key and status with each alert's fingerprint, status and
//! start ([`group_delivery_id`]): Alertmanager repeats a notification (a retry, each peer of
//! an HA cluster, `repeat_interval`) with the same group and the same alerts, which are
//! duplicates; but a group that gains an alert, loses one to `resolved`, or sees an alert
//! fire again (a new `startsAt`) sends the same `groupKey` and status with different
//! alerts, which is news and must not be swallowed.

use std::collections::BTreeMap;

use base64::Engine;
use serde::{Deserialize, Deserializer};

use super::rules::{Delivery, DeliveryError, first_text, parse_json};
use crate::config::{Secret, Source};

/// The payload version this receiver reads.
pub const VERSION: &str = "4";

/// An alert group's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// At least one alert of the group fires.
    Firing,
    /// Every alert of the group has resolved.
    Resolved,
}

impl Status {
    /// `firing` or `resolved`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Status::Firing => "firing",
            Status::Resolved => "resolved",
        }
    }
}

/// One notification, as Alertmanager sends it. Fields it may add later are ignored.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// Always `"4"` for this format.
    pub version: String,
    /// Identifies the group of alerts (for deduplication).
    pub group_key: String,
    /// How many alerts `max_alerts` left out.
    #[serde(default)]
    pub truncated_alerts: u64,
    /// The group's status.
    pub status: Status,
    /// The receiver's name in Alertmanager's configuration.
    #[serde(default)]
    pub receiver: String,
    /// The labels the group is formed by.
    #[serde(default, deserialize_with = "labels")]
    pub group_labels: BTreeMap<String, String>,
    /// The labels every alert of the group has.
    #[serde(default, deserialize_with = "labels")]
    pub common_labels: BTreeMap<String, String>,
    /// The annotations every alert of the group has.
    #[serde(default, deserialize_with = "labels")]
    pub common_annotations: BTreeMap<String, String>,
    /// A link back to the Alertmanager.
    #[serde(default, rename = "externalURL")]
    pub external_url: String,
    /// The alerts.
    pub alerts: Vec<Alert>,
}

/// One alert of a group (Alertmanager's and Grafana's).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    /// `firing` or `resolved`.
    pub status: Status,
    /// Its labels (`alertname`, `severity`…).
    #[serde(default, deserialize_with = "labels")]
    pub labels: BTreeMap<String, String>,
    /// Its annotations (`summary`, `description`…).
    #[serde(default, deserialize_with = "labels")]
    pub annotations: BTreeMap<String, String>,
    /// When it started firing (RFC 3339).
    #[serde(default)]
    pub starts_at: String,
    /// When it resolved (RFC 3339; the zero time while it fires).
    #[serde(default)]
    pub ends_at: String,
    /// Identifies the alert by its labels.
    #[serde(default)]
    pub fingerprint: String,
}

/// A map of strings that a sender may also write as `null`.
fn labels<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    Ok(Option::<BTreeMap<String, String>>::deserialize(d)?.unwrap_or_default())
}

/// Checks the `Authorization` header against `token`: `Bearer TOKEN`, or `Basic` with the
/// token as the password (any user name), in constant time.
///
/// # Errors
/// [`DeliveryError::BadSignature`] saying what to send.
pub fn check_token(token: &Secret, authorization: Option<&[u8]>) -> Result<(), DeliveryError> {
    let wrong = |why: &str| {
        DeliveryError::BadSignature(format!(
            "{why}: send the hook token as 'Authorization: Bearer TOKEN' (Alertmanager's \
             http_config.authorization) or as the basic-auth password \
             (http_config.basic_auth)"
        ))
    };
    let Some(header) = authorization else {
        return Err(wrong("no Authorization header"));
    };
    let header = std::str::from_utf8(header).map_err(|_| wrong("an unreadable Authorization"))?;
    let (scheme, credentials) = header.trim().split_once(' ').unwrap_or((header, ""));
    let credentials = credentials.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        if token.matches(credentials.as_bytes()) {
            return Ok(());
        }
        return Err(wrong("the bearer token does not match"));
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(credentials)
            .map_err(|_| wrong("the basic credentials are not base64"))?;
        let password = decoded
            .iter()
            .position(|b| *b == b':')
            .map_or(&decoded[..0], |colon| &decoded[colon + 1..]);
        if token.matches(password) {
            return Ok(());
        }
        return Err(wrong("the basic-auth password does not match"));
    }
    Err(wrong("an Authorization scheme other than Bearer or Basic"))
}

/// Reads a notification.
///
/// # Errors
/// [`DeliveryError::Unknown`] for a body that is not a version 4 notification.
pub fn read(body: &[u8]) -> Result<Delivery, DeliveryError> {
    let payload = parse_json("Alertmanager", body)?;
    let version = payload.get("version").and_then(|v| v.as_str());
    if version != Some(VERSION) {
        return Err(DeliveryError::Unknown(format!(
            "this is not an Alertmanager version {VERSION} webhook (version {}): gongan reads \
             the webhook_config payload of Alertmanager 0.16 and later",
            version.map_or_else(|| "missing".to_owned(), |v| format!("{v:?}"))
        )));
    }
    let notification = Notification::deserialize(&payload)
        .map_err(|e| DeliveryError::shape("Alertmanager", &e))?;
    let subject = alert_name(
        &notification.common_labels,
        &notification.group_labels,
        &notification.alerts,
        &notification.receiver,
    );
    Ok(Delivery {
        source: Source::Alertmanager,
        id: group_delivery_id(
            &notification.group_key,
            notification.status,
            &notification.alerts,
        ),
        subject,
        event: notification.status.name().to_owned(),
        payload,
    })
}

/// The name of what fires: the group's common `alertname`, else the first alert's, else
/// the receiver's name.
#[must_use]
pub fn alert_name(
    common: &BTreeMap<String, String>,
    group: &BTreeMap<String, String>,
    alerts: &[Alert],
    receiver: &str,
) -> String {
    first_text([
        common.get("alertname").map(String::as_str),
        group.get("alertname").map(String::as_str),
        alerts
            .iter()
            .find_map(|a| a.labels.get("alertname"))
            .map(String::as_str),
        Some(receiver),
    ])
}

/// A group notification's delivery id: its key and status, and each alert's fingerprint,
/// status and start, in a fixed order (see the module's documentation).
#[must_use]
pub fn group_delivery_id(group_key: &str, status: Status, alerts: &[Alert]) -> String {
    let mut parts: Vec<String> = alerts
        .iter()
        .map(|a| format!("{}/{}/{}", a.fingerprint, a.status.name(), a.starts_at))
        .collect();
    parts.sort_unstable();
    format!("{group_key}|{}|{}", status.name(), parts.join(","))
}

#[cfg(test)]
mod test {
    use super::*;

    const FIRING: &str = include_str!("../../tests/fixtures/hooks/alertmanager-firing.json");
    const RESOLVED: &str = include_str!("../../tests/fixtures/hooks/alertmanager-resolved.json");

    fn token() -> Secret {
        Secret::new("s3cret-hook-token").unwrap()
    }

    #[test]
    fn the_documented_payload_reads_as_a_firing_delivery() {
        let delivery = read(FIRING.as_bytes()).unwrap();
        assert_eq!(delivery.source, Source::Alertmanager);
        assert_eq!(delivery.event, "firing");
        assert_eq!(delivery.subject, "ProbeFailure");
        assert_eq!(
            delivery.id,
            "{}/{severity=\"critical\"}:{alertname=\"ProbeFailure\"}|firing|\
             1a30ba71cca2921f/firing/2023-02-06T13:08:45.828Z"
        );
        assert_eq!(delivery.payload["commonLabels"]["severity"], "critical");
        let resolved = read(RESOLVED.as_bytes()).unwrap();
        assert_eq!(resolved.event, "resolved");
        assert_ne!(resolved.id, delivery.id, "same group, new status: news");
    }

    #[test]
    fn a_new_alert_in_the_same_group_is_a_new_delivery_but_a_repeat_is_not() {
        let mut payload: serde_json::Value = serde_json::from_str(FIRING).unwrap();
        let first = read(payload.to_string().as_bytes()).unwrap();
        // Alertmanager's repeat (or an HA peer's copy) of the same notification, with the
        // alerts in another order and a field it may add some day.
        payload["someFutureField"] = serde_json::json!({"x": 1});
        assert_eq!(read(payload.to_string().as_bytes()).unwrap().id, first.id);
        let mut second = payload["alerts"][0].clone();
        second["fingerprint"] = "2b41cb82ddb3a32f".into();
        second["labels"]["instance"] = "https://other.example.org".into();
        payload["alerts"].as_array_mut().unwrap().push(second);
        let grown = read(payload.to_string().as_bytes()).unwrap();
        assert_ne!(grown.id, first.id);
        payload["alerts"].as_array_mut().unwrap().reverse();
        assert_eq!(read(payload.to_string().as_bytes()).unwrap().id, grown.id);
        // The same alert firing again later: a new start, news.
        let mut again: serde_json::Value = serde_json::from_str(FIRING).unwrap();
        again["alerts"][0]["startsAt"] = "2023-02-07T08:00:00Z".into();
        assert_ne!(read(again.to_string().as_bytes()).unwrap().id, first.id);
    }

    #[test]
    fn what_is_not_a_version_4_notification_is_refused_saying_why() {
        let mut v3: serde_json::Value = serde_json::from_str(FIRING).unwrap();
        v3["version"] = "3".into();
        let no_alerts = serde_json::json!({"version": "4", "groupKey": "g", "status": "firing"});
        let bad_status = FIRING.replacen("\"status\": \"firing\"", "\"status\": \"on fire\"", 1);
        for (body, says) in [
            (v3.to_string(), "version \"3\""),
            ("{\"status\": \"firing\"}".to_owned(), "version missing"),
            ("not json".to_owned(), "not a webhook from Alertmanager"),
            (no_alerts.to_string(), "alerts"),
            (bad_status, "on fire"),
            ("[1, 2]".to_owned(), "version missing"),
        ] {
            match read(body.as_bytes()) {
                Err(DeliveryError::Unknown(why)) => assert!(why.contains(says), "{why}"),
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn bearer_or_basic_with_the_token_as_password() {
        let token = token();
        let basic = |credentials: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(credentials)
            )
        };
        for good in [
            "Bearer s3cret-hook-token".to_owned(),
            "bearer   s3cret-hook-token ".to_owned(),
            basic("alertmanager:s3cret-hook-token"),
            basic(":s3cret-hook-token"),
        ] {
            assert_eq!(check_token(&token, Some(good.as_bytes())), Ok(()), "{good}");
        }
        for bad in [
            "Bearer s3cret-hook-tokeN".to_owned(),
            "Bearer".to_owned(),
            "s3cret-hook-token".to_owned(),
            basic("s3cret-hook-token:wrong"),
            basic("s3cret-hook-token"),
            "Basic !!!".to_owned(),
            "Token s3cret-hook-token".to_owned(),
        ] {
            assert!(
                matches!(
                    check_token(&token, Some(bad.as_bytes())),
                    Err(DeliveryError::BadSignature(_))
                ),
                "{bad}"
            );
        }
        assert!(check_token(&token, None).is_err());
        assert!(check_token(&token, Some(&[0xff, 0xfe])).is_err());
    }
}
