//! The server's settings: raw settings from flags, `GONGAN_*` variables and a TOML file
//! become one validated [`Config`], in one place.
//!
//! Precedence is flags, then environment (clap reads both), then the config file, then the
//! defaults. [`RawConfig`] is every setting as text, each optional; [`Config::validate`]
//! checks them all and refuses what would be unsafe (a non-loopback bind without a token)
//! with one line a person can act on.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use subtle::ConstantTimeEq;
use thiserror::Error;

use crate::audio::output::{Latency, OutputSpec};
use crate::audio::{Volume, VolumeDb};

pub mod hooks;

pub use hooks::{
    Hooks, NotifyFormat, NotifyTarget, RawHooks, RawNotify, Rule, RuleAction, Secret, Source,
};

/// Where `gongan serve` listens unless told otherwise.
pub const DEFAULT_BIND: &str = "127.0.0.1:7070";
/// The shortest token accepted: long enough that guessing it over HTTP is hopeless.
pub const MIN_TOKEN_CHARS: usize = 16;
/// The default cap on a request body: plans and cues are small.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;
/// The default cap on an uploaded pack archive (`PUT /v1/packs/{name}`): a pack of 40
/// seconds of sound per instrument fits several times over.
pub const DEFAULT_PACK_UPLOAD_LIMIT: usize = 64 * 1024 * 1024;
/// The largest config file read.
const MAX_CONFIG_BYTES: u64 = 64 * 1024;

/// Every setting as given, each optional. Also the format of the config file:
///
/// ```toml
/// bind = "127.0.0.1:7070"
/// output = "device"            # device | device:NAME | pulse | pulse:SINK | null
/// latency_ms = 40              # audio queued ahead of the sound card, 2 to 500
/// pack = "default"             # an installed pack's name, or a folder
/// data_dir = "/var/lib/gongan"
/// token = "a-long-random-secret"
/// allow_hosts = ["gong.example.org"]
/// coalesce_ms = 150
/// body_limit = 65536
/// pack_upload_limit = 67108864 # bytes of one pack archive upload, 1 MiB to 256 MiB
/// header_timeout_ms = 10000
/// volume_db = -6.0             # master volume at start, -60 to 6 (PUT /v1/volume changes it)
///
/// [hooks]                      # receivers' secrets and mapping rules: see `hooks`
/// [[notify]]                   # notification targets
/// ```
// Not `Eq`: the volume is a float.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Address to listen on.
    pub bind: Option<String>,
    /// Output spec.
    pub output: Option<String>,
    /// Milliseconds of audio a sound card output keeps queued.
    pub latency_ms: Option<u64>,
    /// Pack name or folder.
    pub pack: Option<String>,
    /// Data folder (saved plans, installed packs).
    pub data_dir: Option<PathBuf>,
    /// The API token.
    pub token: Option<String>,
    /// Extra names accepted in the `Host` header.
    #[serde(default)]
    pub allow_hosts: Vec<String>,
    /// The pager-storm coalescing window in milliseconds.
    pub coalesce_ms: Option<u64>,
    /// Request body cap in bytes.
    pub body_limit: Option<usize>,
    /// The cap on an uploaded pack archive, in bytes.
    pub pack_upload_limit: Option<usize>,
    /// How long a client may take to send its request headers, in milliseconds.
    pub header_timeout_ms: Option<u64>,
    /// The master volume at start, in dB.
    pub volume_db: Option<f32>,
    /// The receivers' secrets and mapping rules.
    #[serde(default)]
    pub hooks: RawHooks,
    /// Where session events are posted.
    #[serde(default)]
    pub notify: Vec<RawNotify>,
}

impl RawConfig {
    /// Reads a config file.
    ///
    /// # Errors
    /// The file cannot be read, is too large, or is not valid config TOML.
    pub fn from_file(path: &Path) -> Result<RawConfig, ConfigError> {
        use std::io::Read;
        let io = |error: std::io::Error| ConfigError::File {
            path: path.to_owned(),
            reason: error.to_string(),
        };
        let mut text = String::new();
        std::fs::File::open(path)
            .map_err(io)?
            .take(MAX_CONFIG_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(io)?;
        if text.len() as u64 > MAX_CONFIG_BYTES {
            return Err(io(std::io::Error::other("larger than 64 KiB")));
        }
        toml::from_str(&text).map_err(|e| ConfigError::File {
            path: path.to_owned(),
            reason: e.message().to_owned(),
        })
    }

    /// `self` with every unset setting taken from `lower` (`self` wins). Host lists add up.
    #[must_use]
    pub fn or(self, lower: RawConfig) -> RawConfig {
        let mut allow_hosts = self.allow_hosts;
        allow_hosts.extend(lower.allow_hosts);
        RawConfig {
            bind: self.bind.or(lower.bind),
            output: self.output.or(lower.output),
            latency_ms: self.latency_ms.or(lower.latency_ms),
            pack: self.pack.or(lower.pack),
            data_dir: self.data_dir.or(lower.data_dir),
            token: self.token.or(lower.token),
            allow_hosts,
            coalesce_ms: self.coalesce_ms.or(lower.coalesce_ms),
            body_limit: self.body_limit.or(lower.body_limit),
            pack_upload_limit: self.pack_upload_limit.or(lower.pack_upload_limit),
            header_timeout_ms: self.header_timeout_ms.or(lower.header_timeout_ms),
            volume_db: self.volume_db.or(lower.volume_db),
            hooks: self.hooks.or(lower.hooks),
            notify: if self.notify.is_empty() {
                lower.notify
            } else {
                self.notify
            },
        }
    }
}

/// Which pack the server starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackChoice {
    /// The default pack (`sounds/default/`, or the built-in synthesizer's).
    Default,
    /// An installed pack: `DATA_DIR/packs/NAME`.
    Installed(String),
    /// A pack folder named by its path.
    Dir(PathBuf),
}

impl PackChoice {
    /// Reads `default`, an installed pack's name, or a folder.
    ///
    /// # Errors
    /// Neither a pack name nor a path.
    pub fn parse(text: &str) -> Result<PackChoice, ConfigError> {
        let text = text.trim();
        if text.is_empty() || text == "default" {
            return Ok(PackChoice::Default);
        }
        if text.contains('/') || text.starts_with('.') || Path::new(text).is_dir() {
            return Ok(PackChoice::Dir(PathBuf::from(text)));
        }
        if is_pack_name(text) {
            Ok(PackChoice::Installed(text.to_owned()))
        } else {
            Err(ConfigError::Pack(text.to_owned()))
        }
    }
}

/// Whether `name` can name an installed pack: the same rules as a plan id (lowercase
/// letters, digits, single hyphens), so it is safe as a folder name and in a URL.
#[must_use]
pub fn is_pack_name(name: &str) -> bool {
    crate::session::PlanId::parse(name).is_ok()
}

/// The API token. Its `Debug` never shows it; comparisons take constant time.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Checks a token's length and characters.
    ///
    /// # Errors
    /// Shorter than [`MIN_TOKEN_CHARS`], or with characters that cannot travel in a header.
    pub fn parse(token: &str) -> Result<Token, ConfigError> {
        let printable = token.bytes().all(|b| b.is_ascii_graphic());
        if token.chars().count() < MIN_TOKEN_CHARS || !printable {
            return Err(ConfigError::WeakToken);
        }
        Ok(Token(token.to_owned()))
    }

    /// Whether `candidate` is this token, in time that does not depend on where they
    /// differ (a different length is rejected at once; the length is not the secret).
    #[must_use]
    pub fn matches(&self, candidate: &[u8]) -> bool {
        self.0.as_bytes().ct_eq(candidate).into()
    }

    /// The token's text, for a client that sends it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(…)")
    }
}

/// The server's validated settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen.
    pub bind: SocketAddr,
    /// Where audio goes (`device` falls back to `null` when there is no sound card).
    pub output: OutputSpec,
    /// How much audio a sound card output keeps queued ahead of the speaker.
    pub latency: Latency,
    /// The pack to start with.
    pub pack: PackChoice,
    /// Saved plans (`plans/`) and installed packs (`packs/`).
    pub data_dir: PathBuf,
    /// Required on the API when set.
    pub token: Option<Token>,
    /// Names accepted in `Host` and `Origin` besides the loopback names: `name` (any
    /// port) or `name:port`.
    pub allowed_hosts: Vec<String>,
    /// Identical cues inside this window play once.
    pub coalesce_window: Duration,
    /// The largest request body accepted, in bytes.
    pub body_limit: usize,
    /// The largest pack archive accepted by `PUT /v1/packs/{name}`, in bytes.
    pub pack_upload_limit: usize,
    /// How long a client may take to send a request's headers.
    pub header_read_timeout: Duration,
    /// How long a client may take to send a request's body.
    pub body_read_timeout: Duration,
    /// Events buffered for each event-stream client before a slow one must `resync`.
    pub event_buffer: usize,
    /// Receivers, mapping rules and notification targets.
    pub hooks: Hooks,
    /// The master volume the server starts at (unmuted).
    pub volume: Volume,
}

/// Why the settings were refused. Each displays as one line saying what to change.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    /// `--bind` is not an address.
    #[error("--bind {0:?} is not an address: use IP:PORT, like 127.0.0.1:7070")]
    Bind(String),
    /// `--output` is not an output.
    #[error("{0}")]
    Output(String),
    /// A `wav:` output for the server.
    #[error("the server plays in real time: use --output device, device:NAME, pulse or null")]
    OfflineOutput,
    /// `--pack` is neither a name nor a folder.
    #[error(
        "--pack {0:?} is neither an installed pack's name (lowercase letters, digits, hyphens) nor a folder"
    )]
    Pack(String),
    /// A non-loopback bind without a token.
    #[error(
        "refusing to listen on {0} without a token: anyone on the network could ring the gong; pass --token (or GONGAN_TOKEN), or bind to 127.0.0.1"
    )]
    TokenRequired(SocketAddr),
    /// A token too short or with odd characters.
    #[error(
        "the token must be at least {MIN_TOKEN_CHARS} printable ASCII characters without spaces (try `openssl rand -hex 16`)"
    )]
    WeakToken,
    /// An `--allow-host` entry that is not a host name.
    #[error(
        "--allow-host {0:?} is not a host name (use a name like gong.example.org, or name:port)"
    )]
    AllowHost(String),
    /// No data directory could be found.
    #[error("no home folder to keep data in: pass --data-dir")]
    NoDataDir,
    /// A number out of range.
    #[error("{0}")]
    Range(String),
    /// A receiver's rule or a notification target.
    #[error("{0}")]
    Hooks(String),
    /// The config file.
    #[error("config file {}: {reason}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

impl Config {
    /// Checks every setting and fills in the defaults.
    ///
    /// # Errors
    /// The first setting that is wrong, as a [`ConfigError`].
    pub fn validate(raw: RawConfig) -> Result<Config, ConfigError> {
        let bind_text = raw.bind.as_deref().unwrap_or(DEFAULT_BIND);
        let bind: SocketAddr = bind_text
            .trim()
            .parse()
            .map_err(|_| ConfigError::Bind(bind_text.to_owned()))?;
        let output: OutputSpec =
            raw.output.as_deref().unwrap_or("device").parse().map_err(
                |e: crate::audio::output::OutputError| ConfigError::Output(e.to_string()),
            )?;
        if matches!(output, OutputSpec::Wav(_)) {
            return Err(ConfigError::OfflineOutput);
        }
        let latency = match raw.latency_ms {
            None => Latency::DEFAULT,
            Some(ms) => Latency::from_millis(ms).map_err(|_| {
                ConfigError::Range(format!(
                    "--latency {ms} is out of range: use {} to {} milliseconds (latency_ms in a config file)",
                    Latency::MIN.as_duration().as_millis(),
                    Latency::MAX.as_duration().as_millis()
                ))
            })?,
        };
        let pack = PackChoice::parse(raw.pack.as_deref().unwrap_or("default"))?;
        let token = raw
            .token
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(Token::parse)
            .transpose()?;
        if token.is_none() && !bind.ip().is_loopback() {
            return Err(ConfigError::TokenRequired(bind));
        }
        let data_dir = match raw.data_dir {
            Some(dir) => dir,
            None => directories::ProjectDirs::from("", "", "gongan")
                .map(|dirs| dirs.data_dir().to_owned())
                .ok_or(ConfigError::NoDataDir)?,
        };
        let mut allowed_hosts = Vec::new();
        for host in raw.allow_hosts {
            let host = host.trim().to_ascii_lowercase();
            let valid = !host.is_empty()
                && host.len() <= 253
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
            if !valid {
                return Err(ConfigError::AllowHost(host));
            }
            allowed_hosts.push(host);
        }
        let coalesce_ms = raw.coalesce_ms.unwrap_or(150);
        if coalesce_ms > 10_000 {
            return Err(ConfigError::Range(format!(
                "coalesce_ms {coalesce_ms} is too long: use 0 to 10000 milliseconds"
            )));
        }
        let body_limit = raw.body_limit.unwrap_or(DEFAULT_BODY_LIMIT);
        if !(1024..=16 * 1024 * 1024).contains(&body_limit) {
            return Err(ConfigError::Range(format!(
                "body_limit {body_limit} is out of range: use 1024 to 16777216 bytes"
            )));
        }
        let pack_upload_limit = raw.pack_upload_limit.unwrap_or(DEFAULT_PACK_UPLOAD_LIMIT);
        if !(1 << 20..=256 << 20).contains(&pack_upload_limit) {
            return Err(ConfigError::Range(format!(
                "pack_upload_limit {pack_upload_limit} is out of range: use 1048576 to 268435456 bytes"
            )));
        }
        let hooks = Hooks::validate(raw.hooks, raw.notify)?;
        let volume = Volume {
            level: match raw.volume_db {
                None => VolumeDb::UNITY,
                Some(db) => VolumeDb::new(db)
                    .map_err(|e| ConfigError::Range(format!("{e} (in the config file)")))?,
            },
            muted: false,
        };
        let header_ms = raw.header_timeout_ms.unwrap_or(10_000);
        if !(100..=600_000).contains(&header_ms) {
            return Err(ConfigError::Range(format!(
                "header_timeout_ms {header_ms} is out of range: use 100 to 600000"
            )));
        }
        Ok(Config {
            bind,
            output,
            latency,
            pack,
            data_dir,
            token,
            allowed_hosts,
            coalesce_window: Duration::from_millis(coalesce_ms),
            body_limit,
            pack_upload_limit,
            header_read_timeout: Duration::from_millis(header_ms),
            body_read_timeout: Duration::from_millis(header_ms),
            event_buffer: 1024,
            hooks,
            volume,
        })
    }

    /// Settings for a test or a benchmark: `127.0.0.1:0` (a free port), the `null`
    /// output, the default pack, data in `data_dir`, no token.
    #[must_use]
    pub fn for_tests(data_dir: &Path) -> Config {
        Config {
            bind: SocketAddr::from((IpAddr::from([127, 0, 0, 1]), 0)),
            output: OutputSpec::Null,
            latency: Latency::DEFAULT,
            pack: PackChoice::Default,
            data_dir: data_dir.to_owned(),
            token: None,
            allowed_hosts: Vec::new(),
            coalesce_window: Duration::from_millis(150),
            body_limit: DEFAULT_BODY_LIMIT,
            pack_upload_limit: DEFAULT_PACK_UPLOAD_LIMIT,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(10),
            event_buffer: 1024,
            hooks: Hooks::default(),
            volume: Volume::default(),
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn raw(bind: &str) -> RawConfig {
        RawConfig {
            bind: Some(bind.into()),
            data_dir: Some("/tmp/gongan-test".into()),
            ..RawConfig::default()
        }
    }

    #[test]
    fn loopback_needs_no_token_but_anything_else_does() {
        assert!(Config::validate(raw("127.0.0.1:7070")).is_ok());
        assert!(Config::validate(raw("[::1]:7070")).is_ok());
        let err = Config::validate(raw("0.0.0.0:7070")).unwrap_err();
        assert_eq!(
            err,
            ConfigError::TokenRequired("0.0.0.0:7070".parse().unwrap())
        );
        assert!(err.to_string().contains("--token"));
        let with_token = RawConfig {
            token: Some("0123456789abcdef".into()),
            ..raw("0.0.0.0:7070")
        };
        assert!(Config::validate(with_token).is_ok());
    }

    #[test]
    fn weak_tokens_and_bad_values_are_refused() {
        let short = RawConfig {
            token: Some("secret".into()),
            ..raw("127.0.0.1:1")
        };
        assert_eq!(Config::validate(short).unwrap_err(), ConfigError::WeakToken);
        assert!(matches!(
            Config::validate(raw("localhost")).unwrap_err(),
            ConfigError::Bind(_)
        ));
        let wav = RawConfig {
            output: Some("wav:x.wav".into()),
            ..raw("127.0.0.1:1")
        };
        assert_eq!(
            Config::validate(wav).unwrap_err(),
            ConfigError::OfflineOutput
        );
        let host = RawConfig {
            allow_hosts: vec!["evil/host".into()],
            ..raw("127.0.0.1:1")
        };
        assert!(matches!(
            Config::validate(host).unwrap_err(),
            ConfigError::AllowHost(_)
        ));
    }

    #[test]
    fn latency_is_checked_with_a_line_that_says_what_to_use() {
        assert_eq!(
            Config::validate(raw("127.0.0.1:1")).unwrap().latency,
            Latency::DEFAULT
        );
        let fast = RawConfig {
            latency_ms: Some(10),
            ..raw("127.0.0.1:1")
        };
        assert_eq!(
            Config::validate(fast).unwrap().latency,
            Latency::from_millis(10).unwrap()
        );
        for bad in [0, 1, 501, 60_000] {
            let wrong = RawConfig {
                latency_ms: Some(bad),
                ..raw("127.0.0.1:1")
            };
            let err = Config::validate(wrong).unwrap_err().to_string();
            assert_eq!(
                err,
                format!(
                    "--latency {bad} is out of range: use 2 to 500 milliseconds (latency_ms in a config file)"
                )
            );
        }
        let file: RawConfig = toml::from_str("latency_ms = 25").unwrap();
        assert_eq!(file.latency_ms, Some(25));
    }

    /// Issue 11: `volume_db` in the config file sets the volume the server starts at.
    #[test]
    fn the_volume_comes_from_the_file_and_is_checked() {
        assert_eq!(
            Config::validate(raw("127.0.0.1:1")).unwrap().volume,
            Volume::default()
        );
        let file: RawConfig = toml::from_str("volume_db = -6.5").unwrap();
        let config = Config::validate(file.or(raw("127.0.0.1:1"))).unwrap();
        assert_eq!(config.volume.level.db(), -6.5);
        assert!(!config.volume.muted);
        let loud: RawConfig = toml::from_str("volume_db = 12").unwrap();
        let err = Config::validate(loud.or(raw("127.0.0.1:1"))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "volume_db 12 is out of range: use -60 to 6 dB (in the config file)"
        );
    }

    /// Issue 11: `pack_upload_limit` caps an uploaded pack archive, within a sane range.
    #[test]
    fn the_pack_upload_limit_comes_from_the_file_and_is_checked() {
        let config = Config::validate(raw("127.0.0.1:1")).unwrap();
        assert_eq!(config.pack_upload_limit, DEFAULT_PACK_UPLOAD_LIMIT);
        let file: RawConfig = toml::from_str("pack_upload_limit = 2097152").unwrap();
        let config = Config::validate(file.or(raw("127.0.0.1:1"))).unwrap();
        assert_eq!(config.pack_upload_limit, 2 << 20);
        let tiny: RawConfig = toml::from_str("pack_upload_limit = 1000").unwrap();
        let err = Config::validate(tiny.or(raw("127.0.0.1:1"))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "pack_upload_limit 1000 is out of range: use 1048576 to 268435456 bytes"
        );
    }

    #[test]
    fn flags_win_over_the_file() {
        let flags = RawConfig {
            bind: Some("127.0.0.1:1".into()),
            allow_hosts: vec!["a".into()],
            ..RawConfig::default()
        };
        let file: RawConfig =
            toml::from_str("bind = \"127.0.0.1:2\"\npack = \"mine\"\nallow_hosts = [\"b\"]")
                .unwrap();
        let merged = flags.or(file);
        assert_eq!(merged.bind.as_deref(), Some("127.0.0.1:1"));
        assert_eq!(merged.pack.as_deref(), Some("mine"));
        assert_eq!(merged.allow_hosts, ["a", "b"]);
        assert!(toml::from_str::<RawConfig>("bnid = 1").is_err());
    }

    #[test]
    fn pack_choices() {
        assert_eq!(PackChoice::parse("default").unwrap(), PackChoice::Default);
        assert_eq!(
            PackChoice::parse("office").unwrap(),
            PackChoice::Installed("office".into())
        );
        assert_eq!(
            PackChoice::parse("./my pack").unwrap(),
            PackChoice::Dir("./my pack".into())
        );
        assert!(PackChoice::parse("Bad Name").is_err());
    }

    #[test]
    fn tokens_compare_whole() {
        let token = Token::parse("0123456789abcdef").unwrap();
        assert!(token.matches(b"0123456789abcdef"));
        assert!(!token.matches(b"0123456789abcdeF"));
        assert!(!token.matches(b"0123456789abcde"));
        assert_eq!(format!("{token:?}"), "Token(…)");
    }
}
