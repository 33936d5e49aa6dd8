//! `POST /hooks/slack` and `POST /hooks/mattermost`: slash commands (`/gong kenong 3`,
//! `/gong next`, `/gong status`…) carried out as the `/v1` routes would, for the person who
//! typed them (`slack:@ana`), and answered in the tools' `response_type` JSON.
//!
//! What only the tool could have sent is checked first (Slack's signature and replay
//! window, Mattermost's token): a request that fails is a problem answer (401, or 400 for
//! a body that is no slash command) and nothing is carried out. Once the tool is
//! recognised, every answer is a 200, because Slack and Mattermost show anything else as a
//! bare "failed" with no reason: a command the grammar or the session refuses is answered
//! to its typist alone (`ephemeral`) with the one-line reason.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::super::act::{Acted, act};
use super::super::json::{json_response, read_body};
use super::super::openapi::SlashAnswerDoc;
use super::super::problem::{ApiError, ProblemType};
use super::super::state::AppState;
use super::HookProblems;
use crate::command::Command;
use crate::config::{Secret, Source};
use crate::receivers::slash::{
    self, Refusal, SLACK_SIGNATURE, SLACK_TIMESTAMP, SlashAnswer, SlashCommand, SlashError,
};
use crate::session::Actor;

/// How long a command may take before the answer says it is still under way: Slack drops
/// answers after 3 s, so this leaves room for the network.
const ANSWER_WITHIN: Duration = Duration::from_millis(2500);

/// `POST /hooks/slack`: a Slack slash command, signed with the app's signing secret.
#[utoipa::path(post, path = "/hooks/slack", tag = "hooks",
    params(
        ("X-Slack-Signature" = String, Header, description = "`v0=` HMAC-SHA256 of `v0:{timestamp}:{body}` with the app's signing secret"),
        ("X-Slack-Request-Timestamp" = String, Header, description = "Unix seconds; older than 5 minutes is refused")),
    request_body(description = "Slack's slash command form (`command`, `text`, `user_name`, `user_id`, …)",
        content(("application/x-www-form-urlencoded"))),
    responses((status = 200, description = "Carried out, refused or answered: `response_type` says who sees `text`", body = SlashAnswerDoc),
        HookProblems))]
pub async fn slack(State(state): State<AppState>, request: Request) -> Response {
    answer(receive(&state, request, Chat::Slack).await)
}

/// `POST /hooks/mattermost`: a Mattermost slash command, with its token.
#[utoipa::path(post, path = "/hooks/mattermost", tag = "hooks",
    params(("Authorization" = String, Header, description = "`Token {the slash command's token}`")),
    request_body(description = "Mattermost's slash command form (`command`, `text`, `user_name`, …)",
        content(("application/x-www-form-urlencoded"))),
    responses((status = 200, description = "Carried out, refused or answered: `response_type` says who sees `text`", body = SlashAnswerDoc),
        HookProblems))]
pub async fn mattermost(State(state): State<AppState>, request: Request) -> Response {
    answer(receive(&state, request, Chat::Mattermost).await)
}

/// The two tools that send slash commands.
#[derive(Debug, Clone, Copy)]
enum Chat {
    Slack,
    Mattermost,
}

impl Chat {
    fn source(self) -> Source {
        match self {
            Chat::Slack => Source::Slack,
            Chat::Mattermost => Source::Mattermost,
        }
    }
}

fn answer(result: Result<SlashAnswer, ApiError>) -> Response {
    match result {
        Ok(answer) => json_response(StatusCode::OK, &answer),
        Err(error) => error.into_response(),
    }
}

/// Authenticates, reads and carries out one slash command.
async fn receive(state: &AppState, request: Request, chat: Chat) -> Result<SlashAnswer, ApiError> {
    let secret = secret(state, chat)?;
    let headers = request.headers().clone();
    let body = read_body(request, state).await?;
    let (form, actor) = recognise(chat, &secret, &headers, &body).map_err(|error| {
        tracing::info!(
            receiver = chat.source().name(),
            "refused a slash command: {error}"
        );
        ApiError::specific(
            match error.refusal() {
                Refusal::BadSignature => ProblemType::BadSignature,
                Refusal::StaleDelivery => ProblemType::StaleDelivery,
                Refusal::UnknownDelivery => ProblemType::UnknownDelivery,
            },
            error.to_string(),
        )
    })?;
    Ok(carry_out(state, &form, actor).await)
}

/// Checks that only the tool could have sent the request (its signature or token), then
/// reads it as the slash command form it sends, and who typed it.
fn recognise(
    chat: Chat,
    secret: &Secret,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(SlashCommand, Actor), SlashError> {
    let header = |name| header_value(headers, name);
    match chat {
        Chat::Slack => slash::verify_slack(
            secret,
            header(SLACK_SIGNATURE).as_deref(),
            header(SLACK_TIMESTAMP).as_deref(),
            body,
            SystemTime::now(),
        )?,
        Chat::Mattermost => slash::verify_mattermost(
            secret,
            header(header::AUTHORIZATION.as_str()).as_deref(),
            body,
        )?,
    }
    slash::check_form_type(header(header::CONTENT_TYPE.as_str()).as_deref())?;
    let form = SlashCommand::parse(body)?;
    let actor = form.actor(chat.source())?;
    Ok((form, actor))
}

/// The receiver's secret, or 404 when it has none: an unconfigured receiver is not there.
fn secret(state: &AppState, chat: Chat) -> Result<Secret, ApiError> {
    let hooks = state.hooks();
    let (secret, setting) = match chat {
        Chat::Slack => (
            &hooks.slack_signing_secret,
            "GONGAN_SLACK_SIGNING_SECRET (or slack_signing_secret",
        ),
        Chat::Mattermost => (
            &hooks.mattermost_token,
            "GONGAN_MATTERMOST_TOKEN (or mattermost_token",
        ),
    };
    secret.clone().ok_or_else(|| {
        ApiError::NotFound(format!(
            "the {} receiver is not configured: set {setting} under [hooks] in the config file)",
            chat.source().name()
        ))
    })
}

/// A header's value as text (bytes that are not text become replacement characters, so a
/// garbled header is a wrong one, not a missing one).
fn header_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<Cow<'a, str>> {
    headers
        .get(name)
        .map(|value| String::from_utf8_lossy(value.as_bytes()))
}

/// Carries out the command for `actor` and says what happened: a change for the whole
/// channel, anything else for the typist alone.
async fn carry_out(state: &AppState, form: &SlashCommand, actor: Actor) -> SlashAnswer {
    let typed = form.command.trim();
    let command = match Command::parse(&form.text) {
        Ok(command) => command,
        Err(error) => return SlashAnswer::ephemeral(error.to_string()),
    };
    let who = who(&actor).to_owned();
    let text = command.to_string();
    match tokio::time::timeout(ANSWER_WITHIN, act(state, command, actor)).await {
        Ok(Ok(acted @ Acted::Help)) => SlashAnswer::ephemeral(format!(
            "`{typed}` on its own strikes the gong; after it:\n{}",
            acted.describe()
        )),
        Ok(Ok(acted)) if acted.is_public() => {
            SlashAnswer::in_channel(format!("{who}: {}", acted.describe()))
        }
        Ok(Ok(acted)) => SlashAnswer::ephemeral(acted.describe()),
        Ok(Err(error)) => {
            if error.kind().status().is_server_error() {
                tracing::error!("`{text}` from {who} failed: {error}");
            }
            SlashAnswer::ephemeral(format!("`{text}`: {}", one_line(&error.to_string())))
        }
        Err(_) => SlashAnswer::ephemeral(format!(
            "`{text}` is taking longer than the chat waits: `{typed} status` shows whether it \
             happened"
        )),
    }
}

/// `@ana` of `slack:@ana`.
fn who(actor: &Actor) -> &str {
    let name = actor.as_str();
    name.split_once(':').map_or(name, |(_, who)| who)
}

/// A reason on one line, as chat shows it.
fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
