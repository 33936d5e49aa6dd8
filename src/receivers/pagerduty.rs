//! PagerDuty's v3 webhooks (a webhook subscription): the payload, the signature check, and
//! the [`Delivery`] it makes.
//!
//! `X-PagerDuty-Signature` carries one or more `v1=HEX` values, comma-separated — one per
//! secret while a subscription's secret is being rotated — each the HMAC-SHA256 of the raw
//! body; the delivery is genuine if any one matches. PagerDuty delivers at least once and
//! repeats `X-Webhook-Id` on each attempt: that header is the delivery id (the event's own
//! `id` when a proxy dropped the header).

use serde::Deserialize;
use serde_json::Value;

use super::rules::{Delivery, DeliveryError, first_text, parse_json};
use super::verify::{hex_matches, hmac_sha256};
use crate::config::{Secret, Source};

/// The header the signatures come in.
pub const SIGNATURE_HEADER: &str = "x-pagerduty-signature";
/// The header that identifies a delivery across its retries.
pub const WEBHOOK_ID_HEADER: &str = "x-webhook-id";
/// The most signatures read from one header (a rotation has two).
const MAX_SIGNATURES: usize = 8;

/// A v3 webhook: one event. Fields PagerDuty may add later are ignored.
#[derive(Debug, Clone, Deserialize)]
pub struct Webhook {
    /// The event.
    pub event: Event,
}

/// What happened in PagerDuty.
#[derive(Debug, Clone, Deserialize)]
pub struct Event {
    /// The event's unique id.
    pub id: String,
    /// What happened: `incident.triggered`, `incident.acknowledged`…
    pub event_type: String,
    /// The kind of resource it happened to (`incident`, `service`).
    #[serde(default)]
    pub resource_type: String,
    /// When (ISO 8601).
    #[serde(default)]
    pub occurred_at: Option<String>,
    /// The resource (an incident, a note…), which differs by event type.
    #[serde(default)]
    pub data: Value,
}

/// Checks `X-PagerDuty-Signature` against the HMAC-SHA256 of `body` with `secret`: any
/// one `v1=` value may match.
///
/// # Errors
/// [`DeliveryError::BadSignature`] when none does (or none came).
pub fn check(secret: &Secret, header: Option<&[u8]>, body: &[u8]) -> Result<(), DeliveryError> {
    let Some(header) = header else {
        return Err(DeliveryError::BadSignature(
            "no X-PagerDuty-Signature header: PagerDuty v3 webhook subscriptions sign every \
             delivery"
                .into(),
        ));
    };
    let header = std::str::from_utf8(header).unwrap_or("");
    let expected = hmac_sha256(secret.expose().as_bytes(), &[body]);
    // Every listed signature is compared (no early exit), each in constant time.
    let mut any = false;
    for signature in header.split(',').take(MAX_SIGNATURES) {
        if let Some(hex) = signature.trim().strip_prefix("v1=") {
            any |= hex_matches(&expected, hex);
        }
    }
    if any {
        Ok(())
    } else {
        Err(DeliveryError::BadSignature(
            "no v1 signature in X-PagerDuty-Signature is the HMAC-SHA256 of the body with \
             pagerduty_secret (the webhook subscription's secret)"
                .into(),
        ))
    }
}

/// Reads a webhook; `webhook_id` is the `X-Webhook-Id` header.
///
/// # Errors
/// [`DeliveryError::Unknown`] for a body that is not a v3 webhook.
pub fn read(body: &[u8], webhook_id: Option<&str>) -> Result<Delivery, DeliveryError> {
    let payload = parse_json("PagerDuty (v3)", body)?;
    let webhook =
        Webhook::deserialize(&payload).map_err(|e| DeliveryError::shape("PagerDuty (v3)", &e))?;
    let event = webhook.event;
    let data = &event.data;
    let subject = first_text([
        data["title"].as_str(),
        data["incident"]["summary"].as_str(),
        data["summary"].as_str(),
        data["id"].as_str(),
        Some(event.id.as_str()),
    ]);
    let id = first_text([webhook_id, Some(event.id.as_str())]);
    Ok(Delivery {
        source: Source::Pagerduty,
        id,
        subject,
        event: event.event_type,
        payload,
    })
}

#[cfg(test)]
mod test {
    use super::*;

    const TRIGGERED: &str =
        include_str!("../../tests/fixtures/hooks/pagerduty-incident-triggered.json");
    const PRIORITY: &str =
        include_str!("../../tests/fixtures/hooks/pagerduty-incident-priority-updated.json");

    #[test]
    fn the_documented_payload_reads_with_the_incident_title() {
        let delivery = read(TRIGGERED.as_bytes(), Some("wh-1")).unwrap();
        assert_eq!(delivery.source, Source::Pagerduty);
        assert_eq!(delivery.event, "incident.triggered");
        assert_eq!(delivery.subject, "A little bump in the road");
        assert_eq!(delivery.id, "wh-1");
        let priority = read(PRIORITY.as_bytes(), None).unwrap();
        assert_eq!(priority.event, "incident.priority_updated");
        assert_eq!(priority.id, "5ac64822-4adc-4fda-ade0-410becf0de4f");
        // A note's event names its incident.
        let note = serde_json::json!({"event": {
            "id": "e1", "event_type": "incident.annotated", "resource_type": "incident",
            "data": {"incident": {"summary": "Disk full"}, "type": "incident_note"}}});
        assert_eq!(
            read(note.to_string().as_bytes(), None).unwrap().subject,
            "Disk full"
        );
        for bad in ["{}", "{\"event\": {}}", "{\"messages\": []}", "<xml/>"] {
            assert!(
                matches!(read(bad.as_bytes(), None), Err(DeliveryError::Unknown(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn any_one_of_several_v1_signatures_may_match() {
        let secret = Secret::new("pd-secret").unwrap();
        let body = TRIGGERED.as_bytes();
        let good = hex::encode(hmac_sha256(b"pd-secret", &[body]));
        let old = hex::encode(hmac_sha256(b"old-secret", &[body]));
        for header in [
            format!("v1={good}"),
            format!("v1={old},v1={good}"),
            format!("v1={good}, v1={old}"),
            format!("v2=abc,v1={}", good.to_uppercase()),
        ] {
            assert_eq!(
                check(&secret, Some(header.as_bytes()), body),
                Ok(()),
                "{header}"
            );
        }
        for header in [
            format!("v1={old}"),
            good.clone(),
            format!("v2={good}"),
            String::new(),
            "v1=".to_owned(),
        ] {
            assert!(
                check(&secret, Some(header.as_bytes()), body).is_err(),
                "{header}"
            );
        }
        assert!(check(&secret, None, body).is_err());
        assert!(check(&secret, Some(format!("v1={good}").as_bytes()), b"{}").is_err());
    }
}
