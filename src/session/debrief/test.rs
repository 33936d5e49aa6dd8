use std::path::PathBuf;

use super::*;
use crate::session::History;
use crate::session::record::JournalEntry;

/// 2026-11-22T09:30:00.000Z: every scripted session starts here.
const START: u64 = 1_795_339_800;

fn start_utc() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(START)
}

fn frame(seconds: u64) -> Frame {
    Frame(seconds * u64::from(SESSION_RATE))
}

const RETRO: &str = r#"
name = "Team retro"
description = "Weekly"

[[segments]]
title = "Check-in"
duration = "5m"
form = "bell"
density = "sparse"
notes = "One word each."

[[segments]]
title = "Discussion"
duration = "10m"
form = "bell"
warnings = ["2m"]

[[segments]]
title = "Wrap-up"
duration = "3m"
form = "bell"
"#;

fn retro() -> ValidPlan {
    ValidPlan::from_toml(RETRO).unwrap()
}

/// Builds a session's journal, entry by entry, at whole session seconds.
struct Script {
    entries: Vec<JournalEntry>,
}

impl Script {
    fn start(plan: ValidPlan, speed: f64) -> Script {
        let mut script = Script {
            entries: Vec::new(),
        };
        script.at(0, "page", Action::Started { plan, speed });
        script
    }

    fn at(&mut self, seconds: u64, actor: &str, action: Action) -> &mut Script {
        self.entries.push(JournalEntry {
            session: SessionId::parse("20261122-093000-00ff").unwrap(),
            at: frame(seconds),
            utc: start_utc() + Duration::from_secs(seconds),
            actor: Actor::new(actor).unwrap(),
            action,
        });
        self
    }

    fn steer(&mut self, seconds: u64, actor: &str, steer: impl Fn(Frame) -> Steer) -> &mut Script {
        let steer = steer(frame(seconds));
        self.at(seconds, actor, Action::Steered { steer })
    }

    fn finish(&mut self, seconds: u64, actor: &str, ending: Ending) -> &mut Script {
        self.at(seconds, actor, Action::Finished { ending })
    }

    fn record(&self) -> SessionRecord {
        SessionRecord::from_entries(self.entries.clone())
            .unwrap()
            .unwrap()
    }
}

fn extend(by_secs: u64) -> impl Fn(Frame) -> Steer {
    move |at| Steer::Extend {
        at,
        by: Duration::from_secs(by_secs),
    }
}

fn next(at: Frame) -> Steer {
    Steer::Next { at }
}

/// The scripted session of issue 9, up to `until` seconds: the retro starts at
/// 09:30:00; after the 4 s buka, Check-in (5m) starts at 4 s; ana extends it by 2 min at
/// 60 s; a cue and a stall at 100 s and 500 s; Discussion (10m) starts at 424 s and ana
/// moves on at 844 s, 7 min into it; Wrap-up (3m) runs to its end at 1024 s.
fn scripted(until: u64) -> Script {
    let mut s = Script::start(retro(), 1.0);
    s.steer(60, "slack:@ana", extend(120));
    s.at(
        100,
        "link:streamdeck",
        Action::Cue {
            id: 1,
            instrument: "kenong".into(),
            variant: Some(3),
            in_seconds: 0.0,
        },
    );
    s.at(500, "server", Action::Missed { strokes: 4 });
    if until >= 844 {
        s.steer(844, "cli:ana", next);
    }
    if until >= 1024 {
        s.finish(1024, "server", Ending::Completed);
    }
    s
}

/// Compares `actual` with the golden file `name`. `GONGAN_BLESS=1` rewrites the file
/// instead: only after every number in it was checked by hand (the tests below assert
/// the key ones).
fn golden(name: &str, actual: &str) {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "src/session/debrief/golden",
        name,
    ]
    .iter()
    .collect();
    if std::env::var_os("GONGAN_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (GONGAN_BLESS=1 writes it)", path.display()));
    assert!(
        expected == actual,
        "{name} differs from its golden file; actual:\n{actual}"
    );
}

/// A run's numbers: (segment, planned start, planned end, actual start, actual end,
/// actual length, overtime, outcome), in session seconds.
type RunNumbers = (
    usize,
    f64,
    f64,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    f64,
    RunOutcome,
);

fn numbers(d: &Debrief) -> Vec<RunNumbers> {
    d.runs
        .iter()
        .map(|r| {
            (
                r.segment,
                r.planned_start.seconds,
                r.planned_end.seconds,
                r.actual_start.as_ref().map(|m| m.seconds),
                r.actual_end.as_ref().map(|m| m.seconds),
                r.actual_seconds,
                r.overtime_seconds,
                r.ended,
            )
        })
        .collect()
}

#[test]
fn the_scripted_session_is_planned_against_actual() {
    let record = scripted(1024).record();
    let d = Debrief::new(&record, start_utc() + Duration::from_secs(99_999));
    // Planned: Check-in 4..304 (5m after the 4 s buka), Discussion 304..904 (10m),
    // Wrap-up 904..1084 (3m). Actual: Check-in 4..424 (5m + the 2m extension = 7m, so
    // 120 s over), Discussion 424..844 (left 7 min in, 3 min early: no overtime),
    // Wrap-up 844..1024 (its full 3m).
    assert_eq!(
        numbers(&d),
        [
            (
                0,
                4.0,
                304.0,
                Some(4.0),
                Some(424.0),
                Some(420.0),
                120.0,
                RunOutcome::Deadline
            ),
            (
                1,
                304.0,
                904.0,
                Some(424.0),
                Some(844.0),
                Some(420.0),
                0.0,
                RunOutcome::Skipped
            ),
            (
                2,
                904.0,
                1084.0,
                Some(844.0),
                Some(1024.0),
                Some(180.0),
                0.0,
                RunOutcome::Deadline
            ),
        ]
    );
    assert_eq!(d.runs[0].planned_start.utc, "2026-11-22T09:30:04.000Z");
    assert_eq!(
        d.runs[0].actual_end.as_ref().unwrap().utc,
        "2026-11-22T09:37:04.000Z"
    );
    assert_eq!(d.runs[2].planned_end.utc, "2026-11-22T09:48:04.000Z");
    assert_eq!(
        d.runs[2].actual_end.as_ref().unwrap().utc,
        "2026-11-22T09:47:04.000Z"
    );
    // 18 min planned; 7 + 7 + 3 = 17 min taken; 2 min of it overtime.
    assert_eq!(d.planned_seconds, 1080.0);
    assert_eq!(d.actual_seconds, Some(1020.0));
    assert_eq!(d.elapsed_seconds, 1020.0);
    assert_eq!(d.overtime_seconds, 120.0);
    assert_eq!(d.started, "2026-11-22T09:30:00.000Z");
    assert_eq!(d.state, State::Finished);
    assert_eq!(d.as_of, None);
    let ended = d.ended.as_ref().unwrap();
    assert_eq!(
        (ended.at.seconds, ended.how, ended.by.as_str()),
        (1024.0, Ending::Completed, "server")
    );
    // Strokes (bell forms): the buka's 8 bonang strokes and its kenong + gong at 4 s (10);
    // Check-in's opening kenong at 4 s, kenong + suwukan at its deadline 424 s (3);
    // Discussion's opening kenong at 424 s and the suwuk pair at 844 s — its 2m warning
    // would have sounded at 904 s, after the next (3); Wrap-up's opening kenong at 844 s,
    // kenong + gong ageng at 1024 s (3). 19 in all.
    assert_eq!(
        d.counts,
        Counts {
            strokes: 19,
            cues: 1,
            steering: 2,
            missed: 4
        }
    );
    assert!(
        d.strokes
            .iter()
            .all(|s| !matches!(s.kind, StrokeKind::Warning { .. }))
    );
    let last = d.strokes.last().unwrap();
    assert_eq!(
        (last.seconds, last.instrument, last.kind),
        (1024.0, Instrument::Gong, StrokeKind::SessionEnd)
    );
    let suwuk: Vec<f64> = d
        .strokes
        .iter()
        .filter(|s| s.kind == StrokeKind::Suwuk)
        .map(|s| s.seconds)
        .collect();
    assert_eq!(suwuk, [844.0, 844.0]);
    // The log: every entry, in which segment, with a human detail.
    let log: Vec<(f64, &str, &str, &str, Option<usize>)> = d
        .log
        .iter()
        .map(|l| {
            (
                l.at.seconds,
                l.actor.as_str(),
                l.action,
                l.detail.as_str(),
                l.segment,
            )
        })
        .collect();
    assert_eq!(
        log,
        [
            (
                0.0,
                "page",
                "started",
                "start \"Team retro\" (3 segments)",
                None
            ),
            (60.0, "slack:@ana", "extend", "extend +2:00", Some(0)),
            (100.0, "link:streamdeck", "cue", "cue kenong 3", Some(0)),
            (500.0, "server", "missed", "missed 4 strokes", Some(1)),
            (844.0, "cli:ana", "next", "next", Some(1)),
            (
                1024.0,
                "server",
                "finished",
                "finished: ran to its end",
                Some(2)
            ),
        ]
    );

    let csv = d.to_csv();
    let rows: Vec<&str> = csv.split_terminator("\r\n").collect();
    assert_eq!(rows.len(), 4, "{csv}");
    assert_eq!(
        rows[1],
        "0,0,Check-in,4,304,2026-11-22T09:30:04.000Z,2026-11-22T09:35:04.000Z,300,\
         4,424,2026-11-22T09:30:04.000Z,2026-11-22T09:37:04.000Z,420,120,deadline"
    );
    let md = d.to_markdown();
    assert!(
        md.starts_with("# Debrief: Team retro — 2026-11-22\n"),
        "{md}"
    );
    assert!(
        md.contains("**Planned 18:00, actual 17:00 (-1:00).** Overtime 2:00 in 1 segment run.")
    );
    assert!(md.contains(
        "| 1 | Check-in | 09:30:04–09:35:04 | 09:30:04–09:37:04 | 5:00 | 7:00 | +2:00 | deadline |"
    ));
    assert!(md.contains("- **Check-in** ran over by 2:00 (planned 5:00, took 7:00)."));

    golden("scripted.json", &d.to_json());
    golden("scripted.csv", &csv);
    golden("scripted.md", &md);
}

#[test]
fn a_finished_session_does_not_depend_on_when_it_is_debriefed() {
    let record = scripted(1024).record();
    let early = Debrief::new(&record, start_utc());
    let late = Debrief::new(&record, start_utc() + Duration::from_secs(86_400 * 365));
    assert_eq!(early, late);
    assert_eq!(early.to_json(), late.to_json());
}

#[test]
fn the_planned_spans_are_the_unsteered_timeline() {
    let record = scripted(1024).record();
    let d = Debrief::new(&record, start_utc());
    let plain = timeline(
        &record.plan,
        &History::new(),
        &TimelineOptions::new(SESSION_RATE),
    );
    let spans: Vec<(f64, f64)> = plain
        .runs()
        .iter()
        .map(|r| (seconds(r.start), seconds(r.end.unwrap())))
        .collect();
    let planned: Vec<(f64, f64)> = d
        .runs
        .iter()
        .map(|r| (r.planned_start.seconds, r.planned_end.seconds))
        .collect();
    assert_eq!(spans, planned);
    assert_eq!(seconds(plain.end().unwrap()), 1084.0);
}

#[test]
fn an_unfinished_session_is_still_running() {
    let record = scripted(500).record();
    let now = start_utc() + Duration::from_secs(500);
    let d = Debrief::new(&record, now);
    // Check-in ran 4..424 as extended; Discussion started at 424 and has run 76 s by
    // 500 s; Wrap-up has not started.
    assert_eq!(
        numbers(&d),
        [
            (
                0,
                4.0,
                304.0,
                Some(4.0),
                Some(424.0),
                Some(420.0),
                120.0,
                RunOutcome::Deadline
            ),
            (
                1,
                304.0,
                904.0,
                Some(424.0),
                None,
                Some(76.0),
                0.0,
                RunOutcome::Running
            ),
            (
                2,
                904.0,
                1084.0,
                None,
                None,
                None,
                0.0,
                RunOutcome::Upcoming
            ),
        ]
    );
    assert_eq!(d.state, State::Running);
    assert_eq!(d.ended, None);
    assert_eq!(d.actual_seconds, None);
    assert_eq!(d.elapsed_seconds, 496.0);
    assert_eq!(d.as_of.as_ref().map(|m| m.seconds), Some(500.0));
    // Buka (10), Check-in (3), Discussion's opening kenong (1): nothing after 500 s.
    assert_eq!(d.counts.strokes, 14);
    assert!(d.strokes.iter().all(|s| s.seconds <= 500.0));
    let md = d.to_markdown();
    assert!(
        md.contains("still running (running as of 09:38:20 UTC)"),
        "{md}"
    );
    assert!(
        md.contains("**Planned 18:00, still running, 8:16 so far.**"),
        "{md}"
    );
    assert!(
        md.contains(
            "| 2 | Discussion | 09:35:04–09:45:04 | 09:37:04–… | 10:00 | 1:16 |  | still running |"
        ),
        "{md}"
    );
    // A later `now` describes more of it.
    let later = Debrief::new(&record, now + Duration::from_secs(100));
    assert_eq!(later.runs[1].actual_seconds, Some(176.0));
    // Before its start, nothing but the start is due.
    let before = Debrief::new(&record, start_utc() - Duration::from_secs(10));
    assert_eq!(before.state, State::Buka);
    assert_eq!(before.counts.strokes, 1);
}

#[test]
fn a_stopped_session_names_who_stopped_it() {
    let mut s = Script::start(retro(), 1.0);
    s.steer(200, "slack:@bo", |at| Steer::Stop { at });
    s.finish(200, "server", Ending::Stopped);
    let d = Debrief::new(&s.record(), start_utc());
    assert_eq!(
        numbers(&d),
        [
            (
                0,
                4.0,
                304.0,
                Some(4.0),
                Some(200.0),
                Some(196.0),
                0.0,
                RunOutcome::Stopped
            ),
            (
                1,
                304.0,
                904.0,
                None,
                None,
                None,
                0.0,
                RunOutcome::NotReached
            ),
            (
                2,
                904.0,
                1084.0,
                None,
                None,
                None,
                0.0,
                RunOutcome::NotReached
            ),
        ]
    );
    let ended = d.ended.as_ref().unwrap();
    assert_eq!(
        (ended.how, ended.by.as_str()),
        (Ending::Stopped, "slack:@bo")
    );
    assert_eq!(d.actual_seconds, Some(196.0));
    // Buka (10), Check-in's opening kenong (1), and the kenong + gong ageng of the stop.
    assert_eq!(d.counts.strokes, 13);
    let last = d.strokes.last().unwrap();
    assert_eq!((last.seconds, last.kind), (200.0, StrokeKind::SessionEnd));
    let md = d.to_markdown();
    assert!(
        md.contains("; stopped by slack:@bo at 09:33:20 UTC."),
        "{md}"
    );
    assert!(
        md.contains("**Planned 18:00, actual 3:16 (-14:44).** Overtime 0:00 in 0 segment runs."),
        "{md}"
    );
    assert!(
        md.contains("| 3 | Wrap-up | 09:45:04–09:48:04 | — | 3:00 | — |  | not reached |"),
        "{md}"
    );
    assert!(md.contains("Nothing ran over."), "{md}");
    // A cut-short session seeds a plan with the planned lengths.
    let seeded = plan_from_actuals(&s.record());
    let lengths: Vec<String> = seeded
        .segments()
        .iter()
        .map(|s| s.duration().to_string())
        .collect();
    assert_eq!(lengths, ["5m", "10m", "3m"]);
}

/// Check-in runs 4..304; Discussion starts at 304 and cli:ana goes back at 364, so
/// Check-in runs again from 364 with its full 5 min, extended at 400 s by 1 min to 724;
/// Discussion runs again 724..1324 and Wrap-up 1324..1504.
fn with_previous() -> Script {
    let mut s = Script::start(retro(), 1.0);
    s.steer(364, "cli:ana", |at| Steer::Previous { at });
    s.steer(400, "page", extend(60));
    s.finish(1504, "server", Ending::Completed);
    s
}

#[test]
fn a_segment_run_again_after_previous_has_a_row_per_run() {
    let d = Debrief::new(&with_previous().record(), start_utc());
    assert_eq!(
        numbers(&d),
        [
            (
                0,
                4.0,
                304.0,
                Some(4.0),
                Some(304.0),
                Some(300.0),
                0.0,
                RunOutcome::Deadline
            ),
            (
                1,
                304.0,
                904.0,
                Some(304.0),
                Some(364.0),
                Some(60.0),
                0.0,
                RunOutcome::Previous
            ),
            (
                0,
                4.0,
                304.0,
                Some(364.0),
                Some(724.0),
                Some(360.0),
                60.0,
                RunOutcome::Deadline
            ),
            (
                1,
                304.0,
                904.0,
                Some(724.0),
                Some(1324.0),
                Some(600.0),
                0.0,
                RunOutcome::Deadline
            ),
            (
                2,
                904.0,
                1084.0,
                Some(1324.0),
                Some(1504.0),
                Some(180.0),
                0.0,
                RunOutcome::Deadline
            ),
        ]
    );
    assert_eq!(d.actual_seconds, Some(1500.0));
    assert_eq!(d.overtime_seconds, 60.0);
    // `previous` is logged in the segment it left; the extension in the one it extended.
    let segments: Vec<(&str, Option<usize>)> =
        d.log.iter().map(|l| (l.action, l.segment)).collect();
    assert_eq!(
        segments,
        [
            ("started", None),
            ("previous", Some(1)),
            ("extend", Some(0)),
            ("finished", Some(2))
        ]
    );
    let md = d.to_markdown();
    assert!(
        md.contains("- **Check-in** (run 2 of it) ran over by 1:00 (planned 5:00, took 6:00)."),
        "{md}"
    );
    // The seed takes the last run of each segment: Check-in's second, 6 min.
    let seeded = plan_from_actuals(&with_previous().record());
    let lengths: Vec<String> = seeded
        .segments()
        .iter()
        .map(|s| s.duration().to_string())
        .collect();
    assert_eq!(lengths, ["6m", "10m", "3m"]);
}

#[test]
fn user_text_cannot_break_the_tables() {
    let toml = r#"
name = "Retro | week 3"

[[segments]]
title = "Fix | deploy\nnow \u001b[31mred"
duration = "1m"
form = "bell"

[[segments]]
title = "Say \"hi\", then go"
duration = "1m"
form = "bell"

[[segments]]
title = "=SUM(A1:A9)"
duration = "1m"
form = "bell"
"#;
    let plan = ValidPlan::from_toml(toml).unwrap();
    let mut s = Script::start(plan, 1.0);
    s.steer(10, "slack:@a|b", extend(60));
    s.finish(184, "server", Ending::Completed);
    let d = Debrief::new(&s.record(), start_utc());
    // The debrief keeps the text as written; JSON escapes it.
    assert_eq!(d.runs[0].title, "Fix | deploy\nnow \u{1b}[31mred");
    let json = d.to_json();
    assert!(!json.contains('\u{1b}'));
    assert!(
        json.contains(r#""title": "Fix | deploy\nnow \u001b[31mred""#),
        "{json}"
    );

    let md = d.to_markdown();
    assert!(!md.contains('\u{1b}'), "{md}");
    assert!(
        md.starts_with("# Debrief: Retro \\| week 3 — 2026-11-22\n"),
        "{md}"
    );
    assert!(md.contains("| 1 | Fix \\| deploy now \\[31mred |"), "{md}");
    assert!(md.contains("| slack:@a\\|b | extend +1:00 |"), "{md}");
    // Every table row has exactly its columns: no pipe or line break got through.
    for line in md.lines().filter(|l| l.starts_with('|')) {
        let cells = line.replace("\\|", "").matches('|').count() - 1;
        assert!(cells == 8 || cells == 5, "{line}");
    }

    let csv = d.to_csv();
    assert!(!csv.contains('\u{1b}'));
    let rows: Vec<&str> = csv.split_terminator("\r\n").collect();
    assert_eq!(rows.len(), 4, "{csv}");
    assert!(
        rows[1].starts_with("0,0,Fix | deploy now [31mred,"),
        "{csv}"
    );
    assert!(
        rows[2].starts_with("1,1,\"Say \"\"hi\"\", then go\","),
        "{csv}"
    );
    assert!(rows[3].starts_with("2,2,'=SUM(A1:A9),"), "{csv}");
}

#[test]
fn the_seed_plan_takes_the_actual_lengths() {
    let seeded = plan_from_actuals(&scripted(1024).record());
    assert_eq!(seeded.name(), "Team retro (as run 2026-11-22)");
    assert_eq!(seeded.description(), "Weekly");
    let segments: Vec<(String, String, Vec<String>, String)> = seeded
        .segments()
        .iter()
        .map(|s| {
            (
                s.title().to_owned(),
                s.duration().to_string(),
                s.warnings().iter().map(ToString::to_string).collect(),
                s.form().to_string(),
            )
        })
        .collect();
    // Check-in took 7 min (extended); Discussion was skipped 3 min early, which says
    // nothing of what it needs, so it keeps 10 min; Wrap-up took its 3 min.
    assert_eq!(
        segments,
        [
            ("Check-in".into(), "7m".into(), vec![], "bell".into()),
            (
                "Discussion".into(),
                "10m".into(),
                vec!["2m".into()],
                "bell".into()
            ),
            ("Wrap-up".into(), "3m".into(), vec![], "bell".into()),
        ]
    );
    assert_eq!(seeded.segments()[0].notes(), "One word each.");
    assert_eq!(
        seeded.segments()[0].density(),
        retro().segments()[0].density()
    );
    // Seeding from a seeded plan replaces the date rather than adding another.
    assert_eq!(
        as_run_name("Team retro (as run 2026-11-15)", start_utc()),
        "Team retro (as run 2026-11-22)"
    );
    let long = "x".repeat(MAX_TITLE_CHARS);
    let name = as_run_name(&long, start_utc());
    assert_eq!(name.chars().count(), MAX_TITLE_CHARS);
    assert!(name.ends_with("x (as run 2026-11-22)"));
}

#[test]
fn the_seed_plan_counts_overtime_in_plan_time() {
    // A `wait` segment held 80 s past its 2 min deadline before ana moved on: it needed
    // 3m20s, and its 1m warning still fits.
    let plan = ValidPlan::from_toml(
        r#"
name = "Drill"
[[segments]]
title = "Investigate"
duration = "2m"
end = "wait"
warnings = ["1m"]
[[segments]]
title = "Debrief"
duration = "1m"
"#,
    )
    .unwrap();
    let mut s = Script::start(plan.clone(), 1.0);
    s.steer(204, "cli:ana", next);
    s.finish(264, "server", Ending::Completed);
    let record = s.record();
    let d = Debrief::new(&record, start_utc());
    assert_eq!(d.runs[0].ended, RunOutcome::Next);
    assert_eq!(d.runs[0].overtime_seconds, 80.0);
    let lengths = |p: ValidPlan| -> Vec<String> {
        p.segments()
            .iter()
            .map(|s| s.duration().to_string())
            .collect()
    };
    assert_eq!(lengths(plan_from_actuals(&record)), ["3m20s", "1m"]);
    assert_eq!(plan_from_actuals(&record).segments()[0].warnings().len(), 1);

    // At speed 60 (the buka is still 4 s of real time): Investigate runs from 4 s, its
    // deadline at 6 s; it holds until 8 s. 4 s of real time are 4 min of plan time.
    let mut fast = Script::start(plan, 60.0);
    fast.steer(8, "cli:ana", next);
    fast.finish(9, "server", Ending::Completed);
    assert_eq!(lengths(plan_from_actuals(&fast.record())), ["4m", "1m"]);
    let d = Debrief::new(&fast.record(), start_utc());
    assert_eq!(d.planned_seconds, 3.0);
    assert_eq!(d.actual_seconds, Some(5.0));
    assert!(d.to_markdown().contains("Rehearsed at 60× speed"));
}
