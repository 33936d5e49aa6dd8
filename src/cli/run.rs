//! `gongan run`: a session in the terminal — live progress and keyboard steering.
//!
//! On a terminal it redraws a small status screen and reads single keys; otherwise it
//! prints one line per event and reads the same keys from standard input, so scripts (and
//! tests) can steer it too.

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use crossterm::event::{Event as TermEvent, KeyCode, KeyEventKind, KeyModifiers};
use crossterm::{cursor, execute, queue, style, terminal};
use gongan::audio::EngineConfig;
use gongan::audio::output::{self, OutputSpec};
use gongan::session::{
    Conductor, ConductorConfig, ConductorHandle, Debrief, Event, MemoryJournal, SessionEvent,
    SessionRecord, Snapshot, Speed, State, SteerCommand,
};
use tokio::sync::{broadcast, mpsc};

use super::clean;
use super::plan_arg::load_plan;
use super::render::clock;

mod big_clock;
mod colour;
mod view;

use colour::Tone;
use view::{Elapsed, Press, STOP_QUESTION, StopGuard};

/// How long the final gong is left to ring before the command exits.
const RING_OUT: Duration = Duration::from_secs(4);

/// Whether a stream that is (or is not) a terminal gets colour, as this environment
/// asks: `NO_COLOR` and `TERM=dumb` turn it off (the terminal view and the logs agree).
pub fn colour_for(is_tty: bool) -> bool {
    colour::use_colour(
        is_tty,
        std::env::var_os("NO_COLOR").as_deref(),
        std::env::var("TERM").ok().as_deref(),
    )
}

/// A key the facilitator pressed.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Key {
    PauseResume,
    Next,
    Previous,
    Extend,
    /// `-`: a plan minute less.
    Shorten,
    /// `s`: spin the segment's wheel.
    Spin,
    /// `q` (or Esc): stop, once confirmed.
    Quit,
    /// Ctrl-C: stop now.
    Interrupt,
}

impl Key {
    fn from_char(c: char) -> Option<Key> {
        match c {
            ' ' => Some(Key::PauseResume),
            'n' | 'N' => Some(Key::Next),
            'p' | 'P' => Some(Key::Previous),
            '+' | '=' => Some(Key::Extend),
            '-' => Some(Key::Shorten),
            's' | 'S' => Some(Key::Spin),
            'q' | 'Q' => Some(Key::Quit),
            _ => None,
        }
    }
}

/// Runs the plan named by `plan` on `spec` until it finishes or the facilitator stops it.
pub fn run(plan: &str, spec: &OutputSpec, speed: Speed, pack: &str) -> anyhow::Result<ExitCode> {
    if matches!(spec, OutputSpec::Wav(_)) {
        bail!(
            "`gongan run` plays in real time; to render to a file use `gongan render PLAN -o FILE.wav`"
        );
    }
    let plan = load_plan(plan)?;
    let (controller, running) = output::start(spec, EngineConfig::default())?;
    let pack = super::pack_arg::load_pack(pack, controller.sample_rate())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let interactive = std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    let output_name = running.describe();
    let output = &running;
    let journal = MemoryJournal::default();
    let kept = journal.clone();
    runtime.block_on(async move {
        let handle = Conductor::spawn(
            controller,
            Arc::new(pack),
            ConductorConfig::default(),
            Box::new(journal.clone()),
        );
        gongan::http::startup::publish_output_events(output, handle.clone());
        let events = handle.subscribe();
        handle.start(plan, speed, super::actor()).await?;
        let keys = read_keys(interactive);
        if interactive {
            let colour = colour_for(std::io::stdout().is_terminal());
            let _screen = Screen::enter()?;
            interactive_loop(&handle, events, keys, &output_name, colour).await
        } else {
            println!("playing to {output_name}; keys on stdin: space pause/resume, n next, p previous, + extend 1 min, - 1 min less, s spin, q q stop");
            plain_loop(&handle, events, keys).await
        }
    })?;
    drop(running);
    // The debrief stays on the terminal (the live screen is gone by now).
    match SessionRecord::from_entries(kept.entries()) {
        Ok(Some(record)) => {
            let sheet = Debrief::new(&record, std::time::SystemTime::now()).to_markdown();
            println!("\n{}", clean_lines(sheet.trim_end()));
        }
        Ok(None) => {}
        Err(error) => tracing::warn!("no summary: {error}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads keys on a thread: raw key events from a terminal, bytes from a pipe.
fn read_keys(interactive: bool) -> mpsc::Receiver<Key> {
    let (tx, rx) = mpsc::channel(16);
    std::thread::spawn(move || {
        if interactive {
            while let Ok(event) = crossterm::event::read() {
                let TermEvent::Key(key) = event else { continue };
                if key.kind != KeyEventKind::Press {
                    continue;
                }
                let k = match key.code {
                    KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                        Some(Key::Interrupt)
                    }
                    KeyCode::Char(c) => Key::from_char(c),
                    KeyCode::Esc => Some(Key::Quit),
                    _ => None,
                };
                if let Some(k) = k
                    && tx.blocking_send(k).is_err()
                {
                    break;
                }
            }
        } else {
            let mut byte = [0u8; 1];
            let mut stdin = std::io::stdin();
            while let Ok(1) = stdin.read(&mut byte) {
                if let Some(k) = Key::from_char(char::from(byte[0]))
                    && tx.blocking_send(k).is_err()
                {
                    break;
                }
            }
        }
    });
    rx
}

/// Turns a key into a command for the session as it is now.
async fn steer(handle: &ConductorHandle, key: Key) -> Result<(), String> {
    let command = match key {
        Key::PauseResume => {
            let paused = handle
                .snapshot()
                .await
                .map_err(|e| e.to_string())?
                .is_some_and(|s| s.state == State::Paused);
            if paused {
                SteerCommand::Resume
            } else {
                SteerCommand::Pause
            }
        }
        Key::Next => SteerCommand::Next,
        Key::Previous => SteerCommand::Previous,
        Key::Extend => SteerCommand::Extend(Duration::from_secs(60)),
        Key::Shorten => SteerCommand::Shorten(Duration::from_secs(60)),
        Key::Spin => SteerCommand::Spin(gongan::session::wheel::roll()),
        Key::Quit | Key::Interrupt => SteerCommand::Stop,
    };
    handle
        .steer(command, super::actor())
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

async fn plain_loop(
    handle: &ConductorHandle,
    mut events: broadcast::Receiver<Event>,
    mut keys: mpsc::Receiver<Key>,
) -> anyhow::Result<()> {
    let mut keys_open = true;
    let mut guard = StopGuard::default();
    loop {
        let line = tokio::select! {
            key = keys.recv(), if keys_open => match key.map(|key| guard.press(key)) {
                Some(Press::AskToStop) => Some(STOP_QUESTION.to_owned()),
                Some(Press::Act(key)) => steer(handle, key).await.err().map(|e| format!("refused: {e}")),
                Some(Press::Stop) => steer(handle, Key::Quit).await.err().map(|e| format!("refused: {e}")),
                None => {
                    keys_open = false;
                    None
                }
            },
            _ = tokio::signal::ctrl_c() => steer(handle, Key::Interrupt).await.err(),
            event = events.recv() => match event {
                Ok(Event::Session(event)) => {
                    if matches!(event, SessionEvent::Finished { .. }) {
                        say("finished")?;
                        tokio::time::sleep(RING_OUT).await;
                        return Ok(());
                    }
                    Some(describe(&event))
                }
                Ok(Event::Output(output)) => Some(format!("sound: {} ({})", output.output, output.detail)),
                Ok(Event::Warning(warning)) => Some(format!("warning: {}", warning.detail)),
                Ok(Event::RoomMessage(message)) => Some(format!("message to the room: {}", message.text)),
                Ok(Event::Cue(_) | Event::CueScheduled(_) | Event::Tick(_) | Event::Volume(_)) => None,
                Err(broadcast::error::RecvError::Lagged(n)) => Some(format!("({n} events skipped)")),
                Err(broadcast::error::RecvError::Closed) => bail!("the session ended unexpectedly"),
            },
        };
        if let Some(line) = line
            && say(&line).is_err()
        {
            // Whoever read our output has gone (a closed pipe): end the session quietly.
            let _ = steer(handle, Key::Quit).await;
            return Ok(());
        }
    }
}

/// Prints a line and flushes it, so a reader of a pipe sees each event as it happens.
/// Control characters are removed: plan and segment names are user text.
fn say(line: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout();
    writeln!(out, "{}", clean(line))?;
    out.flush()
}

/// A session moment for log lines: `m:ss.mmm` of session time, precise enough to compare
/// two events, with no engine frames (those mean nothing to a facilitator).
fn stamp(seconds: f64) -> String {
    let millis = (seconds.max(0.0) * 1000.0).round() as u64;
    format!(
        "{}:{:02}.{:03}",
        millis / 60_000,
        millis / 1000 % 60,
        millis % 1000
    )
}

/// One line for an event, for logs and pipes.
fn describe(event: &SessionEvent) -> String {
    match event {
        SessionEvent::SessionStarted { plan, segments, .. } => {
            format!("started {plan} ({segments} segments)")
        }
        SessionEvent::SegmentStarted {
            segment,
            title,
            at,
            deadline_seconds,
            ..
        } => format!(
            "{} segment {} '{title}' started (gong at {})",
            stamp(at.seconds),
            segment + 1,
            clock(*deadline_seconds),
        ),
        SessionEvent::Stroke {
            at,
            instrument,
            variant,
            kind,
            ..
        } => {
            let pitch = variant.map(|v| format!(" {v}")).unwrap_or_default();
            let kind = serde_json::to_value(kind)
                .ok()
                .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
                .unwrap_or_default();
            format!("{} stroke {instrument}{pitch} ({kind})", stamp(at.seconds))
        }
        SessionEvent::Paused { at, by } => format!("{} paused by {by}", stamp(at.seconds)),
        SessionEvent::Resumed { at, by, .. } => format!("{} resumed by {by}", stamp(at.seconds)),
        SessionEvent::Extended { by_seconds, by, .. } => {
            format!("extended by {by_seconds} s ({by})")
        }
        SessionEvent::Skipped { to, by, .. } => format!("skipped to the {to} segment ({by})"),
        SessionEvent::Stopped { by, .. } => format!("stopped by {by}"),
        SessionEvent::TimeWarning {
            segment,
            lead_seconds,
            at,
        } => format!(
            "{} segment {}: {} left",
            stamp(at.seconds),
            segment + 1,
            clock(*lead_seconds)
        ),
        SessionEvent::Overtime { segment, .. } => {
            format!("segment {} is in overtime; press n to move on", segment + 1)
        }
        SessionEvent::Missed { strokes, at } => format!(
            "{} {strokes} strokes missed: the sound stalled past their moment",
            stamp(at.seconds)
        ),
        SessionEvent::TimeLeftSet {
            at,
            by,
            left_seconds,
        } => format!(
            "{} time left set to {} ({by})",
            stamp(at.seconds),
            clock(*left_seconds)
        ),
        SessionEvent::Jumped { at, by, segment } => format!(
            "{} jumped to segment {} ({by})",
            stamp(at.seconds),
            segment + 1
        ),
        SessionEvent::Spin { at, by, spin } => match spin {
            Some(spin) => format!(
                "{} the wheel spins ({by}) and lands on '{}' at {}",
                stamp(at.seconds),
                clean(&spin.entry),
                stamp(spin.land_seconds)
            ),
            None => format!("{} the wheel spins ({by})", stamp(at.seconds)),
        },
        SessionEvent::Turn {
            at, person, next, ..
        } => {
            let next = next
                .as_deref()
                .map(|n| format!(", then {}", clean(n)))
                .unwrap_or_default();
            format!("{} {}'s turn{next}", stamp(at.seconds), clean(person))
        }
        SessionEvent::Finished { .. } => "finished".to_owned(),
    }
}

/// The terminal in raw mode on the alternate screen, restored on drop (also on errors).
struct Screen;

impl Screen {
    fn enter() -> anyhow::Result<Screen> {
        terminal::enable_raw_mode()?;
        execute!(
            std::io::stdout(),
            terminal::EnterAlternateScreen,
            cursor::Hide
        )?;
        Ok(Screen)
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = execute!(
            std::io::stdout(),
            cursor::Show,
            terminal::LeaveAlternateScreen
        );
        let _ = terminal::disable_raw_mode();
    }
}

async fn interactive_loop(
    handle: &ConductorHandle,
    mut events: broadcast::Receiver<Event>,
    mut keys: mpsc::Receiver<Key>,
    output_name: &str,
    colour: bool,
) -> anyhow::Result<()> {
    let mut redraw = tokio::time::interval(Duration::from_millis(100));
    let mut last_stroke = String::new();
    let mut message = String::new();
    let mut finished_at: Option<tokio::time::Instant> = None;
    let mut guard = StopGuard::default();
    let mut elapsed = Elapsed::default();
    // The longest lead of the warnings the current segment has sounded, in plan seconds.
    let mut warned: Option<f64> = None;
    loop {
        tokio::select! {
            Some(key) = keys.recv() => {
                let key = match key {
                    Key::Interrupt => Some(Key::Interrupt),
                    key => match guard.press(key) {
                        Press::AskToStop => None,
                        Press::Act(key) => Some(key),
                        Press::Stop => Some(Key::Quit),
                    },
                };
                message = match key {
                    None => STOP_QUESTION.to_owned(),
                    Some(key) => match steer(handle, key).await {
                        Ok(()) => String::new(),
                        Err(e) => format!("refused: {e}"),
                    },
                };
            }
            event = events.recv() => match event {
                Ok(Event::Session(event)) => {
                    match event {
                        SessionEvent::Finished { .. } => {
                            finished_at = Some(tokio::time::Instant::now());
                        }
                        SessionEvent::SegmentStarted { .. } => warned = None,
                        SessionEvent::TimeWarning { lead_seconds, .. } => {
                            warned = Some(warned.unwrap_or(0.0).max(lead_seconds));
                        }
                        _ => {}
                    }
                    if matches!(event, SessionEvent::Stroke { .. }) {
                        last_stroke = describe(&event);
                    } else {
                        message = describe(&event);
                    }
                }
                Ok(Event::Output(output)) => message = format!("sound: {} ({})", output.output, output.detail),
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => bail!("the session ended unexpectedly"),
            },
            _ = redraw.tick() => {
                if finished_at.is_some_and(|t| t.elapsed() >= RING_OUT) {
                    return Ok(());
                }
                if let Some(snapshot) = handle.snapshot().await? {
                    let shown = elapsed.shown(
                        snapshot.state == State::Paused,
                        snapshot.elapsed_seconds,
                        snapshot.speed,
                    );
                    // The question stays until it is answered, whatever happens meanwhile.
                    let message = if guard.asking() { STOP_QUESTION } else { message.as_str() };
                    let size = terminal::size()
                        .map_or((80, 24), |(c, r)| (usize::from(c), usize::from(r)));
                    let lines = view_lines(
                        &snapshot, shown, warned, &last_stroke, message, output_name, size,
                    );
                    paint(&lines, colour)?;
                }
            }
        }
    }
}

/// A line of the view: pieces of text, each in its tone.
#[derive(Debug, Default)]
struct Line(Vec<(String, Tone)>);

impl Line {
    fn plain(text: impl Into<String>) -> Line {
        Line(vec![(text.into(), Tone::Plain)])
    }

    fn then(mut self, text: impl Into<String>, tone: Tone) -> Line {
        self.0.push((text.into(), tone));
        self
    }
}

/// The status screen: plan, segment, time left, the gongan with its played beats lit, and
/// the time left again in large digits when the window has room for them beside the rest
/// (the notes are never cut for the large clock: without room it is left out). The time,
/// large or not, and the state are in the tone of how the segment stands.
///
/// `warned` is the longest lead of the warnings the segment has sounded; `(columns, rows)`
/// the window's size. Times are plan time; user text (plan, titles, notes) is shown
/// without control characters, so a plan cannot drive the terminal.
fn view_lines(
    s: &Snapshot,
    elapsed: f64,
    warned: Option<f64>,
    last_stroke: &str,
    message: &str,
    output_name: &str,
    (columns, rows): (usize, usize),
) -> Vec<Line> {
    let tone = Tone::of(s.state, s.remaining_seconds * s.speed, warned);
    let state = match s.state {
        State::Buka => "opening (buka)",
        State::Running => "running",
        State::Paused => "PAUSED",
        State::Overtime => "OVERTIME",
        State::Finished => "finished",
    };
    let speed = if (s.speed - 1.0).abs() > f64::EPSILON {
        format!("  x{}", s.speed)
    } else {
        String::new()
    };
    let wheel: String = s
        .pattern
        .iter()
        .enumerate()
        .map(|(i, symbol)| {
            if i < usize::from(s.beat) {
                format!("[{symbol}]")
            } else {
                format!(" {symbol} ")
            }
        })
        .collect();
    let next = match (s.state, &s.next) {
        // During the opening phrase the first segment is what comes next.
        (State::Buka, _) => clean(&s.title),
        (_, Some(next)) => clean(next),
        (_, None) => "(the end)".to_owned(),
    };
    let overtime = s.state == State::Overtime;
    let time_left = view::time_left(overtime, s.remaining_seconds, s.overtime_seconds, s.speed);
    let mut lines = vec![
        Line::plain(format!("gongan  {}  -  ", clean(&s.plan)))
            .then(state, tone)
            .then(format!("{speed}  ({output_name})"), Tone::Plain),
        Line::default(),
        Line::plain(format!(
            "segment {}/{}  {}      ",
            s.segment + 1,
            s.segments.len(),
            clean(&s.title),
        ))
        .then(time_left, tone),
        Line::plain(format!("gongan  beat {}/{}  {wheel}", s.beat, s.of)),
        Line::plain(format!("elapsed {}   next: {next}", clock(elapsed))),
        Line::default(),
    ];
    let clock_at = lines.len();
    lines.extend(
        view::wrap(&clean_lines(&s.notes), columns.saturating_sub(2))
            .into_iter()
            .map(|l| Line::plain(format!("  {l}"))),
    );
    lines.push(Line::default());
    lines.push(Line::plain(format!("last stroke: {}", clean(last_stroke))));
    lines.push(Line::plain(clean(message)));
    lines.push(Line::default());
    lines.push(Line::plain(
        "[space] pause  [n] next  [p] previous  [+/-] 1 min  [s] spin  [q] stop",
    ));
    let countdown = view::countdown(overtime, s.remaining_seconds, s.overtime_seconds, s.speed);
    let width = big_clock::width(&countdown);
    if big_clock::fits(width, columns, rows.saturating_sub(lines.len())) {
        let margin = " ".repeat((columns - width) / 2);
        let big = big_clock::big_clock(&countdown)
            .into_iter()
            .map(|row| Line::plain(margin.clone()).then(row, tone))
            .chain([Line::default()]);
        lines.splice(clock_at..clock_at, big);
    }
    lines
}

/// Draws `lines` over the whole screen, each piece in its tone's colour when `colour`.
fn paint(lines: &[Line], colour: bool) -> std::io::Result<()> {
    let mut out = std::io::stdout();
    queue!(
        out,
        cursor::MoveTo(0, 0),
        terminal::Clear(terminal::ClearType::All)
    )?;
    for Line(pieces) in lines {
        for (text, tone) in pieces {
            match tone.colour().filter(|_| colour) {
                Some(c) => queue!(
                    out,
                    style::SetForegroundColor(c),
                    style::Print(text),
                    style::ResetColor
                )?,
                None => queue!(out, style::Print(text))?,
            }
        }
        queue!(out, cursor::MoveToNextLine(1))?;
    }
    out.flush()
}

/// `text` without control characters, its line breaks kept.
fn clean_lines(text: &str) -> String {
    text.lines().map(clean).collect::<Vec<_>>().join("\n")
}
