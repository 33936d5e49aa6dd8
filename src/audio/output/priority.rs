//! The audio threads' scheduling priority: a little above normal, so a busy machine does
//! not starve the sound.

/// How much above normal the audio threads run (a nice value): what PulseAudio itself
/// takes (-11) less one, so the server still wins over its clients.
const AUDIO_NICE: i32 = -10;

/// Raises this thread's scheduling priority, so that the threads it starts inherit it (for
/// a sound card: cpal's callback thread and, through ALSA's pulse plugin, libpulse's). On a busy
/// two-core machine at normal priority those threads lose the cores to whatever else runs
/// and the stream underruns (each underrun through the plugin is up to seconds of
/// silence); ten nice levels up they are scheduled in time. Linux keeps the nice value per
/// thread, so nothing else in the process changes. Without the right to raise it (not root,
/// no `RLIMIT_NICE`), the stream runs at normal priority and says so once.
#[cfg(target_os = "linux")]
pub(super) fn raise_priority_of_this_thread() {
    // SAFETY: plain system calls on this thread's own id; no memory is shared.
    let result = unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, AUDIO_NICE)
    };
    if result != 0 {
        tracing::info!(
            "the audio threads run at normal priority ({}): on a busy machine the sound \
             card may underrun; allow a nice value of {AUDIO_NICE} (RLIMIT_NICE) to avoid it",
            std::io::Error::last_os_error()
        );
    }
}

#[cfg(not(target_os = "linux"))]
pub(super) fn raise_priority_of_this_thread() {}
