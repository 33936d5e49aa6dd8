//! [`AppState`]: what every handler can reach — the conductor's handle, the output, the
//! packs, the plans and the security settings.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::guard::GuardConfig;
use super::hooks::deliveries::Deliveries;
use super::listen::ListenerSounds;
use super::logins::Logins;
use crate::audio::output::{OutputKind, RunningOutput};
use crate::config::Hooks;
use crate::session::ConductorHandle;
use crate::store::journal::HistoryReader;
use crate::store::links::LinkStore;
use crate::store::{PackRegistry, PlanStore};

/// Shared, cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The parts of [`AppState`].
pub struct Inner {
    /// The session actor.
    pub conductor: ConductorHandle,
    /// The running output (for its kind and faults).
    pub output: Arc<RunningOutput>,
    /// Packs.
    pub packs: Arc<PackRegistry>,
    /// Plans.
    pub plans: PlanStore,
    /// Past (and the running) sessions, read from the journal.
    pub history: Arc<HistoryReader>,
    /// Capability links.
    pub links: Arc<LinkStore>,
    /// Host, origin and token rules.
    pub guard: GuardConfig,
    /// The page's login sessions.
    pub logins: Logins,
    /// The receivers' secrets and mapping rules, and the notification targets.
    pub hooks: Arc<Hooks>,
    /// The receivers' deliveries taken lately, so a tool's retry plays nothing twice.
    pub deliveries: Deliveries,
    /// Request body cap.
    pub body_limit: usize,
    /// The cap on an uploaded pack archive.
    pub pack_upload_limit: usize,
    /// How long a body may take to arrive.
    pub body_read_timeout: Duration,
    /// Turns true when the server shuts down: event streams end.
    pub shutdown: watch::Receiver<bool>,
    /// The sounds listener pages fetched, encoded once.
    pub listener_sounds: ListenerSounds,
}

impl AppState {
    /// Wraps the parts.
    #[must_use]
    pub fn new(inner: Inner) -> AppState {
        AppState(Arc::new(inner))
    }

    /// The conductor.
    #[must_use]
    pub fn conductor(&self) -> &ConductorHandle {
        &self.0.conductor
    }

    /// The packs.
    #[must_use]
    pub fn packs(&self) -> &Arc<PackRegistry> {
        &self.0.packs
    }

    /// The plans.
    #[must_use]
    pub fn plans(&self) -> &PlanStore {
        &self.0.plans
    }

    /// The journal's reader: history.
    #[must_use]
    pub fn history(&self) -> &Arc<HistoryReader> {
        &self.0.history
    }

    /// The capability links.
    #[must_use]
    pub fn links(&self) -> &Arc<LinkStore> {
        &self.0.links
    }

    /// The sounds listener pages fetched, encoded once.
    #[must_use]
    pub fn listener_sounds(&self) -> &ListenerSounds {
        &self.0.listener_sounds
    }

    /// The security rules.
    #[must_use]
    pub fn guard(&self) -> &GuardConfig {
        &self.0.guard
    }

    /// The page's login sessions.
    #[must_use]
    pub fn logins(&self) -> &Logins {
        &self.0.logins
    }

    /// The integrations' settings.
    #[must_use]
    pub fn hooks(&self) -> &Arc<Hooks> {
        &self.0.hooks
    }

    /// The receivers' deliveries taken lately.
    #[must_use]
    pub fn deliveries(&self) -> &Deliveries {
        &self.0.deliveries
    }

    /// Request body cap in bytes.
    #[must_use]
    pub fn body_limit(&self) -> usize {
        self.0.body_limit
    }

    /// The cap on an uploaded pack archive, in bytes.
    #[must_use]
    pub fn pack_upload_limit(&self) -> usize {
        self.0.pack_upload_limit
    }

    /// How long a body may take to arrive.
    #[must_use]
    pub fn body_read_timeout(&self) -> Duration {
        self.0.body_read_timeout
    }

    /// A receiver that changes when the server shuts down.
    #[must_use]
    pub fn shutdown(&self) -> watch::Receiver<bool> {
        self.0.shutdown.clone()
    }

    /// The output as `/healthz` reports it: `device`, `pipe`, `null`, or `degraded` while a
    /// sound card is down or nothing reads the pipe (from when it fails until a reopened stream plays again); its name;
    /// and the fault.
    #[must_use]
    pub fn output_state(&self) -> (&'static str, String, Option<String>) {
        let output = &self.0.output;
        let fault = output.health().fault().map(str::to_owned);
        let state = match (output.kind(), &fault) {
            (_, Some(_)) => "degraded",
            (OutputKind::Wav, None) => "null",
            (kind, None) => kind.name(),
        };
        (state, output.describe(), fault)
    }
}
