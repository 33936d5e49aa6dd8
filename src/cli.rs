//! The command-line flags (clap) and the dispatch to each command.

mod client;
mod devices;
mod history;
mod hooks;
mod link;
mod pack_arg;
mod pack_install;
mod plan_arg;
mod play;
mod render;
mod run;

pub use run::colour_for;
mod serve;
mod synth;
mod table;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use gongan::audio::output::OutputSpec;
use gongan::session::Speed;

/// gongan paces team practice sessions with gamelan gong cues.
#[derive(Debug, Parser)]
#[command(
    name = "gongan",
    version,
    about,
    long_about = None,
    after_help = "Examples:\n  gongan serve                          # the page on http://127.0.0.1:7070\n  \
        gongan run wheel-of-misfortune        # a session in this terminal\n  \
        gongan session start practice-of-practice\n  \
        gongan cue gong\n  \
        gongan plans\n\n\
        Each command has its own --help with examples: gongan help run"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the plans: the built-in templates and the plans saved in the data dir.
    #[command(after_help = "Examples:\n  gongan plans\n  \
        gongan plans --data-dir /var/lib/gongan\n\n\
        Any ID runs with `gongan run ID` or `gongan session start ID`.")]
    Plans {
        /// The data dir whose saved plans to list (default: the one `gongan serve` uses).
        #[arg(long, value_name = "DIR", env = "GONGAN_DATA_DIR")]
        data_dir: Option<PathBuf>,
    },
    /// Render a built-in pack (default or bali) from the built-in gamelan synthesizer.
    #[command(after_help = "Examples:\n  gongan synth -o sounds/default\n  \
        gongan synth --pack bali -o bali\n\n\
        Writes gong.wav, suwukan.wav, kempul.wav, kenong-1..6.wav, ketuk.wav, kempyang.wav,\n\
        bonang-1..4.wav, saron-1..7.wav (mono 48 kHz 24-bit) and pack.toml; bali adds\n\
        saron-soft-1..7.wav. The output is the same byte for byte on every run.")]
    Synth {
        /// Folder to write the pack into; created if missing, same-named files replaced.
        #[arg(short, long, value_name = "DIR")]
        output: PathBuf,
        /// Which built-in pack: default (Javanese) or bali (shimmering pairs).
        #[arg(long, value_name = "NAME", default_value = "default")]
        pack: String,
    },
    /// Check, start, install or listen to a sound pack.
    #[command(
        subcommand,
        after_help = "Examples:\n  gongan pack new sounds/office\n  \
        gongan pack check sounds/office\n  gongan pack play sounds/office\n  \
        gongan pack install sounds/office --server http://gong-box:7070"
    )]
    Pack(PackCommand),
    /// Run a session in the terminal: live progress, keyboard steering.
    #[command(after_help = "Examples:\n  gongan run wheel-of-misfortune\n  \
        gongan run plans/chaos-game-day.toml --speed 10\n  \
        gongan run my-plan.toml --output null | tee session.log\n\n\
        Keys: space pause/resume, n next, p previous, + extend by a minute of plan time,\n\
        q stop (it asks: q again to stop, any other key goes on).\n\
        When stdout is not a terminal it prints one line per event and reads the same\n\
        keys from stdin.")]
    Run {
        /// A plan file (TOML), or a template's or saved plan's id (see `gongan plans`).
        plan: String,
        /// Where the sound goes: device, device:NAME, pulse, pulse:SINK or null.
        #[arg(long, short, default_value = "device")]
        output: OutputSpec,
        /// Compress time: 2 plays twice as fast.
        #[arg(long, default_value = "1")]
        speed: Speed,
        /// The sound pack: `default` (built in), an installed pack's name, or a folder.
        #[arg(long, default_value = pack_arg::DEFAULT, value_name = "NAME|DIR")]
        pack: String,
    },
    /// Render a whole session offline into a WAV file, strokes at their exact frames.
    #[command(
        after_help = "Examples:\n  gongan render plans/wheel-of-misfortune.toml -o drill.wav\n  \
        gongan render incident-data-collection -o preview.wav --speed 30 --events strokes.json\n\n\
        PLAN is a plan file or a template id (see `gongan plans`). --speed 30 plays a one-hour\n\
        plan in two minutes. `wait` segments move on after their first overtime reminder."
    )]
    Render {
        /// A plan file (TOML) or a template id.
        plan: String,
        /// The WAV file to write (32-bit float, 48 kHz stereo).
        #[arg(short, long, value_name = "FILE.wav")]
        output: PathBuf,
        /// Also write every stroke (frame, time, instrument, segment) as JSON here.
        #[arg(long, value_name = "FILE.json")]
        events: Option<PathBuf>,
        /// Compress time: 2 plays twice as fast.
        #[arg(long, default_value = "1")]
        speed: Speed,
        /// The sound pack: `default` (built in), an installed pack's name, or a folder.
        #[arg(long, default_value = pack_arg::DEFAULT, value_name = "NAME|DIR")]
        pack: String,
    },
    /// Run the server: the HTTP API, the event stream and the page, playing to the sound card.
    #[command(after_help = "Examples:\n  gongan serve\n  \
        gongan serve --output null --pack my-pack\n  \
        GONGAN_TOKEN=$(openssl rand -hex 16) gongan serve --bind 0.0.0.0:7070 --allow-host gong.example.org\n\n\
        Then: curl http://127.0.0.1:7070/v1/status")]
    Serve(serve::ServeArgs),
    /// Strike an instrument on a running server.
    #[command(after_help = "Examples:\n  gongan cue gong\n  \
        gongan cue kenong --variant 5 --quantize beat\n  \
        gongan cue gong --server http://gong-box:7070 --token \"$GONGAN_TOKEN\"")]
    Cue(client::CueArgs),
    /// Start and steer a session on a running server.
    #[command(
        subcommand,
        after_help = "Examples:\n  gongan session start practice-of-practice\n  \
        gongan session next\n  gongan session extend 5m\n  gongan session status"
    )]
    Session(client::SessionCommand),
    /// Past sessions, and one session's debrief sheet (planned against actual, who did what).
    #[command(after_help = "Examples:\n  gongan history\n  \
        gongan history 20261122-093000-7f3a > debrief.md\n  \
        gongan history 20261122-093000-7f3a --format csv\n  \
        gongan history --format json --data-dir /var/lib/gongan\n\n\
        Reads the journal in the data dir (the one `gongan serve` writes), also while it runs.")]
    History {
        /// A session id from the list; without one, the list.
        id: Option<String>,
        /// table (default: columns, or the debrief sheet for one session), md, csv or json.
        #[arg(long, short, value_enum, default_value = "table")]
        format: history::Format,
        /// The data dir (default: the one `gongan serve` uses).
        #[arg(long, value_name = "DIR", env = "GONGAN_DATA_DIR")]
        data_dir: Option<PathBuf>,
    },
    /// List the sound cards gongan can play to.
    #[command(after_help = "Examples:\n  gongan devices\n  \
        gongan serve --output device:pulse\n  gongan pack play --output device:default")]
    Devices,
    /// Capability links for stream decks, scripts and listeners.
    #[command(
        subcommand,
        after_help = "Examples:\n  gongan link create stream-deck --allow next,pause,resume,cue:gong\n  \
        gongan link list\n  gongan link revoke stream-deck"
    )]
    Link(link::LinkCommand),
    /// The receivers' URLs and the setup to paste into each tool; test notifications.
    Hooks(hooks::HooksArgs),
}

#[derive(Debug, Subcommand)]
enum PackCommand {
    /// Validate a pack: print one line per problem, or a summary if there are none.
    #[command(after_help = "Example:\n  gongan pack check sounds/my-pack")]
    Check {
        /// The pack folder (holding pack.toml).
        dir: PathBuf,
    },
    /// Start a new pack: a commented pack.toml and an example sound that passes `check`.
    #[command(after_help = "Example:\n  gongan pack new sounds/my-pack")]
    New {
        /// The folder to create; it must not exist or be empty.
        dir: PathBuf,
    },
    /// Install a pack into the data dir, or upload it to a running server.
    #[command(after_help = "Examples:\n  gongan pack install sounds/office\n  \
        gongan pack install office-sounds.tar.gz --name office\n  \
        gongan pack install team.zip --server http://gong-box:7070 --token \"$GONGAN_TOKEN\"\n\n\
        A folder or a tar, tar.gz or zip of one (pack.toml at its root or inside one\n\
        top-level folder). Every entry is checked (no links, no paths outside the pack) and\n\
        the pack must load, as `gongan pack check` checks it, before it replaces anything.\n\
        A pack of that name is replaced; on a server, not while it is the active pack.\n\
        Then: gongan serve --pack office, or POST /v1/packs/office/activate.")]
    Install(pack_install::InstallArgs),
    /// Play every instrument of a pack once, one after another.
    #[command(after_help = "Examples:\n  gongan pack play\n  \
        gongan pack play sounds/my-pack --only gong,kenong\n  \
        gongan pack play --output wav:default-pack.wav")]
    Play {
        /// The pack: `default` (built in), an installed pack's name, or a folder.
        #[arg(default_value = pack_arg::DEFAULT, value_name = "PACK")]
        pack: String,
        /// Where the sound goes: device, device:NAME, pulse, pulse:SINK, null or wav:PATH.
        #[arg(long, short, default_value = "device")]
        output: OutputSpec,
        /// Only these instruments (comma-separated).
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// Seconds between strokes.
        #[arg(long, default_value_t = 1.5)]
        gap: f64,
    },
}

/// Runs the command the flags name.
/// Who acts from this terminal: `cli:$USER` (or `cli` when the name is unknown or
/// unusable), shown in the server's events and history.
pub fn actor() -> gongan::session::Actor {
    std::env::var("USER")
        .ok()
        .and_then(|user| gongan::session::Actor::new(&format!("cli:{user}")).ok())
        .unwrap_or_else(|| gongan::session::Actor::new("cli").expect("a valid actor name"))
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Plans { data_dir } => {
            let data_dir = match data_dir {
                Some(dir) => dir,
                None => history::default_data_dir()?,
            };
            print!("{}", plan_arg::list(&data_dir));
            Ok(ExitCode::SUCCESS)
        }
        Command::Synth { output, pack } => synth::run(&pack, &output),
        Command::Pack(PackCommand::Check { dir }) => match gongan::pack::inspect(&dir) {
            Ok(summary) => {
                println!("{}: ok: {summary}", dir.display());
                Ok(ExitCode::SUCCESS)
            }
            Err(problems) => {
                for problem in &problems {
                    println!("{problem}");
                }
                Ok(ExitCode::FAILURE)
            }
        },
        Command::Pack(PackCommand::New { dir }) => {
            gongan::pack::scaffold(&dir)?;
            println!(
                "{}: new pack created; edit pack.toml, then run `gongan pack check {}`",
                dir.display(),
                dir.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Pack(PackCommand::Install(args)) => pack_install::run(args),
        Command::Pack(PackCommand::Play {
            pack,
            output,
            only,
            gap,
        }) => play::run(&pack, &output, &only, gap),
        Command::Devices => devices::run(),
        Command::Link(command) => link::run(command),
        Command::Hooks(args) => hooks::run(args),
        Command::History {
            id,
            format,
            data_dir,
        } => {
            let data_dir = match data_dir {
                Some(dir) => dir,
                None => history::default_data_dir()?,
            };
            history::run(id.as_deref(), format, &data_dir)
        }
        Command::Run {
            plan,
            output,
            speed,
            pack,
        } => run::run(&plan, &output, speed, &pack),
        Command::Render {
            plan,
            output,
            events,
            speed,
            pack,
        } => render::run(&plan, &output, events.as_deref(), speed, &pack),
        Command::Serve(args) => serve::run(args),
        Command::Cue(args) => client::cue(args),
        Command::Session(command) => client::session(command),
    }
}

/// User text for a terminal: no control characters (a saved plan's escape sequences must
/// not retitle the window or write the clipboard).
pub fn clean(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}

#[cfg(test)]
mod test {
    use clap::CommandFactory;

    use super::*;

    /// Every command and subcommand, with its path (`gongan pack play`).
    fn commands(command: &clap::Command, path: String, out: &mut Vec<(String, clap::Command)>) {
        for sub in command.get_subcommands() {
            if sub.get_name() != "help" {
                commands(sub, format!("{path} {}", sub.get_name()), out);
            }
        }
        out.push((path, command.clone()));
    }

    #[test]
    fn every_help_ends_with_an_example_of_itself() {
        let mut all = Vec::new();
        commands(&Cli::command(), "gongan".to_owned(), &mut all);
        assert!(all.len() > 25, "{} commands", all.len());
        for (path, command) in all {
            let after = command
                .get_after_help()
                .map(ToString::to_string)
                .unwrap_or_default();
            assert!(
                after.starts_with("Example") && after.contains(&path),
                "`{path} --help` has no example of itself: {after:?}"
            );
        }
    }
}
