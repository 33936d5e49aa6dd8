//! [`act`]: carrying out a [`Command`] of the shared grammar for an actor — the one way
//! chat commands, links and mapping rules reach the conductor, exactly as the `/v1` routes
//! do (journaled with the actor before the answer).

use super::problem::ApiError;
use super::state::AppState;
use crate::command::{Command, HELP};
use crate::session::wheel::roll;
use crate::session::{Actor, Cue, CueReceipt, CueTime, Snapshot, Speed, State, SteerCommand};

/// What a command did.
#[derive(Debug, Clone)]
pub enum Acted {
    /// A cue was scheduled (or joined an identical one).
    Cued {
        /// The instrument's name and variant, as the command said them.
        what: String,
        /// The conductor's receipt.
        receipt: CueReceipt,
    },
    /// The session was steered.
    Steered {
        /// The command.
        command: SteerCommand,
        /// The session after it.
        snapshot: Box<Snapshot>,
    },
    /// A session started.
    Started(Box<Snapshot>),
    /// How the session stands (`None`: no session yet).
    Status(Option<Box<Snapshot>>),
    /// The grammar.
    Help,
}

/// Carries out `command` for `by`.
///
/// # Errors
/// The same problems as the matching `/v1` route (unknown instrument 422, no session 409,
/// unwritable journal 507…).
pub async fn act(state: &AppState, command: Command, by: Actor) -> Result<Acted, ApiError> {
    let conductor = state.conductor();
    Ok(match command {
        Command::Cue {
            instrument,
            variant,
        } => {
            let what = Command::Cue {
                instrument: instrument.clone(),
                variant,
            }
            .to_string();
            let receipt = conductor
                .cue(
                    Cue {
                        instrument,
                        variant,
                        gain_db: 0.0,
                        at: CueTime::Now,
                    },
                    by,
                )
                .await?;
            Acted::Cued { what, receipt }
        }
        Command::Steer(command) => Acted::Steered {
            command,
            snapshot: Box::new(conductor.steer(command, by).await?),
        },
        Command::Spin => {
            let command = SteerCommand::Spin(roll());
            Acted::Steered {
                command,
                snapshot: Box::new(conductor.steer(command, by).await?),
            }
        }
        Command::Start(plan_id) => {
            let (plan, _) = state.plans().get(&plan_id).await?;
            Acted::Started(Box::new(conductor.start(plan, Speed::NORMAL, by).await?))
        }
        Command::Status => Acted::Status(conductor.snapshot().await?.map(Box::new)),
        Command::Help => Acted::Help,
    })
}

impl Acted {
    /// One or a few lines for a person in a chat channel.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Acted::Cued { what, receipt } if receipt.coalesced => {
                format!("{what}: already sounding (joined an identical cue)")
            }
            Acted::Cued { what, receipt } => {
                format!("{what} in {:.1} s", receipt.in_seconds.max(0.0))
            }
            Acted::Steered {
                command: SteerCommand::Spin(_),
                snapshot,
            } => match snapshot.wheel.as_ref().and_then(|w| w.last.as_ref()) {
                Some(spin) => format!(
                    "the wheel lands on \"{}\" in {:.0} s",
                    clean(&spin.entry),
                    (spin.land_seconds - snapshot.now.seconds).max(0.0)
                ),
                None => format!("spin: {}", status_line(snapshot)),
            },
            Acted::Steered { command, snapshot } => {
                format!("{}: {}", command.name(), status_line(snapshot))
            }
            Acted::Started(snapshot) => format!("started: {}", status_line(snapshot)),
            Acted::Status(Some(snapshot)) => status_line(snapshot),
            Acted::Status(None) => {
                "no session yet: `start PLAN` starts one (e.g. `start wheel-of-misfortune`)"
                    .to_owned()
            }
            Acted::Help => HELP.to_owned(),
        }
    }

    /// Whether the whole channel should see it (a change), or only the person who asked
    /// (status, help).
    #[must_use]
    pub fn is_public(&self) -> bool {
        !matches!(self, Acted::Status(_) | Acted::Help)
    }
}

/// `"Game day" · segment 2/5 "Investigate" · 4:12 left · running`.
#[must_use]
pub fn status_line(snapshot: &Snapshot) -> String {
    let count = snapshot.segments.len();
    let clock = |seconds: f64| {
        let seconds = seconds.max(0.0).round() as u64;
        format!("{}:{:02}", seconds / 60, seconds % 60)
    };
    let time = match snapshot.state {
        State::Finished => "finished".to_owned(),
        State::Overtime => format!("{} over", clock(snapshot.overtime_seconds)),
        State::Buka => "opening".to_owned(),
        State::Paused => format!("{} left, paused", clock(snapshot.remaining_seconds)),
        State::Running => format!("{} left", clock(snapshot.remaining_seconds)),
    };
    let mut line = format!(
        "\"{}\" · segment {}/{count} \"{}\" · {time}",
        clean(&snapshot.plan),
        (snapshot.segment + 1).min(count.max(1)),
        clean(&snapshot.title)
    );
    if let Some(next) = &snapshot.next
        && snapshot.state != State::Finished
    {
        line.push_str(&format!(" · next: \"{}\"", clean(next)));
    }
    line
}

/// Plan text as chat shows it: no control characters, no mention markup.
fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .map(|c| if matches!(c, '<' | '>') { '\'' } else { c })
        .collect()
}
