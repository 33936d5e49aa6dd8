//! Slack and Mattermost slash commands (PRODUCT.md §7): the form a `/gong kenong 3` arrives
//! as, each tool's own authentication, and the answer in the JSON both tools read.
//!
//! - Slack signs `v0:{timestamp}:{raw body}` with the app's signing secret (HMAC-SHA256,
//!   `X-Slack-Signature: v0=…`, `X-Slack-Request-Timestamp`) and expects requests older or
//!   newer than five minutes to be refused.
//! - Mattermost sends the slash command's token twice: as `Authorization: Token …` and as
//!   the form's `token` field.
//!
//! Pure: raw body bytes, header values and the current time in; a [`SlashCommand`] or a
//! [`SlashError`] out. The routes that call it are `http::hooks::chat`.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::verify::{hex_matches, hmac_sha256};
use crate::config::{Secret, Source};
use crate::session::Actor;

/// The header carrying Slack's signature, `v0=` and 64 hex digits.
pub const SLACK_SIGNATURE: &str = "x-slack-signature";
/// The header carrying the Unix time (seconds) Slack signed the request at.
pub const SLACK_TIMESTAMP: &str = "x-slack-request-timestamp";
/// How far a Slack request's timestamp may be from the server's clock, either way, in
/// seconds: Slack's own recommendation, so a captured request cannot be replayed later.
pub const SLACK_REPLAY_WINDOW: u64 = 5 * 60;
/// The media type both tools send slash commands as.
pub const FORM: &str = "application/x-www-form-urlencoded";

/// Why a slash command request was refused. Nothing was carried out.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum SlashError {
    /// A header the tool always sends is not there.
    #[error("no {0} header: this route takes slash commands signed by Slack")]
    MissingHeader(&'static str),
    /// The signature header is not `v0=` and 64 hex digits.
    #[error("X-Slack-Signature is not a v0 signature ('v0=' and 64 hex digits)")]
    MalformedSignature,
    /// The timestamp header is not a Unix time.
    #[error("X-Slack-Request-Timestamp {0:?} is not a Unix time in seconds")]
    MalformedTimestamp(String),
    /// The signature is not the body's, signed with our secret.
    #[error(
        "X-Slack-Signature does not match the request signed with the signing secret: set \
         GONGAN_SLACK_SIGNING_SECRET to the one on the Slack app's Basic Information page"
    )]
    SignatureMismatch,
    /// Signed, but too long before or after now.
    #[error(
        "the request was signed {seconds} s {} the server's clock, outside Slack's \
         {SLACK_REPLAY_WINDOW}-second replay window: a replayed request, or a clock far off",
        side(*.ahead)
    )]
    Stale {
        /// How far from now, in whole seconds.
        seconds: u64,
        /// Whether the timestamp is in the future.
        ahead: bool,
    },
    /// Neither the header nor the form carries a token.
    #[error(
        "no Mattermost token: neither an 'Authorization: Token …' header nor a token field in the form"
    )]
    MissingToken,
    /// A token that is not the slash command's.
    #[error(
        "the token does not match: set GONGAN_MATTERMOST_TOKEN to the one Mattermost shows \
         for the slash command"
    )]
    TokenMismatch,
    /// The body is not sent as a form.
    #[error("send the slash command as {FORM}, as Slack and Mattermost do (got {0})")]
    NotAForm(String),
    /// A form, but not a slash command's.
    #[error("the form is not a slash command: {0}")]
    NotASlashCommand(String),
}

/// How a [`SlashError`] is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The request is not from the tool: no signature or token, or the wrong one.
    BadSignature,
    /// From the tool, but outside the replay window.
    StaleDelivery,
    /// Authentic, but not a slash command.
    UnknownDelivery,
}

impl SlashError {
    /// Which kind of refusal it is.
    #[must_use]
    pub fn refusal(&self) -> Refusal {
        match self {
            SlashError::MissingHeader(_)
            | SlashError::MalformedSignature
            | SlashError::MalformedTimestamp(_)
            | SlashError::SignatureMismatch
            | SlashError::MissingToken
            | SlashError::TokenMismatch => Refusal::BadSignature,
            SlashError::Stale { .. } => Refusal::StaleDelivery,
            SlashError::NotAForm(_) | SlashError::NotASlashCommand(_) => Refusal::UnknownDelivery,
        }
    }
}

/// Checks a Slack request: its signature over `v0:{timestamp}:{body}` with `secret`, then
/// its timestamp against `now` (within [`SLACK_REPLAY_WINDOW`] either way).
///
/// The signature is checked first, so "stale" is only ever said of a request Slack really
/// signed; a forged one is a bad signature whatever its timestamp.
///
/// # Errors
/// A missing or malformed header, a signature that does not match, or a stale timestamp.
pub fn verify_slack(
    secret: &Secret,
    signature: Option<&str>,
    timestamp: Option<&str>,
    body: &[u8],
    now: SystemTime,
) -> Result<(), SlashError> {
    let signature = signature.ok_or(SlashError::MissingHeader("X-Slack-Signature"))?;
    let timestamp = timestamp
        .ok_or(SlashError::MissingHeader("X-Slack-Request-Timestamp"))?
        .trim();
    let digits = signature
        .trim()
        .strip_prefix("v0=")
        .filter(|hex| hex.len() == 64)
        .ok_or(SlashError::MalformedSignature)?;
    let signed_at: u64 = timestamp
        .parse()
        .ok()
        .filter(|_| timestamp.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| SlashError::MalformedTimestamp(shorten(timestamp)))?;
    let expected = hmac_sha256(
        secret.expose().as_bytes(),
        &[b"v0:", timestamp.as_bytes(), b":", body],
    );
    if !hex_matches(&expected, digits) {
        return Err(SlashError::SignatureMismatch);
    }
    let now = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let seconds = now.abs_diff(signed_at);
    if seconds > SLACK_REPLAY_WINDOW {
        return Err(SlashError::Stale {
            seconds,
            ahead: signed_at > now,
        });
    }
    Ok(())
}

/// Checks a Mattermost request's token: the `Authorization: Token …` header and every
/// `token` field of the form `body`. At least one must be there and every one there must
/// be `secret` (a proxy may drop the header; a second, different token is not the tool's).
/// An `Authorization` header of another scheme is not Mattermost's and is ignored.
///
/// # Errors
/// [`SlashError::MissingToken`] or [`SlashError::TokenMismatch`].
pub fn verify_mattermost(
    secret: &Secret,
    authorization: Option<&str>,
    body: &[u8],
) -> Result<(), SlashError> {
    let header = authorization.and_then(|value| {
        let (scheme, token) = value.trim().split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("token")
            .then(|| token.trim().to_owned())
    });
    let fields = fields(body)
        .into_iter()
        .filter(|(name, _)| name == "token")
        .map(|(_, value)| value);
    let mut presented = header.into_iter().chain(fields).peekable();
    if presented.peek().is_none() {
        return Err(SlashError::MissingToken);
    }
    // Every token is compared, so the time taken does not say which one was wrong.
    let all_match = presented.fold(true, |ok, token| secret.matches(token.as_bytes()) & ok);
    if all_match {
        Ok(())
    } else {
        Err(SlashError::TokenMismatch)
    }
}

/// Checks that a request's `Content-Type` says it is a form (parameters such as
/// `charset` allowed).
///
/// # Errors
/// [`SlashError::NotAForm`] naming what was sent.
pub fn check_form_type(content_type: Option<&str>) -> Result<(), SlashError> {
    let mime = content_type
        .and_then(|value| value.split(';').next())
        .map(str::trim);
    match mime {
        Some(mime) if mime.eq_ignore_ascii_case(FORM) => Ok(()),
        Some(mime) => Err(SlashError::NotAForm(format!("{:?}", shorten(mime)))),
        None => Err(SlashError::NotAForm("no Content-Type".into())),
    }
}

/// The fields of a slash command gongan reads, from either tool; the others (team,
/// channel, `response_url`, `trigger_id`…) are left alone.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SlashCommand {
    /// The command as configured in the tool, with its slash: `/gong`.
    pub command: String,
    /// What followed the command: the command grammar's text (`kenong 3`); empty strikes
    /// the gong.
    #[serde(default)]
    pub text: String,
    /// The user's handle, without `@`.
    #[serde(default)]
    pub user_name: Option<String>,
    /// The user's id in the tool.
    #[serde(default)]
    pub user_id: Option<String>,
}

impl SlashCommand {
    /// Reads a slash command form.
    ///
    /// # Errors
    /// [`SlashError::NotASlashCommand`]: not a form, a form without a `command` that starts
    /// with `/`, or with a field twice.
    pub fn parse(body: &[u8]) -> Result<SlashCommand, SlashError> {
        let form: SlashCommand = serde_urlencoded::from_bytes(body)
            .map_err(|error| SlashError::NotASlashCommand(error.to_string()))?;
        let command = form.command.trim();
        if !command.starts_with('/') || command.len() < 2 {
            return Err(SlashError::NotASlashCommand(format!(
                "command {:?} is not a slash command like \"/gong\"",
                shorten(command)
            )));
        }
        Ok(form)
    }

    /// Who typed it, for the journal: `slack:@ana` (`source:@user_name`), or the user's id
    /// when the name cannot be an actor (missing, too long).
    ///
    /// # Errors
    /// [`SlashError::NotASlashCommand`] when neither gives an actor.
    pub fn actor(&self, source: Source) -> Result<Actor, SlashError> {
        [&self.user_name, &self.user_id]
            .into_iter()
            .flatten()
            .map(|name| name.trim().trim_start_matches('@'))
            .filter(|name| !name.is_empty())
            .find_map(|name| Actor::new(&format!("{}:@{name}", source.name())).ok())
            .ok_or_else(|| {
                SlashError::NotASlashCommand(
                    "it names no user (user_name or user_id) to record as who acted".into(),
                )
            })
    }
}

/// Who sees an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseType {
    /// Everyone in the channel: a change to the session.
    InChannel,
    /// Only the person who typed the command: status, help, a refusal.
    Ephemeral,
}

/// The answer to a slash command, in the JSON Slack and Mattermost both read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlashAnswer {
    /// Who sees it.
    pub response_type: ResponseType,
    /// What it says (Markdown).
    pub text: String,
}

impl SlashAnswer {
    /// An answer for everyone in the channel.
    #[must_use]
    pub fn in_channel(text: impl Into<String>) -> SlashAnswer {
        SlashAnswer {
            response_type: ResponseType::InChannel,
            text: text.into(),
        }
    }

    /// An answer for the person who typed the command only.
    #[must_use]
    pub fn ephemeral(text: impl Into<String>) -> SlashAnswer {
        SlashAnswer {
            response_type: ResponseType::Ephemeral,
            text: text.into(),
        }
    }
}

/// Where a timestamp lies from now.
fn side(ahead: bool) -> &'static str {
    if ahead { "ahead of" } else { "behind" }
}

/// Every `name=value` pair of a form, decoded (invalid UTF-8 replaced); anything is a form
/// of some pairs.
fn fields(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

/// A piece of a request quoted back in an error: at most 64 characters, no control
/// characters.
fn shorten(text: &str) -> String {
    let mut short: String = text.chars().filter(|c| !c.is_control()).take(64).collect();
    if text.chars().count() > 64 {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod test {
    use std::time::Duration;

    use super::*;

    /// The request in Slack's "Verifying requests from Slack": its body, signing secret,
    /// timestamp and signature, as published.
    const SLACK_BODY: &[u8] = include_bytes!("../../tests/fixtures/hooks/slack-slash-command.form");
    const SLACK_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const SLACK_TIMESTAMP_SENT: &str = "1531420618";
    const SLACK_SIGNATURE_SENT: &str =
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    /// The request in Mattermost's "Slash commands" developer documentation.
    const MATTERMOST_BODY: &[u8] =
        include_bytes!("../../tests/fixtures/hooks/mattermost-slash-command.form");
    const MATTERMOST_TOKEN: &str = "nezum4kpu3faiec7r7c5zt6tfy";

    fn secret(text: &str) -> Secret {
        Secret::new(text).unwrap()
    }

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    fn slack(
        signature: Option<&str>,
        timestamp: Option<&str>,
        body: &[u8],
        now: u64,
    ) -> Result<(), SlashError> {
        verify_slack(&secret(SLACK_SECRET), signature, timestamp, body, at(now))
    }

    fn sign(timestamp: &str, body: &[u8]) -> String {
        let mac = hmac_sha256(
            SLACK_SECRET.as_bytes(),
            &[b"v0:", timestamp.as_bytes(), b":", body],
        );
        format!("v0={}", hex::encode(mac))
    }

    #[test]
    fn slacks_published_example_verifies() {
        let sent = 1_531_420_618;
        assert_eq!(sign(SLACK_TIMESTAMP_SENT, SLACK_BODY), SLACK_SIGNATURE_SENT);
        for now in [sent, sent - 300, sent + 300, sent + 42] {
            assert_eq!(
                slack(
                    Some(SLACK_SIGNATURE_SENT),
                    Some(SLACK_TIMESTAMP_SENT),
                    SLACK_BODY,
                    now
                ),
                Ok(()),
                "at {now}"
            );
        }
        // Uppercase hex and stray spaces are the same signature.
        let upper = format!("v0={}", SLACK_SIGNATURE_SENT[3..].to_uppercase());
        assert_eq!(
            slack(Some(&upper), Some(" 1531420618 "), SLACK_BODY, sent),
            Ok(())
        );
    }

    #[test]
    fn a_slack_request_changed_in_any_part_is_refused() {
        let sent = 1_531_420_618;
        let mut tampered = SLACK_BODY.to_vec();
        let text = tampered.windows(6).position(|w| w == b"&text=").unwrap() + 6;
        tampered.splice(text..text, b"stop".iter().copied());
        let mut flipped = SLACK_SIGNATURE_SENT.to_owned();
        flipped.replace_range(10..11, "0");
        // (signature, timestamp, body, the refusal)
        type Case<'a> = (Option<&'a str>, Option<&'a str>, &'a [u8], SlashError);
        let cases: [Case; 9] = [
            (
                None,
                Some(SLACK_TIMESTAMP_SENT),
                SLACK_BODY,
                SlashError::MissingHeader("X-Slack-Signature"),
            ),
            (
                Some(SLACK_SIGNATURE_SENT),
                None,
                SLACK_BODY,
                SlashError::MissingHeader("X-Slack-Request-Timestamp"),
            ),
            (
                Some(SLACK_SIGNATURE_SENT),
                Some(SLACK_TIMESTAMP_SENT),
                &tampered,
                SlashError::SignatureMismatch,
            ),
            (
                Some(SLACK_SIGNATURE_SENT),
                Some("1531420619"),
                SLACK_BODY,
                SlashError::SignatureMismatch,
            ),
            (
                Some(&flipped),
                Some(SLACK_TIMESTAMP_SENT),
                SLACK_BODY,
                SlashError::SignatureMismatch,
            ),
            (
                Some(&SLACK_SIGNATURE_SENT[3..]),
                Some(SLACK_TIMESTAMP_SENT),
                SLACK_BODY,
                SlashError::MalformedSignature,
            ),
            (
                Some("v1=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"),
                Some(SLACK_TIMESTAMP_SENT),
                SLACK_BODY,
                SlashError::MalformedSignature,
            ),
            (
                Some(SLACK_SIGNATURE_SENT),
                Some("+1531420618"),
                SLACK_BODY,
                SlashError::MalformedTimestamp("+1531420618".into()),
            ),
            (
                Some(SLACK_SIGNATURE_SENT),
                Some("99999999999999999999999"),
                SLACK_BODY,
                SlashError::MalformedTimestamp("99999999999999999999999".into()),
            ),
        ];
        for (signature, timestamp, body, expected) in cases {
            let got = slack(signature, timestamp, body, sent);
            assert_eq!(got, Err(expected.clone()), "{signature:?} {timestamp:?}");
            assert_eq!(expected.refusal(), Refusal::BadSignature);
        }
        // The same request with another secret.
        let other = verify_slack(
            &secret("8f742231b10e8888abcd99yyyzzz85a6"),
            Some(SLACK_SIGNATURE_SENT),
            Some(SLACK_TIMESTAMP_SENT),
            SLACK_BODY,
            at(sent),
        );
        assert_eq!(other, Err(SlashError::SignatureMismatch));
    }

    #[test]
    fn a_slack_request_more_than_five_minutes_off_is_stale() {
        let sent = 1_531_420_618;
        let stale = |now| {
            slack(
                Some(SLACK_SIGNATURE_SENT),
                Some(SLACK_TIMESTAMP_SENT),
                SLACK_BODY,
                now,
            )
        };
        let late = stale(sent + 301).unwrap_err();
        assert_eq!(
            late,
            SlashError::Stale {
                seconds: 301,
                ahead: false
            }
        );
        assert_eq!(late.refusal(), Refusal::StaleDelivery);
        assert!(late.to_string().contains("301 s behind"), "{late}");
        assert_eq!(
            stale(sent - 301),
            Err(SlashError::Stale {
                seconds: 301,
                ahead: true
            })
        );
        assert_eq!(
            stale(sent + 86_400 * 365),
            Err(SlashError::Stale {
                seconds: 86_400 * 365,
                ahead: false
            })
        );
        // A forged request is a bad signature, however old.
        let forged = slack(
            Some(&sign("1", b"text=stop")),
            Some(SLACK_TIMESTAMP_SENT),
            b"text=stop",
            sent + 1000,
        );
        assert_eq!(forged, Err(SlashError::SignatureMismatch));
        // A clock before 1970 is far off, not a panic.
        assert!(matches!(
            verify_slack(
                &secret(SLACK_SECRET),
                Some(SLACK_SIGNATURE_SENT),
                Some(SLACK_TIMESTAMP_SENT),
                SLACK_BODY,
                UNIX_EPOCH - Duration::from_secs(5)
            ),
            Err(SlashError::Stale { ahead: true, .. })
        ));
    }

    #[test]
    fn mattermosts_token_is_checked_in_the_header_and_the_form() {
        let token = secret(MATTERMOST_TOKEN);
        let header = format!("Token {MATTERMOST_TOKEN}");
        // As Mattermost sends it: both.
        assert_eq!(
            verify_mattermost(&token, Some(&header), MATTERMOST_BODY),
            Ok(())
        );
        // Either on its own.
        assert_eq!(verify_mattermost(&token, None, MATTERMOST_BODY), Ok(()));
        assert_eq!(
            verify_mattermost(
                &token,
                Some("token  nezum4kpu3faiec7r7c5zt6tfy "),
                b"text=x"
            ),
            Ok(())
        );
        // A Bearer header is not Mattermost's: the form's token decides.
        assert_eq!(
            verify_mattermost(&token, Some("Bearer nope"), MATTERMOST_BODY),
            Ok(())
        );
        let wrong = secret("okwexkjpe7ygb8eq1ww58t483w");
        for (authorization, body, expected) in [
            (None, &b"text=asd"[..], SlashError::MissingToken),
            (
                Some("Bearer nezum4kpu3faiec7r7c5zt6tfy"),
                b"text=asd",
                SlashError::MissingToken,
            ),
            (None, b"", SlashError::MissingToken),
            (
                Some("Token okwexkjpe7ygb8eq1ww58t483w"),
                MATTERMOST_BODY,
                SlashError::TokenMismatch,
            ),
            (
                Some(&header),
                b"token=okwexkjpe7ygb8eq1ww58t483w&text=asd",
                SlashError::TokenMismatch,
            ),
            (
                None,
                b"token=nezum4kpu3faiec7r7c5zt6tfy&token=other",
                SlashError::TokenMismatch,
            ),
            (None, b"token=", SlashError::TokenMismatch),
            (Some("Token "), b"text=asd", SlashError::MissingToken),
        ] {
            let got = verify_mattermost(&token, authorization, body);
            assert_eq!(
                got,
                Err(expected.clone()),
                "{authorization:?} {:?}",
                String::from_utf8_lossy(body)
            );
            assert_eq!(expected.refusal(), Refusal::BadSignature);
        }
        assert_eq!(
            verify_mattermost(&wrong, Some(&header), MATTERMOST_BODY),
            Err(SlashError::TokenMismatch)
        );
    }

    #[test]
    fn the_documented_payloads_read_as_slash_commands() {
        let slack = SlashCommand::parse(SLACK_BODY).unwrap();
        assert_eq!(
            slack,
            SlashCommand {
                command: "/webhook-collect".into(),
                text: String::new(),
                user_name: Some("roadrunner".into()),
                user_id: Some("U2CERLKJA".into()),
            }
        );
        assert_eq!(
            slack.actor(Source::Slack).unwrap().as_str(),
            "slack:@roadrunner"
        );

        let mattermost = SlashCommand::parse(MATTERMOST_BODY).unwrap();
        assert_eq!(
            (mattermost.command.as_str(), mattermost.text.as_str()),
            ("/test", "asd")
        );
        assert_eq!(
            mattermost.actor(Source::Mattermost).unwrap().as_str(),
            "mattermost:@tester"
        );

        // Percent-escapes and `+` are spaces, as browsers and both tools write them.
        let form = SlashCommand::parse(b"command=%2Fgong&text=kenong+3&user_name=ana").unwrap();
        assert_eq!(form.text, "kenong 3");
        assert_eq!(
            SlashCommand::parse(b"command=/gong&text=%2B2m&user_id=U1")
                .unwrap()
                .text,
            "+2m"
        );
    }

    #[test]
    fn the_actor_falls_back_to_the_users_id() {
        let form = |name: Option<&str>, id: Option<&str>| SlashCommand {
            command: "/gong".into(),
            text: String::new(),
            user_name: name.map(str::to_owned),
            user_id: id.map(str::to_owned),
        };
        let long = "a".repeat(100);
        for (name, id, actor) in [
            (Some("ana"), Some("U1"), "slack:@ana"),
            (Some("@ana "), None, "slack:@ana"),
            (None, Some("U2CERLKJA"), "slack:@U2CERLKJA"),
            (Some(""), Some("U2CERLKJA"), "slack:@U2CERLKJA"),
            (Some(long.as_str()), Some("U2CERLKJA"), "slack:@U2CERLKJA"),
            (Some("ana\u{7}"), Some("U2CERLKJA"), "slack:@U2CERLKJA"),
        ] {
            assert_eq!(form(name, id).actor(Source::Slack).unwrap().as_str(), actor);
        }
        assert_eq!(
            form(Some(&"a".repeat(93)), None)
                .actor(Source::Slack)
                .unwrap()
                .as_str()
                .chars()
                .count(),
            100
        );
        for (name, id) in [
            (None, None),
            (Some(" "), Some("")),
            (Some(long.as_str()), None),
        ] {
            let error = form(name, id).actor(Source::Slack).unwrap_err();
            assert_eq!(error.refusal(), Refusal::UnknownDelivery);
        }
    }

    #[test]
    fn what_is_not_a_slash_command_form_is_an_unknown_delivery() {
        for body in [
            &b""[..],
            b"text=kenong+3&user_name=ana",
            b"command=gong&user_name=ana",
            b"command=/&user_name=ana",
            b"command=/gong&text=a&text=b&user_name=ana",
            br#"{"command": "/gong", "text": "next"}"#,
        ] {
            let error = SlashCommand::parse(body).unwrap_err();
            assert!(
                matches!(error, SlashError::NotASlashCommand(_)),
                "{error:?}"
            );
            assert_eq!(error.refusal(), Refusal::UnknownDelivery);
        }
        // Bytes that are not UTF-8 do not panic: they read as replacement characters.
        let odd = SlashCommand::parse(b"command=/gong&text=%FF%FE&user_name=ana").unwrap();
        assert_eq!(odd.text, "\u{fffd}\u{fffd}");
    }

    #[test]
    fn the_body_must_be_sent_as_a_form() {
        for ok in [
            FORM,
            "application/x-www-form-urlencoded; charset=utf-8",
            "Application/X-WWW-Form-URLEncoded",
        ] {
            assert_eq!(check_form_type(Some(ok)), Ok(()), "{ok}");
        }
        for (bad, says) in [
            (Some("application/json"), "\"application/json\""),
            (
                Some("multipart/form-data; boundary=x"),
                "\"multipart/form-data\"",
            ),
            (None, "no Content-Type"),
        ] {
            let error = check_form_type(bad).unwrap_err();
            assert_eq!(error.refusal(), Refusal::UnknownDelivery);
            assert!(error.to_string().contains(says), "{error}");
        }
    }

    #[test]
    fn answers_are_in_the_tools_json() {
        let answer = serde_json::to_value(SlashAnswer::in_channel("@ana: next")).unwrap();
        assert_eq!(
            answer,
            serde_json::json!({"response_type": "in_channel", "text": "@ana: next"})
        );
        let answer = serde_json::to_value(SlashAnswer::ephemeral("help")).unwrap();
        assert_eq!(answer["response_type"], "ephemeral");
    }

    #[test]
    fn errors_quote_little_of_the_request() {
        let long = "9".repeat(500);
        let error = slack(
            Some(SLACK_SIGNATURE_SENT),
            Some(&format!("{long}\u{1b}")),
            SLACK_BODY,
            0,
        )
        .unwrap_err();
        assert!(error.to_string().len() < 200, "{error}");
        assert!(!error.to_string().contains('\u{1b}'));
    }
}
