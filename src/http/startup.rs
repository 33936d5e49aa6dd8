//! [`Application`]: the server built from a [`Config`] — output, pack, conductor,
//! listener — ready to run, so a test can start a real one on `127.0.0.1:0`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::guard::GuardConfig;
use super::hooks::deliveries::Deliveries;
use super::listen::ListenerSounds;
use super::router::router;
use super::state::{AppState, Inner};
use crate::audio::EngineConfig;
use crate::audio::output::{self, OutputError, OutputHealth, OutputKind, RunningOutput};
use crate::config::Config;
use crate::receivers::dedup::Dedup;
use crate::session::Journal;
use crate::session::{Conductor, ConductorConfig, ConductorHandle, OutputEvent, rfc3339};
use crate::store::deliveries::DeliveryLog;
use crate::store::journal::{HistoryReader, SqliteJournal, UnwritableJournal};
use crate::store::links::LinkStore;
use crate::store::{Database, StoreError};
use crate::store::{PackRegistry, PlanStore};

/// How long open connections get to finish after a shutdown begins.
const DRAIN: Duration = Duration::from_secs(5);

/// Why the server could not start. Causes are part of the message (not a `source()`
/// chain), so the one line `gongan serve` prints does not repeat them.
#[derive(Debug, Error)]
pub enum StartupError {
    /// The output.
    #[error("cannot open the audio output: {0}")]
    Output(OutputError),
    /// The pack.
    #[error("cannot load the sound pack: {0}")]
    Pack(StoreError),
    /// The data dir's database.
    #[error("cannot open the data dir's database: {0}")]
    Store(StoreError),
    /// The address.
    #[error("cannot listen on {addr}: {error}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        error: std::io::Error,
    },
}

/// A built server: listening, with its engine running, not yet answering.
pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    state: AppState,
    output: Arc<RunningOutput>,
    shutdown: Arc<watch::Sender<bool>>,
    header_read_timeout: Duration,
    notifier: Option<crate::notify::Notifier>,
}

/// Stops a running [`Application`] from anywhere (a signal handler, a test).
#[derive(Clone)]
pub struct ShutdownHandle(Arc<watch::Sender<bool>>);

impl ShutdownHandle {
    /// Begins a graceful shutdown: no new connections, event streams end, requests in
    /// flight finish.
    pub fn shutdown(&self) {
        self.0.send_replace(true);
    }
}

impl Application {
    /// Opens the output, loads the pack, starts the conductor and binds the listener.
    ///
    /// # Errors
    /// [`StartupError`] naming what failed.
    pub async fn build(config: Config) -> Result<Application, StartupError> {
        let output_spec = config.output.clone();
        let latency = config.latency;
        let (mut controller, output) = tokio::task::spawn_blocking(move || {
            output::start_with_latency(&output_spec, EngineConfig::default(), latency)
        })
        .await
        .map_err(|e| StartupError::Output(OutputError::Device(e.to_string())))?
        .map_err(StartupError::Output)?;
        // The configured master volume, before anything plays. The command queue is empty
        // now; were it not, the server would start at full volume, and say so.
        if let Err(error) = controller.set_volume(config.volume) {
            tracing::warn!("the configured volume was not applied: {error}");
        }
        let rate = controller.sample_rate();
        let pack_choice = config.pack.clone();
        let data_dir = config.data_dir.clone();
        let packs =
            tokio::task::spawn_blocking(move || PackRegistry::open(&pack_choice, &data_dir, rate))
                .await
                .map_err(|e| StartupError::Pack(StoreError::Stopped(e.to_string())))?
                .map_err(StartupError::Pack)?;
        let packs = Arc::new(packs);
        let data_dir = config.data_dir.clone();
        let opened = tokio::task::spawn_blocking(move || {
            let journal = SqliteJournal::new(Database::open(&data_dir)?);
            let history = HistoryReader::new(Database::open(&data_dir)?);
            let unfinished = journal.unfinished()?;
            let last_alive = journal.last_alive()?;
            Ok::<_, StoreError>((journal, history, unfinished, last_alive))
        })
        .await
        .map_err(|e| StartupError::Store(StoreError::Database(e.to_string())))?;
        let (journal, history, unfinished, last_alive): (Box<dyn Journal>, _, _, _) = match opened {
            Ok((journal, history, unfinished, last_alive)) => {
                (Box::new(journal), history, unfinished, last_alive)
            }
            // A full or read-only data dir: serve anyway (cues, the page, health), and
            // refuse what would need a record, saying why.
            Err(StoreError::Full(why)) => {
                tracing::error!(
                    "the data dir {} cannot be written ({why}): sessions cannot be started \
                     or steered until it can",
                    config.data_dir.display()
                );
                (
                    Box::new(UnwritableJournal::new(why.clone())),
                    HistoryReader::unavailable(why),
                    None,
                    None,
                )
            }
            Err(error) => return Err(StartupError::Store(error)),
        };
        // Links on their own connection (a lookup never waits for the journal); a data
        // dir that cannot be written leaves them unavailable, saying why, like history.
        let data_dir = config.data_dir.clone();
        let links = match tokio::task::spawn_blocking(move || Database::open(&data_dir))
            .await
            .map_err(|e| StartupError::Store(StoreError::Database(e.to_string())))?
        {
            Ok(db) => LinkStore::new(db),
            Err(StoreError::Full(why)) => LinkStore::unavailable(why),
            Err(error) => return Err(StartupError::Store(error)),
        };
        // The receivers' deliveries on their own connection too (`NORMAL` commits, not the
        // journal's fsyncs); a data dir that cannot be written leaves them in memory only.
        let data_dir = config.data_dir.clone();
        let deliveries = tokio::task::spawn_blocking(move || {
            let log = match Database::open(&data_dir).and_then(DeliveryLog::new) {
                Ok(log) => log,
                Err(error) => DeliveryLog::unavailable(error.to_string()),
            };
            Deliveries::open(Dedup::default(), log)
        })
        .await
        .map_err(|e| StartupError::Store(StoreError::Database(e.to_string())))?;
        let conductor = Conductor::spawn(
            controller,
            packs.active().1,
            ConductorConfig {
                coalesce_window: config.coalesce_window,
                event_buffer: config.event_buffer,
                ..ConductorConfig::default()
            },
            journal,
        );
        // Subscribed before a resume, so the `resumed` event is heard.
        let notifier =
            crate::notify::Notifier::start(&conductor, &config.data_dir, &config.hooks.notify)
                .await;
        if let Some(record) = unfinished {
            let id = record.id.clone();
            // A session the journal cannot take up is left as history, not a reason to
            // refuse to serve.
            if let Err(error) = conductor.resume(record, last_alive).await {
                tracing::error!(session = %id, "cannot resume the unfinished session: {error}");
            }
        }
        publish_output_events(&output, conductor.clone());
        let listener =
            TcpListener::bind(config.bind)
                .await
                .map_err(|error| StartupError::Bind {
                    addr: config.bind,
                    error,
                })?;
        let addr = listener.local_addr().map_err(|error| StartupError::Bind {
            addr: config.bind,
            error,
        })?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let mut allowed_hosts = config.allowed_hosts.clone();
        if !addr.ip().is_unspecified() && !addr.ip().is_loopback() {
            allowed_hosts.push(SocketAddr::new(addr.ip(), addr.port()).to_string());
        }
        let output = Arc::new(output);
        let state = AppState::new(Inner {
            conductor,
            output: output.clone(),
            packs,
            plans: PlanStore::open(&config.data_dir),
            history: Arc::new(history),
            links: Arc::new(links),
            guard: GuardConfig {
                port: addr.port(),
                allowed_hosts,
                token: config.token.clone(),
                body_limit: config.body_limit,
            },
            logins: super::logins::Logins::default(),
            hooks: Arc::new(config.hooks.clone()),
            deliveries,
            body_limit: config.body_limit,
            pack_upload_limit: config.pack_upload_limit,
            body_read_timeout: config.body_read_timeout,
            shutdown: shutdown_rx,
            listener_sounds: ListenerSounds::default(),
        });
        Ok(Application {
            listener,
            addr,
            state,
            output,
            shutdown: Arc::new(shutdown),
            header_read_timeout: config.header_read_timeout,
            notifier,
        })
    }

    /// The address it listens on (with the real port when bound to port 0).
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The conductor, for benchmarks that watch the frame clock.
    #[must_use]
    pub fn conductor(&self) -> ConductorHandle {
        self.state.conductor().clone()
    }

    /// A handle that stops the server.
    #[must_use]
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(self.shutdown.clone())
    }

    /// Which output runs and its name, e.g. `("null", "null")`.
    #[must_use]
    pub fn output(&self) -> (&'static str, String) {
        let (state, name, _) = self.state.output_state();
        (state, name)
    }

    /// Serves until the shutdown handle fires, then drains: stops accepting, ends event
    /// streams, lets requests in flight finish (up to a few seconds), stops the audio.
    pub async fn run_until_stopped(self) {
        let Application {
            listener,
            state,
            output,
            shutdown,
            header_read_timeout,
            notifier,
            ..
        } = self;
        let mut stop = shutdown.subscribe();
        let stopped = async move {
            // The guard `wait_for` returns is not `Send`; drop it here.
            let _ = stop.wait_for(|stopped| *stopped).await.map(|_| ());
        };
        tokio::pin!(stopped);
        let app = router(state);
        let graceful = GracefulShutdown::new();
        let mut http = hyper::server::conn::http1::Builder::new();
        // A client gets this long to send its headers, so slow clients cannot hold
        // connections open (slowloris).
        http.timer(TokioTimer::new())
            .header_read_timeout(header_read_timeout)
            .max_buf_size(64 * 1024);
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let (stream, _) = match accepted {
                        Ok(conn) => conn,
                        Err(error) => {
                            // Out of file descriptors and the like: back off, keep serving.
                            tracing::warn!("accept failed: {error}");
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    let service = TowerToHyperService::new(app.clone());
                    let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
                    tokio::spawn(async move {
                        if let Err(error) = connection.await {
                            tracing::debug!("connection ended: {error}");
                        }
                    });
                }
                () = &mut stopped => break,
            }
        }
        drop(listener);
        tracing::info!("shutting down: finishing requests in flight");
        drop(app);
        if tokio::time::timeout(DRAIN, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("some connections did not finish in time; closing them");
        }
        if let Some(notifier) = notifier {
            notifier.stop().await;
        }
        drop(output);
    }
}

/// Hands the conductor an output event ([`crate::session::Event::Output`], journaled with the
/// running session and published) each time the output's
/// health changes — the sound card failed (and each new reason it gives while it is being
/// reopened), or it plays again — until the output is dropped. Needs a Tokio runtime.
pub fn publish_output_events(
    output: &RunningOutput,
    conductor: ConductorHandle,
) -> tokio::task::JoinHandle<()> {
    let mut health = output.watch();
    let device = output.describe();
    let kind = output.kind();
    tokio::spawn(async move {
        while health.changed().await.is_ok() {
            let now = health.borrow_and_update().clone();
            if conductor
                .output_changed(output_event(&now, kind, &device))
                .await
                .is_err()
            {
                break;
            }
        }
    })
}

/// The event for a live output's health: `degraded` with the fault, or the output's kind
/// (`device`, `pipe`) with how long it was gone.
#[must_use]
pub fn output_event(health: &OutputHealth, kind: OutputKind, device: &str) -> OutputEvent {
    let what = match kind {
        OutputKind::Pipe => "snapserver is reading the pipe",
        _ => "the sound card is playing",
    };
    let (output, detail) = match health {
        OutputHealth::Degraded { fault } => ("degraded", fault.clone()),
        OutputHealth::Playing {
            recovered: Some(after),
        } => (
            kind.name(),
            format!("{what} again after {:.1} s", after.as_secs_f64()),
        ),
        OutputHealth::Playing { recovered: None } => (kind.name(), what.to_owned()),
    };
    OutputEvent {
        kind: "output",
        output,
        device: device.to_owned(),
        detail,
        utc: rfc3339(std::time::SystemTime::now()),
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

#[cfg(test)]
mod test {
    use std::time::Duration;

    use super::*;
    use crate::session::Event;

    #[test]
    fn output_events_say_degraded_with_why_and_back_with_how_long() {
        let down = output_event(
            &OutputHealth::Degraded {
                fault: "the sound card stopped taking audio".into(),
            },
            OutputKind::Device,
            "pulse",
        );
        assert_eq!(
            (
                down.kind,
                down.output,
                down.device.as_str(),
                down.detail.as_str()
            ),
            (
                "output",
                "degraded",
                "pulse",
                "the sound card stopped taking audio"
            )
        );
        let back = output_event(
            &OutputHealth::Playing {
                recovered: Some(Duration::from_millis(4260)),
            },
            OutputKind::Device,
            "pulse",
        );
        assert_eq!(back.output, "device");
        assert_eq!(back.detail, "the sound card is playing again after 4.3 s");
        let piped = output_event(
            &OutputHealth::Playing {
                recovered: Some(Duration::from_millis(1500)),
            },
            OutputKind::Pipe,
            "pipe:/tmp/snapfifo",
        );
        assert_eq!(piped.output, "pipe");
        assert_eq!(
            piped.detail,
            "snapserver is reading the pipe again after 1.5 s"
        );
        let json = serde_json::to_value(Event::Output(back)).unwrap();
        assert_eq!(json["type"], "output");
        assert!(json["utc"].as_str().is_some_and(|t| t.ends_with('Z')));
    }
}
