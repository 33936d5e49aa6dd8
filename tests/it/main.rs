//! gongan's integration tests, as one binary.

// Every allocation in this test binary goes through assert_no_alloc's checker, so a test
// can prove that a piece of code (the audio callback) never allocates.
#[global_allocator]
static ALLOCATOR: assert_no_alloc::AllocDisabler = assert_no_alloc::AllocDisabler;

mod browser;
mod cli_support;
mod disk;
mod engine;
mod hooks_alerts;
mod hooks_chat;
mod http;
mod http_cli;
mod http_events;
mod http_security;
mod http_sound;
mod http_support;
mod links;
mod listen;
mod live_clock;
mod notify;
mod pack;
mod pack_upload;
mod pulse;
mod readme;
mod recorder;
mod render;
mod resume;
mod run;
mod run_screen;
mod serve_process;
mod snapcast;
mod sound_load;
mod sound_path;
mod stall;
mod store;
mod support;
mod synth;
mod synth_bali;
mod terminal;
mod timeline;
mod volume;
