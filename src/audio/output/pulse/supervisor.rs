//! The PulseAudio output's thread: plays a stream, and when it fails reconnects — with the
//! same renderer, so the engine's frame clock simply continues — until a stream plays
//! again or the output is dropped.
//!
//! While no stream plays, nothing is rendered (as with a lost sound card): the session
//! keeps real time and its strokes are reported missed, and the control side re-anchors
//! its clock mapping on the timing points of the new stream.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::SinkName;
use super::connection::{Connection, Inbox};
use super::dialer::{Dialer, Refused, StreamInfo};
use super::stream::{Context, Ended, Scratch, play};
use crate::audio::Renderer;
use crate::audio::output::OutputHealth;
use crate::audio::output::meter::LatencyMeter;
use crate::audio::output::outage::{Episode, reopen_delay};

/// Publishes the output's health and logs what goes wrong, each distinct message once per
/// episode (the life of a healthy stream, or one outage with all its attempts).
pub(super) struct Reporter {
    health: watch::Sender<OutputHealth>,
    meter: Arc<LatencyMeter>,
    episode: Episode,
    /// When the current outage began and what began it; `None` while a stream plays.
    outage: Option<(Instant, String)>,
    sink: SinkName,
}

impl Reporter {
    pub(super) fn new(
        health: watch::Sender<OutputHealth>,
        meter: Arc<LatencyMeter>,
        sink: SinkName,
    ) -> Reporter {
        Reporter {
            health,
            meter,
            episode: Episode::default(),
            outage: None,
            sink,
        }
    }

    /// The stream plays to `sink` (from its creation, or since the server moved it).
    pub(super) fn plays_to(&mut self, sink: &str) {
        self.sink.set(sink);
    }

    /// The server asks the stream on `sink` for audio: it plays, again if it was down.
    pub(super) fn flowing(&mut self, sink: &str) {
        self.plays_to(sink);
        let Some((since, _)) = self.outage.take() else {
            return;
        };
        let after = since.elapsed();
        tracing::info!(
            %sink,
            "PulseAudio plays again after {:.1} s",
            after.as_secs_f64()
        );
        self.episode = Episode::default();
        self.health.send_replace(OutputHealth::Playing {
            recovered: Some(after),
        });
    }

    /// The server's latest report says a frame written now is heard after `latency`;
    /// kept for [`PulseOutput::latency`](super::PulseOutput::latency) unless the output
    /// is down (a stream opened while reconnecting has not played yet).
    pub(super) fn measured(&mut self, latency: Duration) {
        if self.outage.is_none() {
            self.meter.set(latency);
        }
    }

    /// Something the stream got over by itself (an underrun, a message it could not
    /// read): logged once per episode, the health unchanged.
    pub(super) fn notice(&mut self, message: &str) {
        if self.episode.first_time(message) {
            tracing::warn!("PulseAudio output: {message}");
        }
    }

    /// No stream plays, and `why`: the first reason begins an outage; later ones (each
    /// reconnect attempt's) are added to its fault once each.
    fn down(&mut self, why: String) {
        self.meter.forget();
        match &self.outage {
            None => {
                tracing::error!("PulseAudio output: {why}; reconnecting");
                self.episode = Episode::default();
                self.episode.first_time(&why);
                self.health
                    .send_replace(OutputHealth::Degraded { fault: why.clone() });
                self.outage = Some((Instant::now(), why));
            }
            Some((_, cause)) => {
                if self.episode.first_time(&why) {
                    tracing::warn!("PulseAudio output: {why}");
                    let fault = format!("{cause}; {why}");
                    self.health.send_replace(OutputHealth::Degraded { fault });
                }
            }
        }
    }
}

/// The thread's state between streams.
pub(super) struct Supervisor {
    pub(super) dialer: Dialer,
    pub(super) renderer: Renderer,
    pub(super) scratch: Scratch,
    pub(super) inbox: Inbox,
    pub(super) report: Reporter,
}

impl Supervisor {
    /// Plays the first stream, then each one reconnecting makes, until the output is
    /// dropped.
    pub(super) fn run(mut self, connection: Connection, info: StreamInfo) {
        let mut next = Some((connection, info));
        let mut attempt = 0u32;
        loop {
            let (connection, info) = match next.take() {
                Some(opened) => opened,
                None => {
                    if self.inbox.stopped_within(reopen_delay(attempt)) {
                        return;
                    }
                    attempt = attempt.saturating_add(1);
                    // Nudges for audio no stream played, and old connections' last words.
                    for _ in self.inbox.events.try_iter() {}
                    match self.dialer.dial(&self.inbox) {
                        Ok(opened) => opened,
                        Err(Refused::Stopped) => return,
                        Err(Refused::NoSink(what)) => {
                            self.report
                                .down(format!("cannot reconnect: no sink {what}"));
                            continue;
                        }
                        Err(Refused::Failed(why)) => {
                            self.report.down(format!("cannot reconnect: {why}"));
                            continue;
                        }
                    }
                }
            };
            let mut cx = Context {
                renderer: &mut self.renderer,
                scratch: &mut self.scratch,
                inbox: &self.inbox,
                report: &mut self.report,
            };
            match play(connection, info, &mut cx) {
                Ended::Stopped => return,
                Ended::Failed { why, flowed } => {
                    if flowed {
                        // A stream that played failed: a new outage, reconnected quickly.
                        attempt = 0;
                    }
                    self.report.down(why);
                }
            }
        }
    }
}
