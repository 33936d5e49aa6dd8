//! End to end through the real sound path: cues POSTed to a server playing to the sound
//! card (cpal → the PulseAudio null sink), found in a recording of the sink's monitor, each
//! heard when its answer said it would be (`in_seconds` after the request).

use std::time::{Duration, Instant};

use gongan::audio::Frame;
use gongan::audio::output::OutputSpec;
use serde_json::json;

use crate::http_support::{TestServer, block_on};
use crate::pulse::{exclusive_pulse, require_null_sink};
use crate::recorder::{RATE, Recording, dropouts, left_peak, onsets};

const CUES: usize = 5;

#[test]
fn cues_over_http_are_heard_on_the_sound_card() {
    // PulseAudio is shared with the other sound-path tests, one at a time; the lock is
    // held outside the async part.
    let _pulse = exclusive_pulse();
    block_on(heard_on_the_sound_card());
}

async fn heard_on_the_sound_card() {
    require_null_sink();
    let recording = Recording::start();
    let server = TestServer::start_with(|c| c.output = OutputSpec::Device(None)).await;
    let health = server.get("/healthz").await;
    assert_eq!(health.json["output"], "device", "{}", health.text);
    let clock = server.conductor.clock().clone();
    let rate = clock.sample_rate();
    // A new PulseAudio stream takes a second or two to start flowing: wait on its clock.
    let deadline = Instant::now() + Duration::from_secs(20);
    while clock.now() < Frame::from_seconds(3.0, rate) {
        assert!(
            Instant::now() < deadline,
            "the device clock does not advance"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let mut sent = Vec::new();
    for _ in 0..CUES {
        let requested = Instant::now();
        let reply = server
            .post("/v1/cues", &json!({"instrument": "ketuk"}))
            .await;
        assert_eq!(reply.status, 202, "{}", reply.text);
        let promised = Duration::from_secs_f64(reply.json["in_seconds"].as_f64().unwrap());
        sent.push((requested, requested + promised));
        // One cue a second of real time (the session clock's time, not the card's frames:
        // a card that stalls for a moment plays later frames later, and a cue is promised
        // for an instant, not a frame).
        tokio::time::sleep_until((requested + Duration::from_secs(1)).into()).await;
    }
    tokio::time::sleep_until((sent.last().unwrap().1 + Duration::from_millis(500)).into()).await;
    server.stop().await;
    let recorded = recording.stop();

    // Find the strokes: the first sample over a tenth of the peak after 0.5 s of quiet.
    let peak = left_peak(&recorded.samples);
    assert!(peak > 0.01, "nothing was heard (peak {peak})");
    let onsets = onsets(&recorded.samples, peak / 10.0, RATE as usize / 2);
    assert_eq!(
        onsets.len(),
        CUES,
        "strokes heard at frames {onsets:?}; gaps of silence inside a stroke (first frame, \
         frames): {:?}",
        dropouts(&recorded.samples, 48)
    );
    // Each is heard when its answer said it would be: its onset, placed on the host clock
    // by the recorder (±0.1 ms), against request + `in_seconds`. The bound is loose for
    // a shared machine whose sound server may drop out for tens of milliseconds; the
    // benchmark (`scripts/bench-sound-path cues`) measures the spread.
    let errors: Vec<f64> = onsets
        .iter()
        .zip(&sent)
        .map(|(&onset, (_, promised))| {
            let heard = recorded.clock.instant_of(onset as u64);
            if heard >= *promised {
                (heard - *promised).as_secs_f64() * 1000.0
            } else {
                -(*promised - heard).as_secs_f64() * 1000.0
            }
        })
        .collect();
    println!("heard - promised: {errors:.2?} ms");
    for (k, error) in errors.iter().enumerate() {
        assert!(
            error.abs() < 50.0,
            "cue {k} was heard {error:.1} ms from its promised instant (all: {errors:.1?} ms; \
             gaps of silence inside a stroke, as (s after the first, ms): {:.4?})",
            dropouts(&recorded.samples, 48)
                .iter()
                .map(|&(at, frames)| (
                    (at as f64 - onsets[0] as f64) / f64::from(RATE),
                    frames as f64 / f64::from(RATE) * 1e3
                ))
                .collect::<Vec<_>>()
        );
    }
    // Request to sound: the recorded frame mapped to the host clock (within ±0.1 ms).
    let mut delays: Vec<f64> = onsets
        .iter()
        .zip(&sent)
        .map(|(&onset, (requested, _))| {
            let heard = recorded.clock.instant_of(onset as u64);
            if heard >= *requested {
                (heard - *requested).as_secs_f64() * 1000.0
            } else {
                -(*requested - heard).as_secs_f64() * 1000.0
            }
        })
        .collect();
    delays.sort_by(f64::total_cmp);
    println!(
        "request -> sound in the PulseAudio recording: median {:.1} ms, max {:.1} ms ({CUES} cues)",
        delays[CUES / 2],
        delays[CUES - 1]
    );
    assert!(
        delays[0] > 0.0,
        "a cue was heard before it was requested: {delays:?} ms"
    );
    assert!(delays[CUES - 1] < 1000.0, "delays {delays:?} ms");
}
