//! `gongan hooks`: each receiver's URL, whether it is configured, and the settings to
//! paste into its tool; the notification targets. `gongan hooks test NAME`: a sample
//! notification, sent to a target now.
//!
//! Both read the settings the server would: the config file (`--config`, GONGAN_CONFIG)
//! and the `GONGAN_*` secret variables of this shell. Secrets are never printed.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::builder::PossibleValuesParser;
use clap::{Args, Subcommand};
use gongan::config::hooks::{NOTIFY_EVENTS, SECRET_VARIABLES};
use gongan::config::{Hooks, NotifyFormat, NotifyTarget, RawConfig, RawHooks, Source};
use gongan::notify::{Attempt, DeliveryPolicy, Notice, http_client, message, post};

/// Where the tools reach gongan unless told otherwise.
const DEFAULT_SERVER: &str = "http://127.0.0.1:7070";

/// `gongan hooks` flags.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  gongan hooks\n  \
    gongan hooks --server https://gong.example.org --config /etc/gongan/gongan.toml\n  \
    gongan hooks test team-chat\n  \
    gongan hooks test ops-webhook --event finished\n\n\
    Secrets come from the config file's [hooks] table or GONGAN_* variables (as this shell\n\
    sets them); they are never printed. A receiver that is not configured answers 404.")]
pub struct HooksArgs {
    #[command(subcommand)]
    command: Option<HooksCommand>,
    /// The config file the server reads ([hooks] secrets, [[notify]] targets).
    #[arg(long, env = "GONGAN_CONFIG", value_name = "FILE", global = true)]
    config: Option<PathBuf>,
    /// gongan's address as the other tools reach it (behind a proxy: its public https URL).
    #[arg(
        long,
        env = "GONGAN_SERVER",
        default_value = DEFAULT_SERVER,
        value_name = "URL",
        global = true
    )]
    server: String,
}

#[derive(Debug, Subcommand)]
enum HooksCommand {
    /// Send a sample notification to a [[notify]] target now, and say how it answered.
    #[command(after_help = "Examples:\n  gongan hooks test team-chat\n  \
        gongan hooks test ops-webhook --event segment --config /etc/gongan/gongan.toml\n\n\
        The sample goes straight to the target (not through the server's outbox), signed\n\
        like a real one, with X-Gongan-Delivery: test-<nanoseconds>.")]
    Test {
        /// The target's name (`name` in its [[notify]] table).
        name: String,
        /// Which event to send a sample of.
        #[arg(long, default_value = "started", value_parser = PossibleValuesParser::new(NOTIFY_EVENTS))]
        event: String,
    },
}

/// The settings as the server would read them.
struct Settings {
    hooks: Hooks,
    file: Option<PathBuf>,
}

fn settings(config: Option<PathBuf>) -> anyhow::Result<Settings> {
    let raw = match &config {
        Some(path) => RawConfig::from_file(path)?,
        None => RawConfig::default(),
    };
    let hooks = Hooks::validate(RawHooks::from_env().or(raw.hooks), raw.notify)?;
    Ok(Settings {
        hooks,
        file: config,
    })
}

/// Runs `gongan hooks`.
pub fn run(args: HooksArgs) -> anyhow::Result<ExitCode> {
    let settings = settings(args.config)?;
    match args.command {
        None => {
            let server = server_url(&args.server)?;
            print!("{}", listing(&settings, &server));
            Ok(ExitCode::SUCCESS)
        }
        Some(HooksCommand::Test { name, event }) => test(&settings, &name, &event),
    }
}

/// `--server` as a base URL without a trailing slash.
fn server_url(server: &str) -> anyhow::Result<String> {
    let url = reqwest::Url::parse(server.trim()).ok().filter(|u| {
        matches!(u.scheme(), "http" | "https") && u.host_str().is_some() && u.query().is_none()
    });
    match url {
        Some(url) => Ok(url.as_str().trim_end_matches('/').to_owned()),
        None => bail!(
            "--server {server:?} is not a server URL: use http(s)://HOST[:PORT], like {DEFAULT_SERVER}"
        ),
    }
}

/// What `gongan hooks` prints.
fn listing(settings: &Settings, server: &str) -> String {
    let mut out = String::new();
    let url = |source: Source| format!("{server}/hooks/{source}");
    out.push_str("Receivers (POST, each with its tool's own authentication):\n");
    for source in Source::ALL {
        out.push_str(&format!(
            "  {:<13} {:<45} {}\n",
            source.name(),
            url(source),
            status(settings, source)
        ));
    }
    match &settings.file {
        Some(file) => out.push_str(&format!(
            "Read from {} and this shell's GONGAN_* variables; a receiver that is not configured answers 404.\n",
            file.display()
        )),
        None => out.push_str(
            "No config file (--config or GONGAN_CONFIG): read from this shell's GONGAN_* \
             variables only; a receiver that is not configured answers 404.\n",
        ),
    }
    for source in Source::ALL {
        out.push('\n');
        out.push_str(&snippet(source, &url(source)));
    }
    out.push('\n');
    out.push_str(&targets(&settings.hooks.notify));
    out
}

/// `configured (WHERE)` or `not configured: set …`.
fn status(settings: &Settings, source: Source) -> String {
    let variables: Vec<&str> = SECRET_VARIABLES
        .iter()
        .filter(|(_, s)| *s == source || (source == Source::Grafana && *s == Source::Alertmanager))
        .map(|(v, _)| *v)
        .collect();
    if settings.hooks.configured(source) {
        let set: Vec<&str> = variables
            .iter()
            .copied()
            .filter(|v| std::env::var(v).is_ok_and(|value| !value.trim().is_empty()))
            .collect();
        if set.is_empty() {
            "configured (config file)".to_owned()
        } else {
            format!("configured ({})", set.join(", "))
        }
    } else {
        format!(
            "not configured: set {} (or {} in [hooks])",
            variables.join(" or "),
            variables
                .iter()
                .map(|v| file_key(v))
                .collect::<Vec<_>>()
                .join(" or ")
        )
    }
}

/// The `[hooks]` key of a secret variable.
fn file_key(variable: &str) -> &'static str {
    match variable {
        "GONGAN_SLACK_SIGNING_SECRET" => "slack_signing_secret",
        "GONGAN_MATTERMOST_TOKEN" => "mattermost_token",
        "GONGAN_HOOK_TOKEN" => "token",
        "GONGAN_GRAFANA_HMAC_SECRET" => "grafana_hmac_secret",
        "GONGAN_PAGERDUTY_SECRET" => "pagerduty_secret",
        _ => "github_secret",
    }
}

/// The settings to paste into `source`'s tool.
fn snippet(source: Source, url: &str) -> String {
    match source {
        Source::Slack => format!(
            "Slack: a slash command (api.slack.com/apps → your app → Slash Commands → Create New Command)\n\
             \x20   Command:      /gong\n\
             \x20   Request URL:  {url}\n\
             \x20   Usage hint:   next | pause | resume | +2m | kenong 3 | start PLAN | status | help\n\
             \x20 Then Basic Information → App Credentials → Signing Secret, for the server:\n\
             \x20   GONGAN_SLACK_SIGNING_SECRET=<signing secret>   (or slack_signing_secret in [hooks])\n"
        ),
        Source::Mattermost => format!(
            "Mattermost: a slash command (Integrations → Slash Commands → Add Slash Command)\n\
             \x20   Command Trigger Word:  gong\n\
             \x20   Request URL:           {url}\n\
             \x20   Request Method:        POST\n\
             \x20 Then the token Mattermost shows, for the server:\n\
             \x20   GONGAN_MATTERMOST_TOKEN=<token>   (or mattermost_token in [hooks])\n"
        ),
        Source::Alertmanager => format!(
            "Alertmanager: a receiver in alertmanager.yml (and a route that sends alerts to it)\n\
             \x20   receivers:\n\
             \x20     - name: gongan\n\
             \x20       webhook_configs:\n\
             \x20         - url: {url}\n\
             \x20           send_resolved: true\n\
             \x20           http_config:\n\
             \x20             authorization:\n\
             \x20               type: Bearer\n\
             \x20               credentials: <the value of GONGAN_HOOK_TOKEN>\n"
        ),
        Source::Grafana => format!(
            "Grafana: a contact point (Alerting → Contact points → Add contact point → Integration: Webhook)\n\
             \x20   URL:          {url}\n\
             \x20   HTTP Method:  POST\n\
             \x20   Optional Webhook settings → Authorization Header: scheme Bearer,\n\
             \x20     credentials <the value of GONGAN_HOOK_TOKEN>\n\
             \x20 or, instead, Optional Webhook settings → HMAC Signature:\n\
             \x20     Secret <the value of GONGAN_GRAFANA_HMAC_SECRET>,\n\
             \x20     Signature Header X-Grafana-Alerting-Signature,\n\
             \x20     Timestamp Header X-Grafana-Alerting-Signature-Timestamp (optional: refuses replays)\n"
        ),
        Source::Pagerduty => format!(
            "PagerDuty: a v3 webhook subscription (Integrations → Generic Webhooks (v3) → New Webhook)\n\
             \x20   Webhook URL:         {url}\n\
             \x20   Scope Type:          Service (the one whose incidents pace the drill)\n\
             \x20   Event Subscription:  incident.triggered, incident.acknowledged, incident.resolved\n\
             \x20 PagerDuty shows the subscription's secret once, for the server:\n\
             \x20   GONGAN_PAGERDUTY_SECRET=<secret>   (or pagerduty_secret in [hooks])\n"
        ),
        Source::Github => format!(
            "GitHub: a webhook (repository or organisation → Settings → Webhooks → Add webhook)\n\
             \x20   Payload URL:   {url}\n\
             \x20   Content type:  application/json\n\
             \x20   Secret:        <the value of GONGAN_GITHUB_SECRET>   (or github_secret in [hooks])\n\
             \x20   Events:        Workflow runs (or the events your rules match)\n"
        ),
    }
}

/// The notification targets, or how to add one.
fn targets(targets: &[NotifyTarget]) -> String {
    let mut out = String::from("Notification targets ([[notify]] in the config file):\n");
    if targets.is_empty() {
        out.push_str(
            "  none. Add one to the config file, e.g.:\n\
             \x20   [[notify]]\n\
             \x20   name = \"team-chat\"\n\
             \x20   url = \"https://hooks.slack.com/services/T000/B000/XXXX\"\n\
             \x20   format = \"slack\"            # slack | mattermost | json\n\
             \x20   events = [\"started\", \"segment\", \"warning\", \"deadline\", \"overtime\", \"finished\"]\n",
        );
        return out;
    }
    for target in targets {
        let signed = match (target.format, &target.secret) {
            (NotifyFormat::Json, Some(_)) => ", signed",
            _ => "",
        };
        out.push_str(&format!(
            "  {:<16} {:<12} {:<36} {}\n",
            target.name,
            format!("{}{signed}", format_name(target.format)),
            redact(&target.url),
            target.events.join(", ")
        ));
    }
    out.push_str("Send a sample: gongan hooks test NAME\n");
    out
}

fn format_name(format: NotifyFormat) -> &'static str {
    match format {
        NotifyFormat::Slack => "slack",
        NotifyFormat::Mattermost => "mattermost",
        NotifyFormat::Json => "json",
    }
}

/// A target's URL without its path and query, which for chat webhooks is the secret:
/// `https://hooks.slack.com/…`.
fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(parsed) => {
            let mut shown = format!(
                "{}://{}",
                parsed.scheme(),
                parsed.host_str().unwrap_or_default()
            );
            if let Some(port) = parsed.port() {
                shown.push_str(&format!(":{port}"));
            }
            if parsed.path() != "/" || parsed.query().is_some() {
                shown.push_str("/…");
            }
            shown
        }
        Err(_) => "(not a URL)".to_owned(),
    }
}

/// `gongan hooks test NAME`.
fn test(settings: &Settings, name: &str, event: &str) -> anyhow::Result<ExitCode> {
    let targets = &settings.hooks.notify;
    let Some(target) = targets.iter().find(|t| t.name == name) else {
        if targets.is_empty() {
            bail!(
                "no notification target '{name}': no [[notify]] targets are configured \
                 (pass the config file with --config or GONGAN_CONFIG)"
            );
        }
        let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
        bail!(
            "no notification target '{name}'; the targets are: {}",
            names.join(", ")
        );
    };
    let by = super::actor();
    let now = std::time::SystemTime::now();
    let notice = Notice::sample(event, by.as_str(), gongan::session::rfc3339(now))
        .with_context(|| format!("no sample of the event '{event}'"))?;
    let message = message(&notice, target.format);
    let delivery = format!(
        "test-{}",
        now.duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let attempt = runtime.block_on(async {
        let client = http_client(&DeliveryPolicy::default())?;
        Ok::<_, gongan::notify::NotifyError>(
            post(&client, target, message.event, &delivery, message.body).await,
        )
    })?;
    let shown = redact(&target.url);
    match attempt {
        Attempt::Delivered { status } => {
            println!(
                "{name}: sample '{event}' delivered to {shown} ({status}, delivery {delivery})"
            );
            Ok(ExitCode::SUCCESS)
        }
        Attempt::Retry { error, .. } => {
            bail!(
                "{name}: the sample to {shown} was not delivered: {error} (the server would retry)"
            )
        }
        Attempt::Refused { error } => {
            bail!("{name}: {shown} refused the sample: {error} (check the target's url and format)")
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn chat_webhook_urls_are_shown_without_their_secret_path() {
        assert_eq!(
            redact("https://hooks.slack.com/services/T000/B000/XXXX"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(redact("http://127.0.0.1:9000/"), "http://127.0.0.1:9000");
        assert_eq!(
            redact("http://ops.example.org?k=secret"),
            "http://ops.example.org/…"
        );
    }

    #[test]
    fn the_server_url_is_checked() {
        assert_eq!(
            server_url("https://gong.example.org/").unwrap(),
            "https://gong.example.org"
        );
        assert_eq!(
            server_url("http://127.0.0.1:7070").unwrap(),
            "http://127.0.0.1:7070"
        );
        for bad in ["gong.example.org", "ftp://x", "http://x/?a=b", ""] {
            assert!(server_url(bad).is_err(), "{bad}");
        }
    }
}
