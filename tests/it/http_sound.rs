//! End to end through the real sound path: cues POSTed to a server playing to the sound
//! card (cpal → ALSA → the PulseAudio null sink), found in a recording of the sink's
//! monitor, with the delay from request to sound measured on the host clock.

use std::time::{Duration, Instant};

use gongan::audio::Frame;
use gongan::audio::output::OutputSpec;
use serde_json::json;

use crate::http_support::TestServer;
use crate::pulse::{exclusive_pulse, require_null_sink};
use crate::recorder::{RATE, Recording, dropouts, onsets};

const CUES: usize = 5;

#[test]
fn cues_over_http_are_heard_on_the_sound_card() {
    // PulseAudio is shared with the other sound-path tests, one at a time; the lock is
    // held outside the async part.
    let _pulse = exclusive_pulse();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(heard_on_the_sound_card());
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
        let frame = Frame(reply.json["frame"].as_u64().unwrap());
        sent.push((requested, frame));
        // One cue a second, paced by the engine's clock.
        let next = frame + Frame::from_seconds(1.0, rate);
        while clock.now() < next {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let last = sent.last().unwrap().1 + Frame::from_seconds(0.5, rate);
    while clock.now() < last {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.stop().await;
    let recorded = recording.stop();

    // Find the strokes: the first sample over a tenth of the peak after 0.5 s of quiet.
    let peak = recorded
        .samples
        .iter()
        .step_by(2)
        .fold(0.0f32, |m, s| m.max(s.abs()));
    assert!(peak > 0.01, "nothing was heard (peak {peak})");
    let onsets = onsets(&recorded.samples, peak / 10.0, RATE as usize / 2);
    assert_eq!(
        onsets.len(),
        CUES,
        "strokes heard at frames {onsets:?}; gaps of silence inside a stroke (first frame, \
         frames): {:?}",
        dropouts(&recorded.samples, 48)
    );
    // The device plays them as far apart as the engine scheduled them.
    let heard: Vec<f64> = onsets
        .iter()
        .map(|onset| (onset - onsets[0]) as f64 / f64::from(RATE))
        .collect();
    let scheduled: Vec<f64> = sent
        .iter()
        .map(|(_, frame)| (*frame - sent[0].1).as_seconds(rate))
        .collect();
    for k in 1..CUES {
        assert!(
            (heard[k] - scheduled[k]).abs() < 0.005,
            "stroke {k}: heard {:.4} s after the first, scheduled {:.4} s (all heard at \
             {heard:.4?} s, scheduled at {scheduled:.4?} s after the first; the recording \
             began {:.3} s before the first; gaps of silence inside a stroke, as (s after \
             the first, ms): {:.4?})",
            heard[k],
            scheduled[k],
            onsets[0] as f64 / f64::from(RATE),
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
