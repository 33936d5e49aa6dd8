//! `GET /v1/openapi.json`: the OpenAPI document, generated from the handlers' annotations.
//!
//! The session core's types (snapshot, plan) are serialised as they are; they are
//! described here by mirror schemas, and a test checks each mirror has exactly the fields
//! the real type serialises, so the document cannot drift from what the server sends.

use serde::Serialize;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::{RefOr, extensions::Extensions};
use utoipa::{Modify, OpenApi, ToSchema};

use super::json::ApiJson;
use super::problem::ProblemType;
use super::routes::{cues, health, history, login, packs, plans, preview, session, volume};

/// What a session is doing.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StateDoc {
    /// The opening phrase.
    Buka,
    /// A segment is running.
    Running,
    /// Frozen.
    Paused,
    /// A `wait` segment past its deadline.
    Overtime,
    /// Ended.
    Finished,
}

/// A session snapshot (`GET /v1/session`).
#[derive(Serialize, ToSchema)]
pub struct SnapshotDoc {
    /// The session's id (`GET /v1/history/{id}`), e.g. `20261122-093000-7f3a`.
    pub id: String,
    /// The plan's name.
    pub plan: String,
    /// What the session is doing.
    pub state: StateDoc,
    /// The speed factor.
    pub speed: f64,
    /// When the session started (its buka began), UTC (RFC 3339).
    pub started: String,
    /// The moment the snapshot describes.
    pub now: MomentDoc,
    /// Seconds since it started (pauses included).
    pub elapsed_seconds: f64,
    /// The current plan segment (from 0).
    pub segment: usize,
    /// Its title.
    pub title: String,
    /// Its notes.
    pub notes: String,
    /// The last beat that sounded, from 1 (0 before the first).
    pub beat: u16,
    /// Beats in the form.
    pub of: u16,
    /// The form's beats as symbols (`T`, `N`, `P`, `G`…).
    pub pattern: Vec<String>,
    /// Seconds to the segment's deadline (standing still while paused).
    pub remaining_seconds: f64,
    /// Seconds past the deadline of a `wait` segment holding in overtime (else 0).
    pub overtime_seconds: f64,
    /// Session seconds of the current segment's deadline.
    pub deadline_seconds: Option<f64>,
    /// The current segment's form (`lancaran`, `ketawang`, … or its pattern).
    pub form: String,
    /// The next segment's title.
    pub next: Option<String>,
    /// The current segment's wheel, if its plan gives it `entries`.
    pub wheel: Option<WheelDoc>,
    /// Whose turn it is, if the current segment has a `rotation`.
    pub turn: Option<TurnDoc>,
    /// Every segment.
    pub segments: Vec<SegmentStatusDoc>,
}

/// A segment's wheel.
#[derive(Serialize, ToSchema)]
pub struct WheelDoc {
    /// The entries, in order round the wheel.
    pub entries: Vec<String>,
    /// `with-repetition` or `without-repetition`.
    pub draw: String,
    /// The entries drawn in this round, in order.
    pub drawn: Vec<String>,
    /// The last spin in this segment.
    pub last: Option<SpinDoc>,
}

/// One spin: where it lands and how it gets there. After a fraction `x` of the spin,
/// `steps·(1 − (1 − x)²)` entries have passed the pointer since `from`.
#[derive(Serialize, ToSchema)]
pub struct SpinDoc {
    /// The plan segment.
    pub segment: usize,
    /// The entry it lands on.
    pub entry: String,
    /// Its index in `entries`.
    pub index: usize,
    /// The wheel's entries.
    pub entries: Vec<String>,
    /// The entry under the pointer when it began.
    pub from: usize,
    /// Entries that pass the pointer.
    pub steps: u32,
    /// Session seconds when it began.
    pub start_seconds: f64,
    /// Session seconds when it lands, with the gong.
    pub land_seconds: f64,
    /// The same instant, UTC (RFC 3339).
    pub lands_at: String,
}

/// Whose turn it is.
#[derive(Serialize, ToSchema)]
pub struct TurnDoc {
    /// Who has the floor.
    pub person: String,
    /// Who comes next.
    pub next: Option<String>,
    /// Which turn, from 0.
    pub turn: usize,
    /// How many turns.
    pub of: usize,
    /// Session seconds when this turn ends.
    pub ends_seconds: f64,
}

/// A moment of session time.
#[derive(Serialize, ToSchema)]
pub struct MomentDoc {
    /// Seconds since the session's start.
    pub seconds: f64,
    /// The same instant, UTC (RFC 3339, milliseconds).
    pub utc: String,
}

/// One segment in a snapshot.
#[derive(Serialize, ToSchema)]
pub struct SegmentStatusDoc {
    /// Title.
    pub title: String,
    /// Planned seconds (at the session's speed).
    pub planned_seconds: f64,
    /// Seconds it was extended by (`extend`, +1 min), at the session's speed.
    pub extended_seconds: f64,
    /// When it (last) started, seconds since the session's start.
    pub started_seconds: Option<f64>,
    /// When it (last) ended.
    pub ended_seconds: Option<f64>,
}

/// A plan (the same model as `plans/*.toml`).
#[derive(Serialize, ToSchema)]
pub struct PlanDoc {
    /// Display name.
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// The timeboxes, in order.
    pub segments: Vec<SegmentDoc>,
}

/// One segment of a plan.
#[derive(Serialize, ToSchema)]
pub struct SegmentDoc {
    /// Title.
    #[schema(example = "Investigation")]
    pub title: String,
    /// Length: `20m`, `90s`, `1h30m`.
    #[schema(example = "20m")]
    pub duration: String,
    /// `lancaran` (default), `ketawang`, `ladrang`, `gendhing`, `bell`, or a pattern like
    /// `T W T N T P T G`.
    pub form: Option<String>,
    /// `sparse`, `normal` (default) or `full`.
    pub density: Option<String>,
    /// `auto` (default) or `wait`.
    pub end: Option<String>,
    /// Warnings before the deadline, e.g. `["5m", "1m"]`.
    pub warnings: Option<Vec<String>>,
    /// Notes for the facilitator.
    pub notes: Option<String>,
    /// A wheel to spin in this segment: people, topics, past incidents (at most 60).
    pub entries: Option<Vec<String>>,
    /// `with-repetition` (default) or `without-repetition`.
    pub draw: Option<String>,
    /// People who take the segment in turns, in order.
    pub rotation: Option<Vec<String>>,
}

/// Who sees a slash command's answer.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResponseTypeDoc {
    /// Everyone in the channel: a change to the session.
    InChannel,
    /// Only the person who typed the command: status, help, a refusal.
    Ephemeral,
}

/// The answer to a Slack or Mattermost slash command, in the JSON both read.
#[derive(Serialize, ToSchema)]
pub struct SlashAnswerDoc {
    /// Who sees it.
    pub response_type: ResponseTypeDoc,
    /// What it says (Markdown).
    pub text: String,
}

/// The API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "gongan",
        description = "Paces team practice sessions with gamelan gong cues. Errors are \
            application/problem+json (RFC 9457). State-changing requests need \
            `Content-Type: application/json`; with a token configured, /v1 needs \
            `Authorization: Bearer TOKEN` (or the cookie from /v1/login, or ?token= on /v1/events). \
            /hooks/* take each tool's own format and authentication instead."
    ),
    paths(
        health::healthz,
        health::status,
        cues::post_cue,
        cues::list_cues,
        cues::cancel_cue,
        packs::instruments,
        packs::packs,
        packs::put,
        packs::delete,
        packs::activate,
        preview::preview,
        preview::instruments,
        volume::get,
        volume::put,
        super::routes::room::get,
        super::routes::room::put,
        plans::list,
        plans::get,
        plans::put,
        plans::delete,
        session::start,
        session::get,
        session::pause,
        session::resume,
        session::next,
        session::previous,
        session::stop,
        session::extend,
        session::shorten,
        session::time_left,
        session::jump,
        session::spin,
        history::list,
        history::get,
        history::plan,
        super::sse::events,
        super::routes::links::create,
        super::routes::links::list,
        super::routes::links::revoke,
        super::links::trigger,
        super::listen::time,
        super::listen::page,
        super::listen::status,
        super::listen::events,
        super::listen::listener_time,
        super::listen::ahead,
        super::listen::pack,
        super::listen::sound,
        login::login,
        login::logout,
        super::hooks::chat::slack,
        super::hooks::chat::mattermost,
        super::hooks::alerts::alertmanager,
        super::hooks::alerts::grafana,
        super::hooks::alerts::pagerduty,
        super::hooks::alerts::github,
        openapi_json,
    ),
    components(schemas(super::problem::Problem)),
    modifiers(&ProblemTypes, &ProblemContent)
)]
pub struct ApiDoc;

/// Every error answer is `application/problem+json`, as the server sends it (utoipa
/// would otherwise say `application/json` for a `Problem` body).
struct ProblemContent;

impl Modify for ProblemContent {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                for (status, response) in &mut operation.responses.responses {
                    let is_error = status.starts_with('4') || status.starts_with('5');
                    if let (true, RefOr::T(response)) = (is_error, response)
                        && let Some(content) = response.content.shift_remove("application/json")
                    {
                        response
                            .content
                            .insert(super::problem::PROBLEM_JSON.to_owned(), content);
                    }
                }
            }
        }
    }
}

/// Lists every problem type on the `Problem` schema — as a table in its description, and
/// as `x-problem-types` (`[{type, status, meaning}]`) for tools — from the one table the
/// server answers with ([`ProblemType`]).
struct ProblemTypes;

impl Modify for ProblemTypes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(RefOr::T(Schema::Object(problem))) = openapi
            .components
            .as_mut()
            .and_then(|c| c.schemas.get_mut("Problem"))
        else {
            return;
        };
        let mut table = String::from(
            "An error answer (RFC 9457, `application/problem+json`). Its `type` is one of \
             these, stable across versions:\n\n| type | status | meaning |\n|---|---|---|\n",
        );
        let mut listed = Vec::new();
        for kind in ProblemType::ALL {
            let uri = format!("urn:gongan:problem:{}", kind.slug());
            let status = kind.status().as_u16();
            table.push_str(&format!("| `{uri}` | {status} | {} |\n", kind.meaning()));
            listed.push(
                serde_json::json!({"type": uri, "status": status, "meaning": kind.meaning()}),
            );
        }
        problem.description = Some(table);
        let extensions = problem.extensions.get_or_insert_with(Extensions::default);
        extensions.insert(
            "x-problem-types".to_owned(),
            serde_json::Value::Array(listed),
        );
    }
}

/// This document.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "OpenAPI 3.1", content_type = "application/json")))]
pub async fn openapi_json() -> ApiJson<utoipa::openapi::OpenApi> {
    ApiJson(ApiDoc::openapi())
}

#[cfg(test)]
mod test {
    use std::collections::BTreeSet;

    use super::*;
    use crate::audio::HostTime;
    use crate::session::{Runner, SessionClock, TimelineOptions, ValidPlan, template, templates};

    fn schema_fields(name: &str) -> BTreeSet<String> {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        doc["components"]["schemas"][name]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("no schema {name}"))
            .keys()
            .cloned()
            .collect()
    }

    fn keys(value: &serde_json::Value) -> BTreeSet<String> {
        value.as_object().unwrap().keys().cloned().collect()
    }

    #[test]
    fn mirrors_match_what_the_server_sends() {
        let plan: ValidPlan = template(&templates()[0].0).unwrap().clone();
        let runner = Runner::new(
            crate::session::SessionId::parse("20261122-093000-7f3a").unwrap(),
            plan.clone(),
            TimelineOptions::new(48_000),
            SessionClock::offline(48_000),
        );
        let snapshot =
            serde_json::to_value(runner.snapshot(HostTime::from_nanos(1_000_000_000))).unwrap();
        assert_eq!(keys(&snapshot), schema_fields("SnapshotDoc"));
        assert_eq!(
            keys(&snapshot["segments"][0]),
            schema_fields("SegmentStatusDoc")
        );
        let plan = serde_json::to_value(plan.to_plan()).unwrap();
        assert_eq!(keys(&plan), schema_fields("PlanDoc"));
        let mut segment = keys(&plan["segments"][0]);
        segment.extend(["warnings", "notes", "entries", "draw", "rotation"].map(str::to_owned));
        assert_eq!(segment, schema_fields("SegmentDoc"));
        let slash =
            serde_json::to_value(crate::receivers::slash::SlashAnswer::ephemeral("x")).unwrap();
        assert_eq!(keys(&slash), schema_fields("SlashAnswerDoc"));
        assert_eq!(slash["response_type"], "ephemeral");
    }

    #[test]
    fn error_answers_are_problem_json_and_bodyless_posts_are_allowed() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let mut errors = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                for (status, response) in operation["responses"].as_object().unwrap() {
                    if status.starts_with('4') || status.starts_with('5') {
                        errors += 1;
                        let content = keys(&response["content"]);
                        assert_eq!(
                            content,
                            BTreeSet::from(["application/problem+json".to_owned()]),
                            "{method} {path} {status}"
                        );
                    }
                }
            }
        }
        assert!(errors > 20, "{errors}");
        let next = &doc["paths"]["/v1/session/next"]["post"]["requestBody"];
        assert_ne!(next["required"], true, "a bare POST is fine: {next}");
    }

    /// Issue 11: the upload says which archive types it takes, and its problem types.
    #[test]
    fn the_pack_upload_documents_its_archive_types_and_problems() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let put = &doc["paths"]["/v1/packs/{name}"]["put"];
        let types = keys(&put["requestBody"]["content"]);
        for kind in [
            "application/x-tar",
            "application/gzip",
            "application/zip",
            "application/octet-stream",
        ] {
            assert!(types.contains(kind), "{kind}: {types:?}");
        }
        for status in ["201", "200", "409", "413", "415", "422", "507"] {
            assert!(put["responses"][status].is_object(), "PUT {status}");
        }
        let text = put["responses"].to_string();
        for slug in [
            "bad-archive",
            "archive-too-large",
            "pack-is-active",
            "pack-does-not-load",
        ] {
            assert!(text.contains(slug), "{slug}");
        }
        let delete = &doc["paths"]["/v1/packs/{name}"]["delete"];
        for status in ["204", "404", "409"] {
            assert!(delete["responses"][status].is_object(), "DELETE {status}");
        }
    }

    #[test]
    fn every_problem_type_is_listed_with_its_status() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let problem = &doc["components"]["schemas"]["Problem"];
        let listed = problem["x-problem-types"].as_array().unwrap();
        assert_eq!(listed.len(), ProblemType::ALL.len());
        let description = problem["description"].as_str().unwrap();
        for (kind, entry) in ProblemType::ALL.iter().zip(listed) {
            let uri = format!("urn:gongan:problem:{}", kind.slug());
            assert_eq!(entry["type"], uri.as_str());
            assert_eq!(entry["status"], kind.status().as_u16());
            assert!(description.contains(&format!("| `{uri}` |")), "{uri}");
        }
        assert!(description.contains("| `urn:gongan:problem:disk-full` | 507 |"));
    }

    #[test]
    fn the_receivers_document_their_tools_formats_and_answers() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let slack = &doc["paths"]["/hooks/slack"]["post"];
        assert!(slack["requestBody"]["content"]["application/x-www-form-urlencoded"].is_object());
        assert_eq!(
            slack["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/SlashAnswerDoc"
        );
        let github = &doc["paths"]["/hooks/github"]["post"];
        let parameters: Vec<&str> = github["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert!(
            parameters.contains(&"X-Hub-Signature-256"),
            "{parameters:?}"
        );
        assert_eq!(
            github["responses"]["401"]["content"]["application/problem+json"]["schema"]["$ref"],
            "#/components/schemas/Problem"
        );
        let answer = schema_fields("DeliveryAnswer");
        for field in [
            "source",
            "event",
            "delivery",
            "actor",
            "duplicate",
            "refused",
            "cue",
        ] {
            assert!(answer.contains(field), "{field} not in {answer:?}");
        }
    }

    #[test]
    fn every_route_is_documented() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        for path in [
            "/healthz",
            "/v1/status",
            "/v1/cues",
            "/v1/cues/{id}",
            "/v1/instruments",
            "/v1/packs",
            "/v1/packs/{name}",
            "/v1/packs/{name}/activate",
            "/v1/packs/{name}/preview",
            "/v1/packs/{name}/instruments",
            "/v1/volume",
            "/v1/plans",
            "/v1/plans/{id}",
            "/v1/session",
            "/v1/session/pause",
            "/v1/session/extend",
            "/v1/events",
            "/v1/login",
            "/v1/openapi.json",
            "/v1/links",
            "/v1/links/{name}",
            "/l/{secret}/{action}",
            "/hooks/slack",
            "/hooks/mattermost",
            "/hooks/alertmanager",
            "/hooks/grafana",
            "/hooks/pagerduty",
            "/hooks/github",
        ] {
            assert!(paths.contains_key(path), "{path} is missing");
        }
    }
}
