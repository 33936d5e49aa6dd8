//! `POST /hooks/alertmanager`, `/hooks/grafana`, `/hooks/pagerduty`, `/hooks/github`: each
//! tool's own webhook, checked with its own authentication, read as a
//! [`Delivery`], deduplicated, mapped to a command by the rules (or the defaults) and
//! carried out for the actor it names (`alertmanager:HighLatency`, `github:octo/repo`).
//!
//! What the answer says, and why it is what it is:
//!
//! - 404: the receiver has no secret configured — it is not there.
//! - 401 `bad-signature` / `stale-delivery`, 400 `unknown-delivery`: the delivery is not
//!   the tool's, or not in its format. Nothing is played.
//! - 200 with `"duplicate": true`: a delivery already taken (a retry, an HA peer's copy).
//! - 200 with `"ignored": true` and `why`: it maps to nothing (logged).
//! - 200 with `command` and `done`: carried out. A command the session refuses (`next`
//!   with no session) is a 200 too, with `refused` saying why (logged): the tools retry
//!   any other answer, and a retry would be refused the same way.
//! - 5xx: gongan could not carry it out for a reason of its own (the journal cannot be
//!   written, shutting down); the delivery is forgotten, so the tool's retry is taken.

use std::time::SystemTime;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;

use super::super::act::{Acted, act};
use super::super::json::{json_response, read_body};
use super::super::problem::{ApiError, ProblemType};
use super::super::state::AppState;
use super::HookProblems;
use crate::config::Source;
use crate::receivers::github::Received;
use crate::receivers::rules::{self, Delivery, DeliveryError, Mapping};
use crate::receivers::{alertmanager, github, grafana, pagerduty};

/// How much of a delivery id an answer quotes.
const ID_SHOWN: usize = 200;

/// `POST /hooks/alertmanager`: an Alertmanager v4 webhook with the hook token (bearer, or
/// the basic-auth password).
#[utoipa::path(post, path = "/hooks/alertmanager", tag = "hooks",
    params(("Authorization" = String, Header, description = "`Bearer {hook token}`, or basic auth with the hook token as password")),
    request_body(description = "Alertmanager's webhook (version 4): `firing` or `resolved` alerts", content(("application/json"))),
    responses((status = 200, description = "Taken: carried out (`command`, `done`), refused by the session (`refused`), mapped to nothing (`ignored`, `why`) or already taken (`duplicate`)", body = Answer),
        HookProblems))]
pub async fn alertmanager(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, ApiError> {
    let Some(token) = state.hooks().token.clone() else {
        return Err(not_configured(Source::Alertmanager));
    };
    // The token does not depend on the body: a stranger's body is not even read.
    alertmanager::check_token(&token, bytes(&headers, header::AUTHORIZATION.as_str()))
        .map_err(|error| refused(Source::Alertmanager, error))?;
    let body = read_body(request, &state).await?;
    let delivery =
        alertmanager::read(&body).map_err(|error| refused(Source::Alertmanager, error))?;
    deliver(&state, delivery).await
}

/// `POST /hooks/grafana`: a Grafana webhook contact point's notification, with the hook
/// token or Grafana's HMAC signature.
#[utoipa::path(post, path = "/hooks/grafana", tag = "hooks",
    params(("Authorization" = Option<String>, Header, description = "`Bearer {hook token}` (or sign with HMAC instead)"),
        ("X-Grafana-Alerting-Signature" = Option<String>, Header, description = "Lowercase hex HMAC-SHA256 of the body (or of `{timestamp}:{body}` with the timestamp header) with grafana_hmac_secret"),
        ("X-Grafana-Alerting-Signature-Timestamp" = Option<String>, Header, description = "Unix seconds, signed with the body; at most 5 minutes from the server's clock")),
    request_body(description = "A Grafana webhook contact point's notification", content(("application/json"))),
    responses((status = 200, description = "Taken: carried out (`command`, `done`), refused by the session (`refused`), mapped to nothing (`ignored`, `why`) or already taken (`duplicate`)", body = Answer),
        HookProblems))]
pub async fn grafana(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, ApiError> {
    let hooks = state.hooks().clone();
    if !hooks.configured(Source::Grafana) {
        return Err(not_configured(Source::Grafana));
    }
    let body = read_body(request, &state).await?;
    let sent = grafana::Credentials {
        authorization: bytes(&headers, header::AUTHORIZATION.as_str()),
        signature: bytes(&headers, grafana::SIGNATURE_HEADER),
        timestamp: bytes(&headers, grafana::TIMESTAMP_HEADER),
    };
    grafana::check(
        hooks.token.as_ref(),
        hooks.grafana_hmac_secret.as_ref(),
        sent,
        &body,
        SystemTime::now(),
    )
    .map_err(|error| refused(Source::Grafana, error))?;
    let delivery = grafana::read(&body).map_err(|error| refused(Source::Grafana, error))?;
    deliver(&state, delivery).await
}

/// `POST /hooks/pagerduty`: a PagerDuty v3 webhook, signed with the subscription's secret.
#[utoipa::path(post, path = "/hooks/pagerduty", tag = "hooks",
    params(("X-PagerDuty-Signature" = String, Header, description = "`v1=` HMAC-SHA256 hex of the body (several, comma-separated, while a secret rotates)"),
        ("X-Webhook-Id" = Option<String>, Header, description = "The delivery id, for deduplication")),
    request_body(description = "A PagerDuty v3 webhook event (`incident.triggered`, …)", content(("application/json"))),
    responses((status = 200, description = "Taken: carried out (`command`, `done`), refused by the session (`refused`), mapped to nothing (`ignored`, `why`) or already taken (`duplicate`)", body = Answer),
        HookProblems))]
pub async fn pagerduty(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, ApiError> {
    let Some(secret) = state.hooks().pagerduty_secret.clone() else {
        return Err(not_configured(Source::Pagerduty));
    };
    let body = read_body(request, &state).await?;
    pagerduty::check(&secret, bytes(&headers, pagerduty::SIGNATURE_HEADER), &body)
        .map_err(|error| refused(Source::Pagerduty, error))?;
    let delivery = pagerduty::read(&body, text(&headers, pagerduty::WEBHOOK_ID_HEADER))
        .map_err(|error| refused(Source::Pagerduty, error))?;
    deliver(&state, delivery).await
}

/// `POST /hooks/github`: a GitHub webhook, signed with the hook's secret. `ping` is
/// answered and changes nothing.
#[utoipa::path(post, path = "/hooks/github", tag = "hooks",
    params(("X-Hub-Signature-256" = String, Header, description = "`sha256=` HMAC-SHA256 hex of the body with the hook's secret"),
        ("X-GitHub-Event" = String, Header, description = "`workflow_run`, `check_suite`, `deployment_status`, `ping`, …"),
        ("X-GitHub-Delivery" = String, Header, description = "The delivery id, for deduplication")),
    request_body(description = "A GitHub webhook payload, as JSON or form-encoded (`payload=`)",
        content(("application/json"), ("application/x-www-form-urlencoded"))),
    responses((status = 200, description = "Taken: carried out (`command`, `done`), refused by the session (`refused`), mapped to nothing (`ignored`, `why`) or already taken (`duplicate`)", body = Answer),
        HookProblems))]
pub async fn github(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, ApiError> {
    let Some(secret) = state.hooks().github_secret.clone() else {
        return Err(not_configured(Source::Github));
    };
    let body = read_body(request, &state).await?;
    github::check(&secret, bytes(&headers, github::SIGNATURE_HEADER), &body)
        .map_err(|error| refused(Source::Github, error))?;
    let received = github::read(
        text(&headers, github::EVENT_HEADER),
        text(&headers, github::DELIVERY_HEADER),
        text(&headers, header::CONTENT_TYPE.as_str()),
        &body,
    )
    .map_err(|error| refused(Source::Github, error))?;
    match received {
        Received::Ping { zen, hook_id } => {
            tracing::info!(
                source = "github",
                ?hook_id,
                "ping: the GitHub webhook reaches gongan"
            );
            Ok(json_response(
                StatusCode::OK,
                &serde_json::json!({
                    "source": "github",
                    "event": "ping",
                    "pong": true,
                    "hook_id": hook_id,
                    "zen": zen,
                }),
            ))
        }
        Received::Event(delivery) => deliver(&state, delivery).await,
    }
}

/// What a delivery came to, as the tool (and whoever reads its delivery log) sees it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DeliveryAnswer)]
struct Answer {
    /// The receiver.
    source: &'static str,
    /// The delivery's event (`firing`, `incident.triggered`, `workflow_run`).
    event: String,
    /// Its delivery id (cut to [`ID_SHOWN`] characters).
    delivery: String,
    /// Who it acts as.
    actor: String,
    /// Already taken: nothing played.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    duplicate: bool,
    /// Mapped to nothing.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    ignored: bool,
    /// Why it was ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    why: Option<String>,
    /// The command it mapped to.
    #[serde(skip_serializing_if = "Option::is_none")]
    command: Option<String>,
    /// What chose the command: `default` or `rule N`.
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<String>,
    /// What the command did, in a line.
    #[serde(skip_serializing_if = "Option::is_none")]
    done: Option<String>,
    /// The cue it scheduled (or joined).
    #[serde(skip_serializing_if = "Option::is_none")]
    cue: Option<CueAnswer>,
    /// Why the session refused the command.
    #[serde(skip_serializing_if = "Option::is_none")]
    refused: Option<Refusal>,
}

/// The cue a delivery scheduled.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DeliveryCue)]
struct CueAnswer {
    /// The cue's id (of the identical cue it joined, when coalesced).
    id: u64,
    /// Whether it joined an identical cue inside the coalescing window (no new stroke).
    coalesced: bool,
}

/// Why the session refused a delivery's command.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DeliveryRefusal)]
struct Refusal {
    /// The problem type, as the `/v1` route would answer it.
    #[serde(rename = "type")]
    kind: String,
    /// Why.
    detail: String,
}

/// Deduplicates, maps and carries out a delivery that checked out.
async fn deliver(state: &AppState, delivery: Delivery) -> Result<Response, ApiError> {
    let source = delivery.source;
    let actor = rules::actor(source, &delivery.subject);
    let mut answer = Answer {
        source: source.name(),
        event: delivery.event.clone(),
        delivery: delivery.id.chars().take(ID_SHOWN).collect(),
        actor: actor.to_string(),
        duplicate: false,
        ignored: false,
        why: None,
        command: None,
        rule: None,
        done: None,
        cue: None,
        refused: None,
    };
    let Some(ticket) = state.deliveries().first(source, &delivery.id).await else {
        tracing::info!(
            source = source.name(),
            event = %answer.event,
            delivery = %answer.delivery,
            "duplicate delivery: nothing played"
        );
        answer.duplicate = true;
        return Ok(json_response(StatusCode::OK, &answer));
    };
    let (command, because) = match rules::map(&delivery, &state.hooks().rules) {
        Mapping::Ignore { why } => {
            tracing::info!(source = source.name(), actor = %actor, "{why}");
            answer.ignored = true;
            answer.why = Some(why);
            return Ok(json_response(StatusCode::OK, &answer));
        }
        Mapping::Run { command, because } => (command, because),
    };
    answer.command = Some(command.to_string());
    answer.rule = Some(because.to_string());
    match act(state, command, actor.clone()).await {
        Ok(acted) => {
            let done = acted.describe();
            tracing::info!(
                source = source.name(),
                actor = %actor,
                event = %answer.event,
                rule = %because,
                "{done}"
            );
            if let Acted::Cued { receipt, .. } = &acted {
                answer.cue = Some(CueAnswer {
                    id: receipt.id.0,
                    coalesced: receipt.coalesced,
                });
            }
            answer.done = Some(done);
            Ok(json_response(StatusCode::OK, &answer))
        }
        // Our own failure: let the tool retry, and take the retry.
        Err(error) if error.kind().status().is_server_error() => {
            state.deliveries().forget(ticket).await;
            tracing::warn!(
                source = source.name(),
                actor = %actor,
                "could not carry out {}: {error}",
                answer.command.as_deref().unwrap_or_default()
            );
            Err(error)
        }
        Err(error) => {
            let problem = error.problem();
            tracing::warn!(
                source = source.name(),
                actor = %actor,
                event = %answer.event,
                "{} refused: {}",
                answer.command.as_deref().unwrap_or_default(),
                problem.detail
            );
            answer.refused = Some(Refusal {
                kind: problem.kind,
                detail: problem.detail,
            });
            Ok(json_response(StatusCode::OK, &answer))
        }
    }
}

/// The answer of a receiver with no secret: it is not there.
fn not_configured(source: Source) -> ApiError {
    let setting = match source {
        Source::Alertmanager => "GONGAN_HOOK_TOKEN",
        Source::Grafana => "GONGAN_HOOK_TOKEN or GONGAN_GRAFANA_HMAC_SECRET",
        Source::Pagerduty => "GONGAN_PAGERDUTY_SECRET",
        Source::Github => "GONGAN_GITHUB_SECRET",
        Source::Slack => "GONGAN_SLACK_SIGNING_SECRET",
        Source::Mattermost => "GONGAN_MATTERMOST_TOKEN",
    };
    ApiError::NotFound(format!(
        "the {source} receiver is not configured: set {setting} (or its key under [hooks] in \
         the config file); `gongan hooks` shows how"
    ))
}

/// A delivery refused before anything was done, as a problem answer.
fn refused(source: Source, error: DeliveryError) -> ApiError {
    let (kind, detail) = match error {
        DeliveryError::BadSignature(detail) => (ProblemType::BadSignature, detail),
        DeliveryError::Stale(detail) => (ProblemType::StaleDelivery, detail),
        DeliveryError::Unknown(detail) => (ProblemType::UnknownDelivery, detail),
    };
    tracing::info!(
        source = source.name(),
        problem = kind.slug(),
        "refused: {detail}"
    );
    ApiError::specific(kind, format!("{source}: {detail}"))
}

fn bytes<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a [u8]> {
    headers.get(name).map(|value| value.as_bytes())
}

fn text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}
