//! `/listen/{secret}`: a listener link's page, and everything that page reads — the
//! session's public view, its events, the server's clock, the strokes still to come and
//! the pack's sounds — so a remote participant hears the gong in their browser at the
//! instants the room hears it (issue 13).
//!
//! The secret in the path is the whole authority, as for `/l/*`: a link that may
//! `listen` opens these routes and nothing else. Every route is a `GET`; a listener can
//! read the session but never change it (its secret is no token for `/v1`, and `/l/*`
//! refuses it every action it was not given). Notes stay the facilitator's unless the
//! link also has `notes`. Revoking the link closes its event stream within a tick, and
//! every later request gets the same 404 as a secret that never existed.
//!
//! How the browser keeps time: it measures its offset to the server's clock with
//! [`GET …/time`](time) (NTP-style: several round trips, the median of the fastest), then
//! asks [`…/ahead`](ahead) for the strokes of the next few seconds — each with the host
//! instant it is heard at, on that same clock — and schedules them on its `AudioContext`
//! ahead of time. The server's sound card is placed to hear each stroke at that instant
//! too, so both land together.

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::json::ApiJson;
use super::links::no_such_link;
use super::page;
use super::problem::{ApiError, Problem, ProblemType};
use super::routes::health::status_document;
use super::sse::{self, Audience};
use super::state::AppState;
use crate::audio::{HostTime, Sound};
use crate::command::Permission;
use crate::session::rfc3339;
use crate::store::links::Link;

/// The `/listen/*` routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/listen/{secret}", get(page))
        .route("/listen/{secret}/status", get(status))
        .route("/listen/{secret}/events", get(events))
        .route("/listen/{secret}/time", get(listener_time))
        .route("/listen/{secret}/ahead", get(ahead))
        .route("/listen/{secret}/pack", get(pack))
        .route(
            "/listen/{secret}/sounds/{pack}/{instrument}/{variant}",
            get(sound),
        )
}

/// How far ahead a listener may ask for strokes: enough to ride out a slow network, not
/// so far that steering (a pause, a jump) leaves much to cancel.
const MAX_AHEAD: Duration = Duration::from_secs(30);
/// What a listener gets when it does not say.
const DEFAULT_AHEAD: Duration = Duration::from_secs(4);

/// A request through a live link that may listen: the extractor every `/listen/*` route
/// starts with. Its secret is the path's first parameter (`{secret}`).
pub struct Listener {
    /// The link.
    pub link: Link,
    /// Its secret, as the path gave it.
    pub secret: String,
}

impl FromRequestParts<AppState> for Listener {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Listener, ApiError> {
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| no_such_link())?;
        let secret = params.get("secret").cloned().ok_or_else(no_such_link)?;
        let links = state.links().clone();
        let looked_up = secret.clone();
        let link = tokio::task::spawn_blocking(move || links.find(&looked_up))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))??
            .ok_or_else(no_such_link)?;
        if !link.allows(&Permission::Listen) {
            return Err(ApiError::specific(
                ProblemType::NotAllowed,
                format!(
                    "link '{}' is not a listener link (it may only: {}): make one with \
                     `gongan link create NAME --allow listen`",
                    link.name,
                    link.allow
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        Ok(Listener { link, secret })
    }
}

impl Listener {
    /// Whether this listener sees the segments' notes.
    fn shares_notes(&self) -> bool {
        self.link.allows(&Permission::Notes)
    }
}

/// The listener page: the facilitator's page in its listening mode (the clock, the wheel,
/// the segment and what comes next; no controls), which also plays the strokes.
#[utoipa::path(get, path = "/listen/{secret}", tag = "listen", operation_id = "listener_page",
    params(("secret" = String, Path, description = "The listener link's secret")),
    responses(
        (status = 200, description = "The page", content_type = "text/html"),
        (status = 403, description = "The link may not listen (`not-allowed`)", body = Problem),
        (status = 404, description = "No live link has this secret", body = Problem)))]
pub async fn page(_listener: Listener) -> Response {
    let mut response = page::index().await;
    // The secret is in this page's address: never send it on as a referrer.
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// The session's public view: the status document without the sound card, the volume or
/// (unless the link shares them) the notes.
#[utoipa::path(get, path = "/listen/{secret}/status", tag = "listen", operation_id = "listener_status",
    params(("secret" = String, Path, description = "The listener link's secret")),
    responses(
        (status = 200, description = "The public status: `engine`, `output`, `pack`, `room_message`, `session`", body = Object),
        (status = 403, description = "The link may not listen", body = Problem),
        (status = 404, description = "No live link has this secret", body = Problem)))]
pub async fn status(
    State(state): State<AppState>,
    listener: Listener,
) -> Result<ApiJson<Value>, ApiError> {
    let status = status_document(&state).await?;
    let mut view = serde_json::to_value(status).map_err(|e| ApiError::Internal(e.to_string()))?;
    public_view(&mut view, listener.shares_notes());
    Ok(ApiJson(view))
}

/// The session's events, as the listener sees them: the public `status` first, then the
/// session's events, cues played, ticks and the room message — no volume, output or
/// warning events. The stream ends when the link is revoked.
#[utoipa::path(get, path = "/listen/{secret}/events", tag = "listen", operation_id = "listener_events",
    params(("secret" = String, Path, description = "The listener link's secret")),
    responses(
        (status = 200, description = "text/event-stream, as `GET /v1/events` but public", content_type = "text/event-stream"),
        (status = 403, description = "The link may not listen", body = Problem),
        (status = 404, description = "No live link has this secret", body = Problem)))]
pub async fn events(State(state): State<AppState>, listener: Listener) -> Response {
    let audience = Audience::Listener {
        notes: listener.shares_notes(),
        secret: listener.secret,
    };
    sse::stream(state, audience).into_response()
}

/// What a listener may see of a status document or an event: the facilitator's notes
/// only when shared, and nothing about the server's sound card or volume.
pub fn public_view(value: &mut Value, notes: bool) {
    if let Value::Object(map) = value {
        for private in ["device", "fault", "volume"] {
            map.remove(private);
        }
    }
    if !notes {
        drop_notes(value);
    }
}

fn drop_notes(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("notes");
            map.values_mut().for_each(drop_notes);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_notes),
        _ => {}
    }
}

/// The server's clock, for a client to sync its own with.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServerTime {
    /// Seconds on the server's monotonic clock: the clock sessions keep, and the one
    /// `…/ahead` gives stroke instants on. Its zero means nothing; differences do.
    #[schema(example = 315_360_123.456_789)]
    pub clock: f64,
    /// The same instant in UTC (RFC 3339, milliseconds), for people.
    #[schema(example = "2026-11-22T09:30:00.125Z")]
    pub utc: String,
}

impl ServerTime {
    fn now() -> ServerTime {
        // Read together: the clock first, so the UTC shown is never older than it.
        let clock = HostTime::now().as_seconds();
        ServerTime {
            clock,
            utc: rfc3339(SystemTime::now()),
        }
    }
}

/// The server's clock: `GET /v1/time`.
#[utoipa::path(get, path = "/v1/time", tag = "status",
    responses((status = 200, description = "The server's clock now", body = ServerTime)))]
pub async fn time() -> ApiJson<ServerTime> {
    ApiJson(ServerTime::now())
}

/// The server's clock, for a listener: `GET /listen/{secret}/time`.
#[utoipa::path(get, path = "/listen/{secret}/time", tag = "listen", operation_id = "listener_time",
    params(("secret" = String, Path, description = "The listener link's secret")),
    responses(
        (status = 200, description = "The server's clock now", body = ServerTime),
        (status = 404, description = "No live link has this secret", body = Problem)))]
pub async fn listener_time(_listener: Listener) -> Response {
    // Read after the link check, so the time is as fresh as the answer.
    let mut response = ApiJson(ServerTime::now()).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// How far ahead to look.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AheadQuery {
    /// Seconds from now, 0.1 to 30; default 4.
    pub seconds: Option<f64>,
}

/// A stroke still to come.
#[derive(Debug, Serialize, ToSchema)]
pub struct StrokeToCome {
    /// When it is heard, in seconds on the server's clock (`…/time`'s `clock`).
    pub at: f64,
    /// The instrument that plays it (an instrument of the pack).
    #[schema(example = "kenong")]
    pub instrument: String,
    /// Which of the instrument's sounds, from 1.
    pub variant: u32,
    /// Linear gain to play the sound at.
    pub gain: f32,
    /// Where its sound is, under the link's path: `sounds/PACK/INSTRUMENT/VARIANT`.
    #[schema(example = "sounds/default/kenong/3")]
    pub sound: String,
}

/// The strokes of the next few seconds.
#[derive(Debug, Serialize, ToSchema)]
pub struct StrokesAhead {
    /// When this was asked, on the server's clock: strokes from here on are listed.
    pub now: f64,
    /// The end of the window, on the server's clock: strokes up to here are listed.
    pub until: f64,
    /// The active pack's id (the sounds' paths name it).
    pub pack: String,
    /// The strokes, soonest first. None while paused, before a session or after it.
    pub strokes: Vec<StrokeToCome>,
}

/// The session's strokes of the next few seconds, each with the instant it is heard at.
#[utoipa::path(get, path = "/listen/{secret}/ahead", tag = "listen", operation_id = "listener_ahead",
    params(("secret" = String, Path, description = "The listener link's secret"), AheadQuery),
    responses(
        (status = 200, description = "The strokes to come", body = StrokesAhead),
        (status = 404, description = "No live link has this secret", body = Problem),
        (status = 422, description = "`seconds` out of range", body = Problem)))]
pub async fn ahead(
    State(state): State<AppState>,
    _listener: Listener,
    query: Result<Query<AheadQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::Invalid(e.body_text()))?;
    let horizon = match query.seconds {
        None => DEFAULT_AHEAD,
        Some(seconds) if (0.1..=MAX_AHEAD.as_secs_f64()).contains(&seconds) => {
            Duration::from_secs_f64(seconds)
        }
        Some(seconds) => {
            return Err(ApiError::Invalid(format!(
                "seconds={seconds} is out of range: ask for 0.1 to {} seconds ahead",
                MAX_AHEAD.as_secs()
            )));
        }
    };
    let ahead = state.conductor().ahead(horizon).await?;
    let pack = state.packs().active().0;
    let answer = StrokesAhead {
        now: ahead.now.as_seconds(),
        until: ahead.now.as_seconds() + horizon.as_secs_f64(),
        strokes: ahead
            .strokes
            .into_iter()
            .map(|stroke| StrokeToCome {
                at: stroke.at.as_seconds(),
                sound: sound_path(&pack, &stroke.instrument, stroke.variant),
                instrument: stroke.instrument,
                variant: stroke.variant,
                gain: stroke.gain,
            })
            .collect(),
        pack,
    };
    let mut response = ApiJson(answer).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Where a sound is, under a listener link's path.
fn sound_path(pack: &str, instrument: &str, variant: u32) -> String {
    format!("sounds/{pack}/{instrument}/{variant}")
}

/// The active pack's sounds, for a listener to fetch and decode once.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListenerPack {
    /// The pack's id.
    pub id: String,
    /// Every sound: its instrument, variant and path (under the link's path).
    pub sounds: Vec<PackSound>,
}

/// One sound of a [`ListenerPack`].
#[derive(Debug, Serialize, ToSchema)]
pub struct PackSound {
    /// The instrument.
    pub instrument: String,
    /// Which of its sounds, from 1.
    pub variant: u32,
    /// Its path under the link's: `sounds/PACK/INSTRUMENT/VARIANT` (a WAV file).
    pub sound: String,
    /// Its length in seconds.
    pub seconds: f64,
}

/// The active pack's sounds.
#[utoipa::path(get, path = "/listen/{secret}/pack", tag = "listen", operation_id = "listener_pack",
    params(("secret" = String, Path, description = "The listener link's secret")),
    responses(
        (status = 200, description = "The active pack's sounds", body = ListenerPack),
        (status = 404, description = "No live link has this secret", body = Problem)))]
pub async fn pack(State(state): State<AppState>, _listener: Listener) -> ApiJson<ListenerPack> {
    let (id, pack) = state.packs().active();
    let sounds = pack
        .instruments()
        .flat_map(|instrument| {
            let id = &id;
            instrument
                .sounds()
                .iter()
                .zip(1u32..)
                .map(move |(sound, variant)| PackSound {
                    instrument: instrument.name().to_owned(),
                    variant,
                    sound: sound_path(id, instrument.name(), variant),
                    seconds: sound.frames() as f64 / f64::from(sound.sample_rate()),
                })
        })
        .collect();
    ApiJson(ListenerPack { id, sounds })
}

/// One sound of the active pack as a WAV file (16-bit, its own rate and channels).
#[utoipa::path(get, path = "/listen/{secret}/sounds/{pack}/{instrument}/{variant}", tag = "listen",
    operation_id = "listener_sound",
    params(("secret" = String, Path, description = "The listener link's secret"),
           ("pack" = String, Path, description = "The active pack's id"),
           ("instrument" = String, Path, description = "The instrument"),
           ("variant" = u32, Path, description = "Which of its sounds, from 1")),
    responses(
        (status = 200, description = "The sound", content_type = "audio/wav"),
        (status = 404, description = "No live link has this secret, or no such sound in the active pack", body = Problem)))]
pub async fn sound(
    State(state): State<AppState>,
    _listener: Listener,
    path: Result<Path<(String, String, String, String)>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path((_, pack_id, instrument, variant)) = path.map_err(|_| no_such_link())?;
    let (active, pack) = state.packs().active();
    let no_sound = || {
        ApiError::NotFound(format!(
            "the active pack '{active}' has no sound {pack_id}/{instrument}/{variant}: \
             GET …/pack lists its sounds"
        ))
    };
    let variant: u32 = variant.parse().map_err(|_| no_sound())?;
    if pack_id != active {
        return Err(no_sound());
    }
    let sound = pack
        .instrument(&instrument)
        .and_then(|i| i.sound(Some(variant)))
        .ok_or_else(no_sound)?
        .clone();
    let wav = tokio::task::spawn_blocking(move || state.listener_sounds().wav(&sound))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(format!("cannot encode the sound: {e}")))?;
    let mut response = wav.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/wav"));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    Ok(response)
}

/// The sounds listeners fetched, encoded once: a hundred listeners opening the page
/// together get the same bytes, not a hundred encodings. Keyed by the sound itself (its
/// `Arc`), so a pack replaced under the same name is never served stale; entries of
/// sounds no pack holds any more are dropped as new ones come.
#[derive(Default)]
pub struct ListenerSounds(Mutex<HashMap<usize, (Weak<Sound>, Bytes)>>);

impl ListenerSounds {
    /// `sound` as a WAV file, encoded now or earlier.
    fn wav(&self, sound: &Arc<Sound>) -> Result<Bytes, hound::Error> {
        let key = Arc::as_ptr(sound) as usize;
        let cached = |map: &HashMap<usize, (Weak<Sound>, Bytes)>| {
            map.get(&key)
                .filter(|(weak, _)| weak.upgrade().is_some_and(|s| Arc::ptr_eq(&s, sound)))
                .map(|(_, bytes)| bytes.clone())
        };
        if let Some(bytes) = cached(&self.0.lock().unwrap_or_else(PoisonError::into_inner)) {
            return Ok(bytes);
        }
        let bytes = Bytes::from(wav_bytes(sound)?);
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.retain(|_, (weak, _)| weak.strong_count() > 0);
        map.insert(key, (Arc::downgrade(sound), bytes.clone()));
        Ok(bytes)
    }
}

/// `sound` as a WAV file in memory: 16-bit, its own rate and channels — what a listener
/// downloads (half the size of float samples, 96 dB of range).
fn wav_bytes(sound: &Sound) -> Result<Vec<u8>, hound::Error> {
    let spec = hound::WavSpec {
        channels: sound.channels(),
        sample_rate: sound.sample_rate(),
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut out, spec)?;
    for &sample in sound.samples() {
        writer.write_sample((sample.clamp(-1.0, 1.0) * f32::from(i16::MAX)).round() as i16)?;
    }
    writer.finalize()?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod test {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_public_view_hides_notes_unless_shared_and_the_sound_card_always() {
        let status = json!({
            "device": "USB Audio", "fault": null, "volume": {"volume_db": -3.0},
            "pack": "default",
            "session": {"title": "Investigate", "notes": "The root cause is the disk",
                        "segments": [{"title": "a", "notes": "secret too"}]},
        });
        let mut hidden = status.clone();
        public_view(&mut hidden, false);
        assert_eq!(
            hidden,
            json!({"pack": "default",
                   "session": {"title": "Investigate", "segments": [{"title": "a"}]}})
        );
        let mut shared = status;
        public_view(&mut shared, true);
        assert_eq!(shared["session"]["notes"], "The root cause is the disk");
        assert!(shared.get("device").is_none() && shared.get("volume").is_none());
    }

    #[test]
    fn a_sound_is_a_16_bit_wav_of_its_samples_encoded_once() {
        let sound =
            Arc::new(Sound::from_interleaved(48_000, 2, vec![0.5, -0.25, 1.0, -1.5]).unwrap());
        let sounds = ListenerSounds::default();
        let bytes = sounds.wav(&sound).unwrap();
        let mut reader = hound::WavReader::new(Cursor::new(bytes.to_vec())).unwrap();
        assert_eq!(reader.spec().channels, 2);
        assert_eq!(reader.spec().sample_rate, 48_000);
        assert_eq!(reader.spec().bits_per_sample, 16);
        let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
        assert_eq!(
            samples,
            vec![16_384, -8_192, 32_767, -32_767],
            "clamped, not wrapped"
        );
        // The same sound again: the same bytes, not a new encoding.
        let again = sounds.wav(&sound).unwrap();
        assert_eq!(again.as_ptr(), bytes.as_ptr());
        // A sound gone from every pack is dropped when the next one is encoded.
        drop(sound);
        let other = Arc::new(Sound::mono(48_000, vec![0.1; 4]).unwrap());
        sounds.wav(&other).unwrap();
        assert_eq!(sounds.0.lock().unwrap().len(), 1);
    }
}
