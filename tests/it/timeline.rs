//! The built-in templates and the timeline, through the public API only.

use std::path::Path;

use gongan::audio::Frame;
use gongan::session::{
    EndAction, History, Instrument, Steer, StrokeKind, TEMPLATE_SOURCES, TimelineOptions,
    ValidPlan, templates, timeline,
};

#[test]
fn every_template_is_valid_and_embedded_from_plans() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("plans");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut embedded: Vec<String> = TEMPLATE_SOURCES
        .iter()
        .map(|(id, _)| id.to_string())
        .collect();
    embedded.sort();
    assert_eq!(
        on_disk, embedded,
        "every plans/*.toml is embedded, and only those"
    );
    for (id, text) in TEMPLATE_SOURCES {
        let file = std::fs::read_to_string(dir.join(format!("{id}.toml"))).unwrap();
        assert_eq!(file, text, "{id}: the embedded text is the file on disk");
        if let Err(err) = ValidPlan::from_toml(text) {
            panic!("{id} is invalid:\n{err}");
        }
    }
    assert_eq!(templates().len(), TEMPLATE_SOURCES.len());
}

#[test]
fn every_template_has_notes_for_the_facilitator() {
    for (id, plan) in templates() {
        assert!(!plan.description().is_empty(), "{id}");
        for segment in plan.segments() {
            assert!(!segment.notes().is_empty(), "{id}: {}", segment.title());
        }
    }
}

#[test]
fn the_data_collection_exercise_is_a_twenty_minute_timebox() {
    let (_, plan) = templates()
        .iter()
        .find(|(id, _)| id.as_str() == "incident-data-collection")
        .unwrap();
    assert!(
        plan.segments()
            .iter()
            .any(|s| s.duration().get().as_secs() == 20 * 60)
    );
}

#[test]
fn every_template_runs_to_its_gong_when_the_facilitator_moves_on() {
    let rate = 48_000;
    for (id, plan) in templates() {
        // Press "next" one second after each `wait` deadline, as a facilitator would.
        let mut history = History::new();
        let options = TimelineOptions::new(rate).with_horizon(Frame(u64::MAX));
        loop {
            let t = timeline(plan, &history, &options);
            if t.end().is_some() {
                break;
            }
            let open = t.runs().last().unwrap();
            assert_eq!(plan.segments()[open.segment].end(), EndAction::Wait, "{id}");
            history
                .push(Steer::Next {
                    at: Frame(open.deadline.0 + u64::from(rate)),
                })
                .unwrap();
        }
        let t = timeline(plan, &history, &options);
        let last = t.strokes().last().unwrap();
        assert_eq!(
            (last.instrument, last.kind),
            (Instrument::Gong, StrokeKind::SessionEnd),
            "{id}"
        );
        assert!(
            t.strokes().windows(2).all(|w| w[0].frame <= w[1].frame),
            "{id}"
        );
        let waits = plan
            .segments()
            .iter()
            .filter(|s| s.end() == EndAction::Wait)
            .count() as u64;
        let expected = t.planned_end().0 + waits * u64::from(rate);
        assert_eq!(t.end(), Some(Frame(expected)), "{id}");
    }
}

#[test]
fn strokes_serialise_for_the_events_file() {
    let (_, plan) = &templates()[0];
    let t = timeline(plan, &History::new(), &TimelineOptions::new(48_000));
    let json = serde_json::to_value(&t.strokes()[..1]).unwrap();
    assert_eq!(
        json,
        serde_json::json!([{
            "frame": 0, "instrument": "bonang", "variant": 3, "gain_db": -4.0,
            "segment": 0, "run": 0, "kind": {"type": "buka"}
        }])
    );
}
