//! `gongan serve`: raw flags → [`Config`] → a running [`Application`] until SIGINT/SIGTERM.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use gongan::config::{Config, RawConfig};
use gongan::http::{Application, shutdown_signal};

/// The `serve` flags. Each also reads a `GONGAN_*` variable; flags win over variables,
/// variables over the config file.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:7070]. Anything but loopback needs --token.
    #[arg(long, env = "GONGAN_BIND", value_name = "ADDR")]
    bind: Option<String>,
    /// Where the sound goes: device, device:NAME, pulse, pulse:SINK, null, or
    /// pipe:PATH[?buffer=MS] [default: device; null when there is no sound card].
    ///
    /// device plays to PulseAudio's default sink through PulseAudio's own protocol when a
    /// PulseAudio server answers (as pulse does): a cue asked for now is written into the
    /// audio already queued, so it is heard within a few milliseconds instead of after the
    /// whole --latency. Without a server it opens the default sound card through cpal.
    /// pulse:SINK plays to that sink; device:NAME to that cpal device (gongan devices).
    ///
    /// pipe:PATH writes 48 kHz 16-bit stereo into the FIFO PATH (made if missing) for
    /// Snapcast's pipe source, so every room with a snapclient plays in sync; buffer is
    /// the snapserver's stream.buffer [default: 1000], counted in when strokes are heard.
    ///
    /// Example: gongan serve --output pipe:/tmp/snapfifo
    #[arg(long, short, env = "GONGAN_OUTPUT", value_name = "OUT")]
    output: Option<String>,
    /// Milliseconds of audio queued ahead of the sound card, 2 to 500 [default: 40].
    ///
    /// Smaller answers cues sooner; larger plays without gaps on a busy machine. /healthz
    /// reports the latency the sound card actually runs at (latency_ms).
    ///
    /// Example: gongan serve --latency 20
    #[arg(long, env = "GONGAN_LATENCY_MS", value_name = "MS")]
    latency: Option<u64>,
    /// The pack to start with: `default`, an installed pack's name (DATA_DIR/packs/NAME),
    /// or a pack folder.
    #[arg(long, env = "GONGAN_PACK", value_name = "NAME|DIR")]
    pack: Option<String>,
    /// Where saved plans and installed packs live [default: ~/.local/share/gongan].
    #[arg(long, env = "GONGAN_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Require this token on the API (Authorization: Bearer TOKEN); at least 16 characters.
    #[arg(long, env = "GONGAN_TOKEN", value_name = "T", hide_env_values = true)]
    token: Option<String>,
    /// Also accept this name in the Host header (e.g. behind a reverse proxy); repeatable.
    #[arg(
        long = "allow-host",
        env = "GONGAN_ALLOW_HOST",
        value_delimiter = ',',
        value_name = "NAME"
    )]
    allow_hosts: Vec<String>,
    /// Identical cues inside this many milliseconds play once [default: 150].
    #[arg(long, env = "GONGAN_COALESCE_MS", value_name = "MS")]
    coalesce_ms: Option<u64>,
    /// A TOML file with any of these settings (see README).
    #[arg(long, env = "GONGAN_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
}

impl ServeArgs {
    fn raw(self) -> anyhow::Result<RawConfig> {
        let file = match &self.config {
            Some(path) => RawConfig::from_file(path)?,
            None => RawConfig::default(),
        };
        let flags = RawConfig {
            bind: self.bind,
            output: self.output,
            latency_ms: self.latency,
            pack: self.pack,
            data_dir: self.data_dir,
            token: self.token,
            allow_hosts: self.allow_hosts,
            coalesce_ms: self.coalesce_ms,
            body_limit: None,
            pack_upload_limit: None,
            header_timeout_ms: None,
            volume_db: None,
            hooks: gongan::config::RawHooks::from_env(),
            notify: Vec::new(),
        };
        Ok(flags.or(file))
    }
}

/// Runs the server until a signal stops it.
pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config = Config::validate(args.raw()?)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let app = Application::build(config).await?;
        let addr = app.local_addr();
        let (output, device) = app.output();
        tracing::info!("gongan listening on http://{addr}/ (output: {output}, {device})");
        let stop = app.shutdown_handle();
        tokio::spawn(async move {
            shutdown_signal().await;
            stop.shutdown();
        });
        app.run_until_stopped().await;
        tracing::info!("stopped");
        Ok(ExitCode::SUCCESS)
    })
}
