//! Issue 11: the master volume and mute (`GET`/`PUT /v1/volume`, the config's `volume_db`,
//! the `volume` event), and previews (`POST /v1/packs/{name}/preview`): one stroke of any
//! pack, active or not, neither journaled nor coalesced.

use std::path::Path;
use std::sync::Arc;

use gongan::audio::{EngineConfig, Frame, Sound, Volume, VolumeDb, engine};
use serde_json::{Value, json};

use crate::http_support::{Reply, TestServer};

/// Installs the office pack (see [`write_office_pack`]) in `data_dir` as `office`.
pub fn install_office_pack(data_dir: &Path) {
    write_office_pack(&data_dir.join("packs/office"));
}

/// Writes a small pack into `dir`: instruments the default pack does not have (`airhorn`,
/// two pitches; `desk-bell`), so a stroke of them can only come from this pack.
pub fn write_office_pack(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for (file, hz) in [
        ("horn-1.wav", 440.0),
        ("horn-2.wav", 660.0),
        ("bell.wav", 1760.0),
    ] {
        write_tone(&dir.join(file), hz);
    }
    std::fs::write(
        dir.join("pack.toml"),
        r#"name = "Office"
description = "The team's own: an airhorn and a desk bell"
author = "Ops"
licence = "CC0-1.0"

[instruments.airhorn]
variants = ["horn-1.wav", "horn-2.wav"]

[instruments.desk-bell]
file = "bell.wav"
"#,
    )
    .unwrap();
}

/// A quarter second of a decaying sine at 48 kHz, 16-bit mono.
fn write_tone(path: &Path, hz: f32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..12_000 {
        let t = i as f32 / 48_000.0;
        let sample = (2.0 * std::f32::consts::PI * hz * t).sin() * (-t * 12.0).exp() * 0.5;
        writer
            .write_sample((sample * f32::from(i16::MAX)) as i16)
            .unwrap();
    }
    writer.finalize().unwrap();
}

async fn put_volume(server: &TestServer, body: &Value) -> Reply {
    server.json(hyper::Method::PUT, "/v1/volume", body).await
}

fn volume_of(json: &Value) -> (f64, bool) {
    (
        json["volume_db"].as_f64().unwrap(),
        json["muted"].as_bool().unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_volume_out_of_range_is_refused_and_changes_nothing() {
    let server = TestServer::start().await;
    let set = put_volume(&server, &json!({"volume_db": -6, "by": "ops"})).await;
    assert_eq!(set.status, 200, "{}", set.text);
    assert_eq!(volume_of(&set.json), (-6.0, false));

    for (body, detail) in [
        (
            json!({"volume_db": 6.5}),
            "volume_db 6.5 is out of range: use -60 to 6 dB",
        ),
        (
            json!({"volume_db": -61}),
            "volume_db -61 is out of range: use -60 to 6 dB",
        ),
        (json!({"volume_db": 1e40}), "out of range"),
        (
            json!({}),
            "nothing to change: give volume_db, muted or both",
        ),
        (json!({"by": "page"}), "nothing to change"),
    ] {
        let refused = put_volume(&server, &body).await;
        let said = refused.problem(422);
        assert!(said.contains(detail), "{body}: {said}");
        assert_eq!(refused.json["type"], "urn:gongan:problem:invalid");
    }
    for body in [
        json!({"volume_db": "loud"}),
        json!({"muted": "yes"}),
        json!({"volume": -3}),
    ] {
        let refused = put_volume(&server, &body).await;
        refused.problem(422);
        assert_eq!(
            refused.json["type"], "urn:gongan:problem:wrong-shape",
            "{body}"
        );
    }
    let not_json = server
        .send(
            hyper::Method::PUT,
            "/v1/volume",
            &[("content-type", "application/json")],
            "-3",
        )
        .await;
    assert!(not_json.status.is_client_error(), "{}", not_json.text);

    let now = server.get("/v1/volume").await;
    assert_eq!(now.status, 200);
    assert_eq!(volume_of(&now.json), (-6.0, false), "unchanged");
    let status = server.get("/v1/status").await;
    assert_eq!(volume_of(&status.json["volume"]), (-6.0, false));
    server.stop().await;
}

/// Mute keeps the level; every change is a `volume` event naming who made it; and mute is
/// not pause: a cue while muted is still played (silently) and reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mute_and_unmute_keep_the_level_and_every_page_hears_of_it() {
    let server = TestServer::start().await;
    let mut events = server.events().await;
    let first = events.until("status").await;
    assert_eq!(volume_of(&first["status"]["volume"]), (0.0, false));

    let quieter = put_volume(&server, &json!({"volume_db": -12.5, "by": "page"})).await;
    assert_eq!(volume_of(&quieter.json), (-12.5, false));
    let event = events.until("volume").await;
    assert_eq!(volume_of(&event), (-12.5, false));
    assert_eq!(event["by"], "page");
    assert!(event["utc"].as_str().unwrap().ends_with('Z'));

    let muted = put_volume(&server, &json!({"muted": true, "by": "cli:ana"})).await;
    assert_eq!(volume_of(&muted.json), (-12.5, true), "the level is kept");
    let event = events.until("volume").await;
    assert_eq!(
        (volume_of(&event), event["by"].clone()),
        ((-12.5, true), json!("cli:ana"))
    );
    assert_eq!(
        volume_of(&server.get("/v1/status").await.json["volume"]),
        (-12.5, true)
    );

    let cue = server
        .post("/v1/cues", &json!({"instrument": "kenong"}))
        .await;
    assert_eq!(cue.status, 202, "{}", cue.text);
    let played = events.until("cue_played").await;
    assert_eq!(played["id"], cue.json["id"], "muted strokes still happen");

    let back = put_volume(&server, &json!({"muted": false})).await;
    assert_eq!(volume_of(&back.json), (-12.5, false));
    let event = events.until("volume").await;
    assert_eq!(
        (volume_of(&event), event["by"].clone()),
        ((-12.5, false), json!("api"))
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_configured_volume_is_where_the_server_starts() {
    let server = TestServer::start_with(|config| {
        config.volume = Volume {
            level: VolumeDb::new(-9.0).unwrap(),
            muted: false,
        };
    })
    .await;
    assert_eq!(
        volume_of(&server.get("/v1/volume").await.json),
        (-9.0, false)
    );
    server.stop().await;
}

/// A pack that is not active plays its own instrument, and stays inactive: the stroke is
/// the office pack's airhorn, which the active (default) pack does not even have.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preview_of_a_pack_that_is_not_active_plays_that_packs_sound() {
    let server = TestServer::start_with(|config| install_office_pack(&config.data_dir)).await;
    let instruments = server.get("/v1/packs/office/instruments").await;
    assert_eq!(instruments.status, 200, "{}", instruments.text);
    let own: Vec<&Value> = instruments
        .json
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["from_default"] == false)
        .collect();
    assert_eq!(
        own,
        [
            &json!({"name": "airhorn", "variants": 2, "from_default": false}),
            &json!({"name": "desk-bell", "variants": 1, "from_default": false})
        ]
    );
    assert!(
        instruments
            .json
            .as_array()
            .unwrap()
            .contains(&json!({"name": "gong", "variants": 1, "from_default": true}))
    );
    let mut events = server.events().await;
    events.until("status").await;

    let preview = server
        .post(
            "/v1/packs/office/preview",
            &json!({"instrument": "airhorn", "variant": 2, "by": "page"}),
        )
        .await;
    assert_eq!(preview.status, 202, "{}", preview.text);
    assert_eq!(preview.json["coalesced"], false);
    assert!(preview.json["in_seconds"].as_f64().unwrap() >= 0.0);
    assert!(preview.json["heard_at"].as_str().unwrap().ends_with('Z'));
    let id = preview.json["id"].as_u64().unwrap();
    let played = loop {
        let played = events.until("cue_played").await;
        if played["id"] == id {
            break played;
        }
    };
    assert_eq!(played["instrument"], "airhorn");
    assert_eq!(played["variant"], 2);
    assert!(played["frame"].as_u64().unwrap() >= preview.json["frame"].as_u64().unwrap());

    // Nothing changed hands: the default pack is active, and has no airhorn to cue.
    let status = server.get("/v1/status").await;
    assert_eq!(status.json["pack"], "default");
    let cue = server
        .post("/v1/cues", &json!({"instrument": "airhorn"}))
        .await;
    cue.problem(422);
    // The active pack previews too.
    let gong = server
        .post("/v1/packs/default/preview", &json!({"instrument": "gong"}))
        .await;
    assert_eq!(gong.status, 202, "{}", gong.text);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preview_of_an_instrument_no_pack_has_is_refused_naming_what_it_has() {
    let server = TestServer::start_with(|config| install_office_pack(&config.data_dir)).await;
    let before = server.next_cue_id(1).await;

    let unknown = server
        .post(
            "/v1/packs/office/preview",
            &json!({"instrument": "triangle"}),
        )
        .await;
    let detail = unknown.problem(422);
    assert_eq!(
        unknown.json["type"],
        "urn:gongan:problem:unknown-instrument"
    );
    assert!(
        detail.starts_with(
            "pack 'office' has no instrument 'triangle'; its instruments are: airhorn, desk-bell; \
             from the default pack: bonang, gong, "
        ),
        "{detail}"
    );
    for (variant, has) in [(3, "has variants 1 to 2"), (0, "has variants 1 to 2")] {
        let wrong = server
            .post(
                "/v1/packs/office/preview",
                &json!({"instrument": "airhorn", "variant": variant}),
            )
            .await;
        let detail = wrong.problem(422);
        assert_eq!(wrong.json["type"], "urn:gongan:problem:unknown-variant");
        assert_eq!(
            detail,
            format!("instrument 'airhorn' of pack 'office' {has}, not variant {variant}")
        );
    }
    let single = server
        .post(
            "/v1/packs/office/preview",
            &json!({"instrument": "desk-bell", "variant": 2}),
        )
        .await;
    assert!(single.problem(422).contains("has one sound (variant 1)"));
    let empty = server
        .post("/v1/packs/office/preview", &json!({"instrument": ""}))
        .await;
    empty.problem(422);
    let shape = server
        .post(
            "/v1/packs/office/preview",
            &json!({"instrument": "airhorn", "gain": 3}),
        )
        .await;
    shape.problem(422);

    for pack in ["nope", "Bad%20Name", "..%2Fetc"] {
        let missing = server
            .post(
                &format!("/v1/packs/{pack}/preview"),
                &json!({"instrument": "gong"}),
            )
            .await;
        let detail = missing.problem(404);
        assert_eq!(missing.json["type"], "urn:gongan:problem:no-such-pack");
        assert!(detail.contains("default, bali, office"), "{detail}");
        server
            .get(&format!("/v1/packs/{pack}/instruments"))
            .await
            .problem(404);
    }
    // Nothing was played: the next cue gets the id right after the probe's.
    assert_eq!(server.next_cue_id(2).await, before + 1);
    server.stop().await;
}

/// A preview is not a session cue: it takes no part in coalescing (a real gong cue is not
/// swallowed by a preview of a gong, nor the other way round) and the journal does not
/// keep it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preview_is_neither_coalesced_nor_journaled() {
    // A window no loaded machine can outlast between the requests: the cues must coalesce.
    let server = TestServer::start_with(|config| {
        config.coalesce_window = std::time::Duration::from_secs(60);
    })
    .await;
    let started = server
        .post(
            "/v1/session",
            &json!({"plan_id": "incident-data-collection"}),
        )
        .await;
    assert_eq!(started.status, 201, "{}", started.text);
    let session = started.json["id"].as_str().unwrap().to_owned();

    let cue = server
        .post("/v1/cues", &json!({"instrument": "gong", "by": "ops"}))
        .await;
    let preview = server
        .post(
            "/v1/packs/default/preview",
            &json!({"instrument": "gong", "by": "page"}),
        )
        .await;
    let again = server
        .post("/v1/cues", &json!({"instrument": "gong"}))
        .await;
    assert_eq!(
        (
            cue.status.as_u16(),
            preview.status.as_u16(),
            again.status.as_u16()
        ),
        (202, 202, 202)
    );
    assert_eq!(preview.json["coalesced"], false);
    assert_ne!(preview.json["id"], cue.json["id"]);
    assert_eq!(again.json["coalesced"], true, "{}", again.text);
    assert_eq!(
        again.json["id"], cue.json["id"],
        "the cue joins the cue, not the preview"
    );

    let history = server.get(&format!("/v1/history/{session}")).await;
    assert_eq!(history.status, 200, "{}", history.text);
    assert_eq!(history.json["counts"]["cues"], 1, "{}", history.json["log"]);
    let cues: Vec<&Value> = history.json["log"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|line| line["action"] == "cue")
        .collect();
    assert_eq!(cues.len(), 1);
    assert_eq!(cues[0]["actor"], "ops");
    server.stop().await;
}

/// Setting the volume while the renderer runs (a ramp starting, a mute, another change
/// mid-ramp) never allocates in the audio callback.
#[test]
fn a_volume_change_never_allocates_in_the_audio_callback() {
    let _turn = crate::engine::ALLOC_CHECK
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let (mut controller, mut renderer) = engine(EngineConfig::default());
    let sound = Arc::new(Sound::mono(48_000, vec![0.25; 48_000]).unwrap());
    controller.play(sound, Frame(0), 1.0).unwrap();
    let mut block = vec![0.0f32; 2 * 128];
    assert_no_alloc::reset_violation_count();
    for round in 0..100u32 {
        if round % 7 == 0 {
            let volume = Volume {
                level: VolumeDb::new(-(round as f32) / 2.0).unwrap(),
                muted: round % 21 == 0,
            };
            controller.set_volume(volume).unwrap();
        }
        assert_no_alloc::assert_no_alloc(|| renderer.render(&mut block));
    }
    assert_eq!(assert_no_alloc::violation_count(), 0);
    drop(controller.events());
}
