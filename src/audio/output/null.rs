//! The paced null output: renders in real time and throws the audio away.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::OutputError;
use crate::audio::{HostTime, Renderer};

/// How late the pacer may fall before it stops trying to catch up. Past this (the process
/// was stopped, the machine suspended) it restarts its schedule from now instead of
/// rendering the missed time in a burst; the timing points it reports then jump, the
/// control side's [`OutputClock`](crate::audio::OutputClock) re-anchors, and strokes whose
/// moment passed are reported missed instead of played late.
const STALL: Duration = Duration::from_millis(200);

/// Renders blocks on a thread, each at its `Instant` deadline, so the frame clock advances
/// at real-time pace without a sound card. Stops when dropped.
pub struct NullOutput {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Renderer>>,
}

impl NullOutput {
    /// Starts pacing `renderer` in blocks of `block_frames`.
    pub fn start(mut renderer: Renderer, block_frames: usize) -> Result<NullOutput, OutputError> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let rate = u64::from(renderer.sample_rate());
        let thread = std::thread::Builder::new()
            .name("gongan-null-output".into())
            .spawn(move || {
                let mut block = vec![0.0f32; 2 * block_frames.max(1)];
                let frames = (block.len() / 2) as u64;
                let mut origin = Instant::now();
                let mut rendered = 0u64;
                while !stopped.load(Ordering::Acquire) {
                    // The block is "heard" as it is rendered, on its place in the schedule.
                    let heard = origin + Duration::from_nanos(rendered * 1_000_000_000 / rate);
                    renderer.render_heard(&mut block, HostTime::from_instant(heard));
                    rendered += frames;
                    let deadline = origin + Duration::from_nanos(rendered * 1_000_000_000 / rate);
                    let now = Instant::now();
                    if now > deadline + STALL {
                        tracing::warn!(
                            late_ms = (now - deadline).as_millis() as u64,
                            "the null output stalled; resuming from now without catching up"
                        );
                        origin = now;
                        rendered = 0;
                    } else if deadline > now {
                        std::thread::sleep(deadline - now);
                    }
                }
                renderer
            })
            .map_err(OutputError::Thread)?;
        Ok(NullOutput {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops pacing and hands the renderer back.
    #[must_use]
    pub fn stop(mut self) -> Option<Renderer> {
        self.stop.store(true, Ordering::Release);
        self.thread.take().and_then(|t| t.join().ok())
    }
}

impl Drop for NullOutput {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
