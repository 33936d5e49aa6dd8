use super::*;
use crate::audio::Frame;
use crate::session::{
    Actor, Instrument, Moment, SegmentDuration, SegmentStatus, SessionId, State, StrokeKind,
};

const ID: &str = "20261122-093000-7f3a";

fn at(seconds: f64) -> Moment {
    Moment {
        seconds,
        utc: format!("t+{seconds}"),
    }
}

fn actor(name: &str) -> Actor {
    Actor::new(name).unwrap()
}

fn snapshot(id: &str, speed: f64) -> Snapshot {
    let segment = |title: &str, planned_seconds: f64| SegmentStatus {
        title: title.into(),
        planned_seconds,
        extended_seconds: 0.0,
        started_seconds: None,
        ended_seconds: None,
    };
    Snapshot {
        id: SessionId::parse(id).unwrap(),
        plan: "Game day".into(),
        state: State::Running,
        speed,
        started: "t+0".into(),
        now: at(100.0),
        elapsed_seconds: 100.0,
        segment: 1,
        title: "Investigate".into(),
        notes: String::new(),
        beat: 0,
        of: 16,
        pattern: Vec::new(),
        remaining_seconds: 60.0,
        overtime_seconds: 0.0,
        form: "lancaran".into(),
        deadline_seconds: Some(160.0),
        next: None,
        wheel: None,
        turn: None,
        segments: vec![
            segment("Gather", 600.0 / speed),
            segment("Investigate", 1200.0 / speed),
        ],
    }
}

fn started() -> SessionEvent {
    SessionEvent::SessionStarted {
        id: SessionId::parse(ID).unwrap(),
        by: actor("page"),
        plan: "Game day".into(),
        segments: 2,
        at: at(0.0),
    }
}

fn segment_started(segment: usize, title: &str, start: f64, deadline: f64) -> SessionEvent {
    SessionEvent::SegmentStarted {
        run: segment,
        segment,
        title: title.into(),
        at: at(start),
        deadline_seconds: deadline,
    }
}

fn stroke(kind: StrokeKind, segment: usize, seconds: f64) -> SessionEvent {
    SessionEvent::Stroke {
        frame: Frame(0),
        planned: Frame((seconds * 48_000.0) as u64),
        at: at(seconds),
        instrument: Instrument::Gong,
        variant: None,
        segment,
        kind,
    }
}

fn time_warning(segment: usize, lead_seconds: f64, seconds: f64) -> SessionEvent {
    SessionEvent::TimeWarning {
        segment,
        lead_seconds,
        at: at(seconds),
    }
}

/// The events and texts of `notices`, for comparing.
fn said(notices: &[Notice]) -> Vec<(&'static str, String, String)> {
    notices
        .iter()
        .map(|n| {
            (
                n.what.event(),
                n.at.clone(),
                super::super::format::text(n, super::super::format::Markup::Plain),
            )
        })
        .collect()
}

#[test]
fn a_session_that_runs_to_its_end_is_told_segment_by_segment() {
    let mut tracker = Tracker::default();
    let mut notices = Vec::new();
    let snap = snapshot(ID, 2.0);
    let events = [
        started(),
        segment_started(0, "Gather", 4.0, 304.0),
        stroke(StrokeKind::Beat { beat: 1, of: 16 }, 0, 20.0),
        time_warning(0, 120.0, 244.0),
        // The warning's strokes and the deadline's tell nothing: the session announces
        // its warnings itself.
        stroke(
            StrokeKind::Warning {
                lead: SegmentDuration::from_mins(2),
            },
            0,
            244.0,
        ),
        stroke(StrokeKind::Beat { beat: 2, of: 2 }, 0, 304.0),
        stroke(StrokeKind::SegmentEnd, 0, 304.0),
        segment_started(1, "Investigate", 304.0, 904.0),
        stroke(StrokeKind::SessionEnd, 1, 904.0),
        SessionEvent::Finished { at: at(904.0) },
    ];
    for event in &events {
        let snapshot = tracker.needs_snapshot(event).then_some(&snap);
        notices.extend(tracker.notices(event, snapshot));
    }
    assert_eq!(
        said(&notices),
        [
            ("started", "t+0", "▶ \"Game day\" started (by page)"),
            ("segment", "t+4", "Segment 1/2 \"Gather\" — 5m"),
            ("warning", "t+244", "⚠ 1 minute left in \"Gather\""),
            ("deadline", "t+304", "Deadline: \"Gather\""),
            ("segment", "t+304", "Segment 2/2 \"Investigate\" — 10m"),
            ("deadline", "t+904", "Deadline: \"Investigate\""),
            (
                "finished",
                "t+904",
                "■ \"Game day\" finished — 15m04s, on plan"
            ),
        ]
        .map(|(e, a, t)| (e, a.to_owned(), t.to_owned()))
    );
    assert!(
        notices
            .iter()
            .all(|n| n.session == ID && n.plan == "Game day")
    );
    assert_eq!(
        notices[0].what,
        What::Started {
            by: "page".into(),
            segments: 2,
            planned_seconds: Some(904.0)
        }
    );
}

#[test]
fn a_wait_segment_tells_its_deadline_and_overtime_and_a_stop_is_no_deadline() {
    let mut tracker = Tracker::default();
    let snap = snapshot(ID, 1.0);
    let mut notices = tracker.notices(&started(), Some(&snap));
    for event in [
        segment_started(0, "Gather", 4.0, 604.0),
        stroke(StrokeKind::Beat { beat: 16, of: 16 }, 0, 604.0),
        SessionEvent::Overtime {
            segment: 0,
            at: at(604.0),
        },
        stroke(StrokeKind::Overtime, 0, 664.0),
        SessionEvent::Skipped {
            at: at(700.0),
            by: actor("page"),
            to: "next",
        },
        // Until the `next` takes effect, the conductor announces the overtime again.
        SessionEvent::Overtime {
            segment: 0,
            at: at(604.0),
        },
        stroke(StrokeKind::Suwuk, 0, 700.0),
        segment_started(1, "Investigate", 704.0, 1904.0),
        SessionEvent::Stopped {
            at: at(1000.0),
            by: actor("slack:@ana"),
        },
        stroke(StrokeKind::SessionEnd, 1, 1000.0),
        SessionEvent::Finished { at: at(1000.0) },
    ] {
        assert!(!tracker.needs_snapshot(&event));
        notices.extend(tracker.notices(&event, None));
    }
    let events: Vec<_> = notices.iter().map(|n| n.what.event()).collect();
    assert_eq!(
        events,
        [
            "started", "segment", "deadline", "overtime", "segment", "finished"
        ]
    );
    assert_eq!(
        said(&notices)[5].2,
        "■ \"Game day\" stopped by slack:@ana — 16m40s, 13 min under plan"
    );
}

#[test]
fn moving_on_from_the_last_segment_is_no_deadline() {
    let mut tracker = Tracker::default();
    let mut notices = tracker.notices(&started(), Some(&snapshot(ID, 1.0)));
    for event in [
        segment_started(1, "Investigate", 4.0, 1204.0),
        SessionEvent::Skipped {
            at: at(100.0),
            by: actor("page"),
            to: "next",
        },
        stroke(StrokeKind::SessionEnd, 1, 100.0),
        SessionEvent::Finished { at: at(100.0) },
    ] {
        notices.extend(tracker.notices(&event, None));
    }
    let events: Vec<_> = notices.iter().map(|n| n.what.event()).collect();
    assert_eq!(events, ["started", "segment", "finished"]);
}

#[test]
fn without_a_snapshot_the_start_says_what_the_event_says() {
    let mut tracker = Tracker::default();
    let mut notices = tracker.notices(&started(), None);
    notices.extend(tracker.notices(&segment_started(1, "Investigate", 4.0, 64.0), None));
    notices.extend(tracker.notices(&SessionEvent::Finished { at: at(70.0) }, None));
    assert_eq!(
        said(&notices)
            .into_iter()
            .map(|(_, _, text)| text)
            .collect::<Vec<_>>(),
        [
            "▶ \"Game day\" started (by page)",
            "Segment 2/2 \"Investigate\" — 1m",
            "Deadline: \"Investigate\"",
            "■ \"Game day\" finished — 1m10s",
        ]
    );
    // A snapshot of another session is not this one's.
    let mut other = Tracker::default();
    let notices = other.notices(&started(), Some(&snapshot("20261122-093000-0000", 1.0)));
    assert_eq!(
        notices[0].what,
        What::Started {
            by: "page".into(),
            segments: 2,
            planned_seconds: None
        }
    );
}

#[test]
fn after_a_restart_the_session_is_learnt_from_a_snapshot() {
    let mut tracker = Tracker::default();
    let resumed = SessionEvent::Resumed {
        at: at(100.0),
        by: Actor::server(),
        down_seconds: Some(7.5),
    };
    assert!(tracker.needs_snapshot(&resumed));
    assert!(
        tracker.notices(&resumed, None).is_empty(),
        "nothing to say yet"
    );
    let notices = tracker.notices(&resumed, Some(&snapshot(ID, 1.0)));
    assert_eq!(
        said(&notices)[0].2,
        "▶ \"Game day\" resumed (by server, after the server was down for 8s)"
    );
    assert_eq!(notices[0].session, ID);
    let warning = time_warning(1, 30.0, 130.0);
    assert!(!tracker.needs_snapshot(&warning));
    assert_eq!(
        said(&tracker.notices(&warning, None))[0].2,
        "⚠ 30 seconds left in \"Investigate\""
    );
    // A beat is never news, so it never needs a snapshot.
    let fresh = Tracker::default();
    assert!(!fresh.needs_snapshot(&stroke(StrokeKind::Beat { beat: 2, of: 16 }, 0, 1.0)));
}

#[test]
fn a_deadline_is_told_before_the_next_segment_even_when_its_stroke_comes_late() {
    let mut tracker = Tracker::default();
    let mut notices = tracker.notices(&started(), Some(&snapshot(ID, 1.0)));
    for event in [
        segment_started(0, "Gather", 4.0, 604.0),
        // The server lagged: the next segment is announced before a warning of the one
        // before it is, and before the deadline's strokes are reported.
        segment_started(1, "Investigate", 604.0, 1804.0),
        time_warning(0, 60.0, 544.0),
        stroke(StrokeKind::SegmentEnd, 0, 604.0),
        SessionEvent::Skipped {
            at: at(700.0),
            by: actor("page"),
            to: "previous",
        },
        segment_started(0, "Gather", 700.0, 1300.0),
        SessionEvent::Finished { at: at(1300.0) },
    ] {
        notices.extend(tracker.notices(&event, None));
    }
    assert_eq!(
        said(&notices)
            .into_iter()
            .map(|(event, at, _)| format!("{event} {at}"))
            .collect::<Vec<_>>(),
        [
            "started t+0",
            "segment t+4",
            "deadline t+604",
            "segment t+604",
            // Going back is no deadline; the last run ends at its deadline.
            "segment t+700",
            "deadline t+1300",
            "finished t+1300",
        ]
    );
}

#[test]
fn a_snapshot_taken_during_the_buka_or_in_overtime_tells_no_false_deadline() {
    let mut buka = snapshot(ID, 1.0);
    buka.state = State::Buka;
    buka.segment = 0;
    let mut tracker = Tracker::default();
    let resumed = SessionEvent::Resumed {
        at: at(2.0),
        by: Actor::server(),
        down_seconds: Some(1.0),
    };
    let mut notices = tracker.notices(&resumed, Some(&buka));
    notices.extend(tracker.notices(&segment_started(0, "Gather", 4.0, 604.0), None));
    let events: Vec<_> = notices.iter().map(|n| n.what.event()).collect();
    assert_eq!(events, ["resumed", "segment"]);

    let mut held = snapshot(ID, 1.0);
    held.state = State::Overtime;
    let mut tracker = Tracker::default();
    let mut notices = tracker.notices(&resumed, Some(&held));
    notices.extend(tracker.notices(
        &SessionEvent::Skipped {
            at: at(2000.0),
            by: actor("page"),
            to: "next",
        },
        None,
    ));
    notices.extend(tracker.notices(&SessionEvent::Finished { at: at(2000.0) }, None));
    let events: Vec<_> = notices.iter().map(|n| n.what.event()).collect();
    assert_eq!(events, ["resumed", "finished"]);
}

#[test]
fn turns_are_told_as_they_begin_and_a_spin_as_it_lands() {
    let mut tracker = Tracker::default();
    let snap = snapshot(ID, 1.0);
    let mut notices = tracker.notices(&started(), Some(&snap));
    notices.extend(tracker.notices(&segment_started(0, "Gather", 4.0, 604.0), None));
    notices.extend(tracker.notices(
        &SessionEvent::Turn {
            segment: 0,
            person: "Ana".into(),
            next: Some("Budi".into()),
            turn: 0,
            of: 2,
            at: at(4.0),
        },
        None,
    ));
    let spin = crate::session::SpinStatus {
        segment: 0,
        entry: "DNS".into(),
        index: 1,
        entries: vec!["Disk full".into(), "DNS".into()],
        from: 0,
        steps: 17,
        start_seconds: 10.0,
        land_seconds: 15.0,
        lands_at: "t+15".into(),
    };
    let spun = tracker.notices(
        &SessionEvent::Spin {
            at: at(10.0),
            by: actor("slack:@ana"),
            spin: Some(spin),
        },
        None,
    );
    assert!(
        spun.is_empty(),
        "the pick is not told before the room hears it"
    );
    // The run's strokes tell nothing; its landing gong tells the pick.
    let mut run = stroke(StrokeKind::Spin { landing: false }, 0, 12.0);
    if let SessionEvent::Stroke { instrument, .. } = &mut run {
        *instrument = Instrument::Bonang;
    }
    assert!(tracker.notices(&run, None).is_empty());
    notices.extend(tracker.notices(&stroke(StrokeKind::Spin { landing: true }, 0, 15.0), None));
    let told: Vec<_> = said(&notices).into_iter().skip(2).collect();
    assert_eq!(
        told,
        [
            (
                "turn",
                "t+4".to_owned(),
                "Ana's turn in \"Gather\", then Budi".to_owned()
            ),
            (
                "spin",
                "t+15".to_owned(),
                "The wheel in \"Gather\" landed on \"DNS\" (spun by slack:@ana)".to_owned()
            ),
        ]
    );
}
