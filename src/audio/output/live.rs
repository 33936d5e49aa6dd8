//! [`LiveThread`]: a real-time output's own thread, as the output's owner holds it — what
//! it says about its health and latency, and how it is stopped. The sound card and the
//! PulseAudio outputs each play on such a thread and differ only in what it does.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::watch;

use super::OutputHealth;
use super::meter::LatencyMeter;

/// How long stopping waits for the thread before leaving it behind: a sound server that
/// hangs can hold a stream's teardown.
const STOP_WAIT: Duration = Duration::from_secs(3);

/// The owner's side of an output's thread. Dropping it stops the thread.
pub(super) struct LiveThread {
    /// What plays on the thread, for the log line when it does not stop.
    what: &'static str,
    health: watch::Receiver<OutputHealth>,
    meter: Arc<LatencyMeter>,
    stop: Option<mpsc::Sender<()>>,
    /// Disconnects when the thread ends (in a mutex: receivers are not `Sync`).
    done: Mutex<mpsc::Receiver<()>>,
    thread: Option<JoinHandle<()>>,
}

/// What the thread keeps of its [`LiveThread`]: the ends of its channels.
pub(super) struct ThreadEnds {
    /// Disconnects (or sends) when the output is dropped.
    pub(super) stop: mpsc::Receiver<()>,
    pub(super) health: watch::Sender<OutputHealth>,
    pub(super) meter: Arc<LatencyMeter>,
}

impl LiveThread {
    /// Starts `body` on a thread named `name`, with the ends of its channels. The output is
    /// `Playing` until the thread says otherwise.
    pub(super) fn spawn(
        what: &'static str,
        name: &str,
        body: impl FnOnce(ThreadEnds) + Send + 'static,
    ) -> std::io::Result<LiveThread> {
        let (stop_tx, stop) = mpsc::channel();
        let (done_tx, done) = mpsc::channel::<()>();
        let (health_tx, health) = watch::channel(OutputHealth::Playing { recovered: None });
        let meter = Arc::new(LatencyMeter::default());
        let ends = ThreadEnds {
            stop,
            health: health_tx,
            meter: meter.clone(),
        };
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                // Disconnects `done` when the thread ends, however it ends.
                let _done = done_tx;
                body(ends);
            })?;
        Ok(LiveThread {
            what,
            health,
            meter,
            stop: Some(stop_tx),
            done: Mutex::new(done),
            thread: Some(thread),
        })
    }

    /// Waits for the thread to end (it ended without playing: opening failed).
    pub(super) fn join(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// Whether it plays now.
    pub(super) fn health(&self) -> OutputHealth {
        self.health.borrow().clone()
    }

    /// A receiver that changes each time the health does.
    pub(super) fn watch(&self) -> watch::Receiver<OutputHealth> {
        self.health.clone()
    }

    /// The latency the thread measured last; `None` before it did and while it is down.
    pub(super) fn latency(&self) -> Option<Duration> {
        self.meter.get()
    }
}

impl Drop for LiveThread {
    fn drop(&mut self) {
        drop(self.stop.take());
        let Some(thread) = self.thread.take() else {
            return;
        };
        let ended = match self.done.get_mut() {
            Ok(done) => done.recv_timeout(STOP_WAIT),
            Err(_) => Err(mpsc::RecvTimeoutError::Disconnected),
        };
        match ended {
            Err(mpsc::RecvTimeoutError::Timeout) => {
                tracing::warn!("{} did not stop in time; leaving it behind", self.what);
            }
            _ => {
                let _ = thread.join();
            }
        }
    }
}
