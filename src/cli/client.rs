//! `gongan cue` and `gongan session`: clients of a running server's HTTP API.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use gongan::client::{Client, DEFAULT_SERVER};
use gongan::session::{Plan, SegmentDuration};
use hyper::Method;
use serde_json::{Value, json};

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
    let mut body = json!({ "instrument": args.instrument, "by": super::actor() });
    if let Some(variant) = args.variant {
        body["variant"] = json!(variant);
    }
    if let Some(gain) = args.gain_db {
        body["gain_db"] = json!(gain);
    }
    if let Some(quantize) = args.quantize {
        body["quantize"] = json!(match quantize {
            Quantize::Beat => "beat",
            Quantize::Gong => "gong",
        });
    }
    let answer = runtime()?.block_on(client.call(Method::POST, "/v1/cues", Some(&body)))?;
    if args.server.json {
        println!("{answer}");
    } else {
        let coalesced = if answer["coalesced"].as_bool() == Some(true) {
            " (joined an identical cue: no extra stroke)"
        } else {
            ""
        };
        println!(
            "cue {}: {} at frame {} (in {:.3} s){coalesced}",
            answer["id"],
            args.instrument,
            answer["frame"],
            answer["in_seconds"].as_f64().unwrap_or(0.0)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `gongan session …`.
pub fn session(command: SessionCommand) -> anyhow::Result<ExitCode> {
    let (server, method, path, body) = match command {
        SessionCommand::Start {
            plan,
            speed,
            server,
        } => {
            let mut body = start_body(&plan)?;
            body["by"] = json!(super::actor());
            if let Some(speed) = speed {
                body["speed"] = json!(speed);
            }
            (server, Method::POST, "/v1/session".to_owned(), Some(body))
        }
        SessionCommand::Pause(s) => (s, Method::POST, "/v1/session/pause".into(), acted()),
        SessionCommand::Resume(s) => (s, Method::POST, "/v1/session/resume".into(), acted()),
        SessionCommand::Next(s) => (s, Method::POST, "/v1/session/next".into(), acted()),
        SessionCommand::Previous(s) => (s, Method::POST, "/v1/session/previous".into(), acted()),
        SessionCommand::Stop(s) => (s, Method::POST, "/v1/session/stop".into(), acted()),
        SessionCommand::Extend { by, server } => {
            let seconds = extension_seconds(&by)?;
            (
                server,
                Method::POST,
                "/v1/session/extend".into(),
                Some(json!({ "seconds": seconds, "by": super::actor() })),
            )
        }
        SessionCommand::Status(s) => (s, Method::GET, "/v1/session".into(), None),
    };
    let client = client(&server)?;
    let answer = runtime()?.block_on(client.call(method, &path, body.as_ref()))?;
    if server.json {
        println!("{answer}");
    } else {
        println!("{}", summary(&answer));
    }
    Ok(ExitCode::SUCCESS)
}

/// The body of a command that only says who acts.
fn acted() -> Option<Value> {
    Some(json!({ "by": super::actor() }))
}

/// `{"plan_id": …}` for an id, `{"plan": …}` for a file.
fn start_body(plan: &str) -> anyhow::Result<Value> {
    let path = Path::new(plan);
    let looks_like_file =
        path.is_file() || plan.ends_with(".toml") || plan.ends_with(".json") || plan.contains('/');
    if !looks_like_file {
        return Ok(json!({ "plan_id": plan }));
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {plan}"))?;
    let parsed = if plan.ends_with(".json") {
        Plan::from_json(&text)
    } else {
        Plan::parse_toml(&text)
    }
    .with_context(|| plan.to_owned())?;
    Ok(json!({ "plan": parsed }))
}

fn extension_seconds(by: &str) -> anyhow::Result<f64> {
    if let Ok(seconds) = by.trim().parse::<f64>() {
        return Ok(seconds);
    }
    let duration: Duration = SegmentDuration::parse(by)
        .map_err(|e| anyhow::anyhow!("{by:?} is not a number of seconds or a duration: {e}"))?
        .get();
    Ok(duration.as_secs_f64())
}

/// One line about a session snapshot.
fn summary(snapshot: &Value) -> String {
    let total = snapshot["segments"].as_array().map_or(0, Vec::len);
    let remaining = snapshot["remaining_seconds"]
        .as_f64()
        .unwrap_or(0.0)
        .max(0.0);
    let mut line = format!(
        "{}: {}, segment {}/{} \"{}\", {}:{:02} left",
        snapshot["plan"].as_str().unwrap_or("?"),
        snapshot["state"].as_str().unwrap_or("?"),
        snapshot["segment"].as_u64().unwrap_or(0) + 1,
        total,
        snapshot["title"].as_str().unwrap_or(""),
        (remaining as u64) / 60,
        (remaining as u64) % 60,
    );
    if let Some(next) = snapshot["next"].as_str() {
        line.push_str(&format!(", next: \"{next}\""));
    }
    line
}
