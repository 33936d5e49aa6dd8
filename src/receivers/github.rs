//! GitHub's webhooks (a repository's or an organisation's): the signature check, the
//! `ping` GitHub sends when a hook is created, and the [`Delivery`] of any other event.
//!
//! `X-Hub-Signature-256: sha256=HEX` is the HMAC-SHA256 of the raw body with the hook's
//! secret; `X-GitHub-Event` names the event (it is not in the payload); `X-GitHub-Delivery`
//! is a GUID that a redelivery repeats, so it is the delivery id. The body is JSON, or —
//! GitHub's default content type for repository hooks — a form whose `payload` field is
//! the JSON; both are read.

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::rules::{Delivery, DeliveryError, first_text, parse_json};
use super::verify::{hex_matches, hmac_sha256};
use crate::config::{Secret, Source};

/// The header the signature comes in.
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";
/// The header naming the event.
pub const EVENT_HEADER: &str = "x-github-event";
/// The header identifying the delivery.
pub const DELIVERY_HEADER: &str = "x-github-delivery";

/// What a GitHub delivery is.
#[derive(Debug, Clone, PartialEq)]
pub enum Received {
    /// The `ping` GitHub sends when a hook is created: answered, never mapped.
    Ping {
        /// GitHub's zen line.
        zen: String,
        /// The hook's id.
        hook_id: Option<u64>,
    },
    /// Any other event.
    Event(Delivery),
}

/// Checks `X-Hub-Signature-256` against the HMAC-SHA256 of `body` with `secret`.
///
/// # Errors
/// [`DeliveryError::BadSignature`] when it is missing or does not match.
pub fn check(secret: &Secret, header: Option<&[u8]>, body: &[u8]) -> Result<(), DeliveryError> {
    let signature = header
        .and_then(|h| std::str::from_utf8(h).ok())
        .and_then(|h| h.trim().strip_prefix("sha256="));
    let Some(signature) = signature else {
        return Err(DeliveryError::BadSignature(
            "no 'X-Hub-Signature-256: sha256=…' header: set the webhook's secret in GitHub to \
             github_secret (GONGAN_GITHUB_SECRET)"
                .into(),
        ));
    };
    let expected = hmac_sha256(secret.expose().as_bytes(), &[body]);
    if hex_matches(&expected, signature) {
        Ok(())
    } else {
        Err(DeliveryError::BadSignature(
            "X-Hub-Signature-256 is not the HMAC-SHA256 of the body with github_secret".into(),
        ))
    }
}

/// A form-encoded delivery (`application/x-www-form-urlencoded`).
#[derive(Deserialize)]
struct Form {
    payload: String,
}

/// Reads a delivery from its headers (`X-GitHub-Event`, `X-GitHub-Delivery`,
/// `Content-Type`) and body.
///
/// # Errors
/// [`DeliveryError::Unknown`] when the event header is missing or the body is not a JSON
/// object (directly or as a form's `payload`).
pub fn read(
    event: Option<&str>,
    delivery_id: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Received, DeliveryError> {
    let event = event
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .ok_or_else(|| {
            DeliveryError::Unknown(
                "no X-GitHub-Event header: this is not a webhook from GitHub".into(),
            )
        })?;
    let form = content_type.is_some_and(|t| {
        t.split(';').next().is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
    });
    let payload = if form {
        let form: Form = serde_urlencoded::from_bytes(body).map_err(|e| {
            DeliveryError::Unknown(format!(
                "this is not a webhook from GitHub: a form without a payload field ({e})"
            ))
        })?;
        parse_json("GitHub", form.payload.as_bytes())?
    } else {
        parse_json("GitHub", body)?
    };
    if !payload.is_object() {
        return Err(DeliveryError::Unknown(
            "this is not a webhook from GitHub: the payload is not a JSON object".into(),
        ));
    }
    if event == "ping" {
        return Ok(Received::Ping {
            zen: payload["zen"].as_str().unwrap_or_default().to_owned(),
            hook_id: payload["hook_id"].as_u64(),
        });
    }
    let subject = first_text([
        payload["repository"]["full_name"].as_str(),
        payload["organization"]["login"].as_str(),
        payload["sender"]["login"].as_str(),
    ]);
    let id = match delivery_id.map(str::trim).filter(|d| !d.is_empty()) {
        Some(id) => id.to_owned(),
        // GitHub always sends one; a delivery without it is identified by its bytes.
        None => hex::encode(Sha256::digest(body)),
    };
    Ok(Received::Event(Delivery {
        source: Source::Github,
        id,
        subject,
        event: event.to_owned(),
        payload,
    }))
}

#[cfg(test)]
mod test {
    use super::*;

    const SUCCESS: &str =
        include_str!("../../tests/fixtures/hooks/github-workflow-run-success.json");
    const PING: &str = include_str!("../../tests/fixtures/hooks/github-ping.json");

    #[test]
    fn githubs_published_test_vector() {
        // docs.github.com, "Validating webhook deliveries": secret "It's a Secret to
        // Everybody", payload "Hello, World!".
        let secret = Secret::new("It's a Secret to Everybody").unwrap();
        let header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(
            check(&secret, Some(header.as_bytes()), b"Hello, World!"),
            Ok(())
        );
        assert!(check(&secret, Some(header.as_bytes()), b"Hello, World?").is_err());
        let bare = header.trim_start_matches("sha256=");
        assert!(check(&secret, Some(bare.as_bytes()), b"Hello, World!").is_err());
        assert!(check(&secret, None, b"Hello, World!").is_err());
        let other = Secret::new("It's a secret to everybody").unwrap();
        assert!(check(&other, Some(header.as_bytes()), b"Hello, World!").is_err());
    }

    #[test]
    fn a_workflow_run_reads_with_its_repository_as_subject() {
        let Received::Event(delivery) = read(
            Some("workflow_run"),
            Some("72d3162e-cc78-11e3-81ab-4c9367dc0958"),
            Some("application/json"),
            SUCCESS.as_bytes(),
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(delivery.source, Source::Github);
        assert_eq!(delivery.event, "workflow_run");
        assert_eq!(delivery.subject, "octo-org/octo-repo");
        assert_eq!(delivery.id, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
        assert_eq!(delivery.payload["workflow_run"]["conclusion"], "success");
        let Received::Event(unnamed) = read(Some("push"), None, None, b"{\"ref\": \"x\"}").unwrap()
        else {
            panic!()
        };
        assert_eq!(unnamed.id.len(), 64, "identified by the body's hash");
        assert_eq!(unnamed.subject, "");
    }

    #[test]
    fn a_form_encoded_delivery_reads_the_same() {
        let form = serde_urlencoded::to_string([("payload", SUCCESS)]).unwrap();
        let read_form = read(
            Some("workflow_run"),
            Some("d1"),
            Some("application/x-www-form-urlencoded"),
            form.as_bytes(),
        )
        .unwrap();
        let read_json = read(Some("workflow_run"), Some("d1"), None, SUCCESS.as_bytes()).unwrap();
        assert_eq!(read_form, read_json);
        assert!(matches!(
            read(
                Some("workflow_run"),
                None,
                Some("application/x-www-form-urlencoded"),
                b"other=1"
            ),
            Err(DeliveryError::Unknown(_))
        ));
    }

    #[test]
    fn ping_is_answered_and_a_missing_event_is_not_githubs() {
        assert_eq!(
            read(Some("ping"), Some("d"), None, PING.as_bytes()).unwrap(),
            Received::Ping {
                zen: "Anything added dilutes everything else.".into(),
                hook_id: Some(109_948_940),
            }
        );
        for (event, body) in [
            (None, SUCCESS),
            (Some(" "), SUCCESS),
            (Some("push"), "[1]"),
            (Some("push"), "nope"),
        ] {
            assert!(
                matches!(
                    read(event, None, None, body.as_bytes()),
                    Err(DeliveryError::Unknown(_))
                ),
                "{event:?} {body:.20}"
            );
        }
    }
}
