//! `gongan cue` and `gongan session`: clients of a running server's HTTP API.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use gongan::api::{self, CueRequest, StartSession};
use gongan::client::{Client, DEFAULT_SERVER};
use gongan::session::{Plan, SegmentDuration, Snapshot, SteerCommand};

/// How to reach the server.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// The server's URL.
    #[arg(long, env = "GONGAN_SERVER", default_value = DEFAULT_SERVER, value_name = "URL")]
    server: String,
    /// The server's token, when it has one.
    #[arg(long, env = "GONGAN_TOKEN", hide_env_values = true, value_name = "T")]
    token: Option<String>,
    /// Print the server's JSON answer instead of a summary line.
    #[arg(long)]
    json: bool,
}

/// Where a quantised cue lands.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Quantize {
    /// The next beat of the running form.
    Beat,
    /// The next gong.
    Gong,
}

/// `gongan cue` flags.
#[derive(Debug, Args)]
pub struct CueArgs {
    /// The instrument (`gong`, `kenong`, … see GET /v1/instruments).
    instrument: String,
    /// Its pitched variant, from 1 (kenong 1–6).
    #[arg(long)]
    variant: Option<u32>,
    /// Level relative to the pack's, in dB (-60 to 12).
    #[arg(long, allow_hyphen_values = true, value_name = "DB")]
    gain_db: Option<f32>,
    /// Land on the next beat or gong of the running session.
    #[arg(long, value_enum)]
    quantize: Option<Quantize>,
    #[command(flatten)]
    server: ServerArgs,
}

/// `gongan session` commands.
#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// Start a session from a plan id (a template or saved plan) or a plan file.
    #[command(
        after_help = "Examples:\n  gongan session start wheel-of-misfortune\n  \
        gongan session start plans/my-game-day.toml --speed 60"
    )]
    Start {
        /// A plan id (see `gongan plans`) or a TOML/JSON plan file.
        plan: String,
        /// Speed factor: 1 is real time, 60 plays a minute a second.
        #[arg(long)]
        speed: Option<f64>,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Pause the session.
    #[command(after_help = "Example:\n  gongan session pause")]
    Pause(#[command(flatten)] ServerArgs),
    /// Resume after a pause.
    #[command(after_help = "Example:\n  gongan session resume")]
    Resume(#[command(flatten)] ServerArgs),
    /// Move on to the next segment.
    #[command(after_help = "Example:\n  gongan session next")]
    Next(#[command(flatten)] ServerArgs),
    /// Restart the previous segment.
    #[command(after_help = "Example:\n  gongan session previous")]
    Previous(#[command(flatten)] ServerArgs),
    /// End the session now.
    #[command(after_help = "Example:\n  gongan session stop")]
    Stop(#[command(flatten)] ServerArgs),
    /// Lengthen the current segment.
    #[command(after_help = "Examples:\n  gongan session extend 60\n  gongan session extend 5m")]
    Extend {
        /// Seconds, or a duration like `5m` or `1m30s`.
        by: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Take time off the current segment; at most all of it (then it ends on its gong).
    #[command(after_help = "Examples:\n  gongan session shorten 1m\n  gongan session shorten 30")]
    Shorten {
        /// Seconds, or a duration like `1m` or `1m30s`.
        by: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Set the current segment's time left: the rest of its gong cycle is spread to end
    /// on the new deadline; 0 ends it now, on its gong.
    #[command(
        name = "time-left",
        after_help = "Examples:\n  gongan session time-left 5m\n  gongan session time-left 0"
    )]
    TimeLeft {
        /// Seconds, or a duration like `5m` or `1m30s`.
        left: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Jump to a segment of the plan (from 1, as `status` counts them).
    #[command(after_help = "Example:\n  gongan session jump 3")]
    Jump {
        /// The segment's number, from 1.
        segment: usize,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Show the session.
    #[command(after_help = "Example:\n  gongan session status --json")]
    Status(#[command(flatten)] ServerArgs),
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn client(server: &ServerArgs) -> anyhow::Result<Client> {
    Ok(Client::new(&server.server, server.token.clone())?)
}

/// `gongan cue`.
pub fn cue(args: CueArgs) -> anyhow::Result<ExitCode> {
    let client = client(&args.server)?;
    let request = CueRequest {
        instrument: args.instrument.clone(),
        variant: args.variant,
        gain_db: args.gain_db,
        quantize: args.quantize.map(|q| match q {
            Quantize::Beat => api::Quantize::Beat,
            Quantize::Gong => api::Quantize::Gong,
        }),
        by: Some(super::actor()),
        ..CueRequest::default()
    };
    let answer = runtime()?.block_on(client.cue(&request))?;
    if args.server.json {
        println!("{}", serde_json::to_string(&answer)?);
    } else {
        let coalesced = if answer.coalesced {
            " (joined an identical cue: no extra stroke)"
        } else {
            ""
        };
        println!(
            "cue {}: {} at frame {} (in {:.3} s){coalesced}",
            answer.id, args.instrument, answer.frame, answer.in_seconds
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `gongan session …`.
pub fn session(command: SessionCommand) -> anyhow::Result<ExitCode> {
    let by = Some(super::actor());
    let steer = |server: ServerArgs, command: SteerCommand| (server, Call::Steer(command));
    let (server, call) = match command {
        SessionCommand::Start {
            plan,
            speed,
            server,
        } => {
            let mut request = start_request(&plan)?;
            request.speed = speed;
            request.by = by.clone();
            (server, Call::Start(Box::new(request)))
        }
        SessionCommand::Pause(s) => steer(s, SteerCommand::Pause),
        SessionCommand::Resume(s) => steer(s, SteerCommand::Resume),
        SessionCommand::Next(s) => steer(s, SteerCommand::Next),
        SessionCommand::Previous(s) => steer(s, SteerCommand::Previous),
        SessionCommand::Stop(s) => steer(s, SteerCommand::Stop),
        SessionCommand::Extend { by, server } => {
            steer(server, SteerCommand::Extend(length(&by, "to add")?))
        }
        SessionCommand::Shorten { by, server } => {
            steer(server, SteerCommand::Shorten(length(&by, "to take off")?))
        }
        SessionCommand::TimeLeft { left, server } => {
            steer(server, SteerCommand::SetLeft(length(&left, "left")?))
        }
        SessionCommand::Jump { segment, server } => {
            let Some(index) = segment.checked_sub(1) else {
                anyhow::bail!("segments are counted from 1: there is no segment 0");
            };
            steer(server, SteerCommand::Jump(index))
        }
        SessionCommand::Status(s) => (s, Call::Status),
    };
    let client = client(&server)?;
    let snapshot = runtime()?.block_on(async {
        match call {
            Call::Start(request) => client.start(&request).await,
            Call::Steer(command) => client.steer(command, by).await,
            Call::Status => client.session().await,
        }
    })?;
    if server.json {
        println!("{}", serde_json::to_string(&snapshot)?);
    } else {
        println!("{}", summary(&snapshot));
    }
    Ok(ExitCode::SUCCESS)
}

/// What a `gongan session` command asks the server.
enum Call {
    Start(Box<StartSession>),
    Steer(SteerCommand),
    Status,
}

/// The start request for a plan id, or for a plan file.
fn start_request(plan: &str) -> anyhow::Result<StartSession> {
    let path = Path::new(plan);
    let looks_like_file =
        path.is_file() || plan.ends_with(".toml") || plan.ends_with(".json") || plan.contains('/');
    if !looks_like_file {
        return Ok(StartSession {
            plan_id: Some(plan.to_owned()),
            ..StartSession::default()
        });
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {plan}"))?;
    let parsed = if plan.ends_with(".json") {
        Plan::from_json(&text)
    } else {
        Plan::parse_toml(&text)
    }
    .with_context(|| plan.to_owned())?;
    Ok(StartSession {
        plan: Some(parsed),
        ..StartSession::default()
    })
}

/// A length of time typed as seconds (`90`) or a duration (`1m30s`); `what` says what it
/// is for (`to add`), for the error. The server checks its range.
fn length(text: &str, what: &str) -> anyhow::Result<Duration> {
    if let Ok(seconds) = text.trim().parse::<f64>() {
        return Duration::try_from_secs_f64(seconds)
            .map_err(|_| anyhow::anyhow!("{text:?} is not a length of time {what}"));
    }
    let duration: Duration = SegmentDuration::parse(text)
        .map_err(|e| anyhow::anyhow!("{text:?} is not a number of seconds or a duration: {e}"))?
        .get();
    Ok(duration)
}

/// One line about a session snapshot.
fn summary(snapshot: &Snapshot) -> String {
    let remaining = snapshot.remaining_seconds.max(0.0) as u64;
    let clean = |text: &str| -> String { text.chars().filter(|c| !c.is_control()).collect() };
    let mut line = format!(
        "{}: {}, segment {}/{} \"{}\", {}:{:02} left",
        clean(&snapshot.plan),
        serde_json::to_value(snapshot.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        snapshot.segment + 1,
        snapshot.segments.len(),
        clean(&snapshot.title),
        remaining / 60,
        remaining % 60,
    );
    if let Some(next) = &snapshot.next {
        line.push_str(&format!(", next: \"{}\"", clean(next)));
    }
    line
}
