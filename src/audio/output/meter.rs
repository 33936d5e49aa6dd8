//! The latency a live output measured last, shared without locks between its audio thread,
//! which sets it, and the control side, which reports it (`/healthz`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Nanoseconds while nothing is known.
const UNKNOWN: u64 = u64::MAX;

/// The latest latency measured: how long after it is rendered a frame is heard.
#[derive(Debug)]
pub(super) struct LatencyMeter(AtomicU64);

impl Default for LatencyMeter {
    fn default() -> LatencyMeter {
        LatencyMeter(AtomicU64::new(UNKNOWN))
    }
}

impl LatencyMeter {
    /// Records a measurement. Real-time safe.
    pub(super) fn set(&self, latency: Duration) {
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(UNKNOWN - 1);
        self.0.store(nanos.min(UNKNOWN - 1), Ordering::Relaxed);
    }

    /// Forgets it: the output is down.
    pub(super) fn forget(&self) {
        self.0.store(UNKNOWN, Ordering::Relaxed);
    }

    /// The latest measurement; `None` before the first and after [`LatencyMeter::forget`].
    pub(super) fn get(&self) -> Option<Duration> {
        match self.0.load(Ordering::Relaxed) {
            UNKNOWN => None,
            nanos => Some(Duration::from_nanos(nanos)),
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn it_keeps_the_latest_until_forgotten() {
        let meter = LatencyMeter::default();
        assert_eq!(meter.get(), None);
        meter.set(Duration::from_millis(40));
        meter.set(Duration::from_micros(41_500));
        assert_eq!(meter.get(), Some(Duration::from_micros(41_500)));
        meter.forget();
        assert_eq!(meter.get(), None);
        // Absurd is still known, not "unknown".
        meter.set(Duration::MAX);
        assert!(meter.get().is_some());
    }
}
