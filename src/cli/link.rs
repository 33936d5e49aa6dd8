//! `gongan link create|list|revoke`: capability links for stream decks, scripts and
//! listeners, written straight into the data dir's database (as `gongan history` reads
//! it). A server running on the same data dir sees a new or revoked link at once (SQLite's
//! write-ahead log); no token is needed, only the right to write the data dir.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use gongan::client::DEFAULT_SERVER;
use gongan::command::Permission;
use gongan::store::db::FILE_NAME;
use gongan::store::links::{CreateError, LinkInfo, LinkName, LinkStore};
use gongan::store::{Database, StoreError};

/// `gongan link` commands.
#[derive(Debug, Subcommand)]
#[command(after_help = "Examples:\n  \
    gongan link create stream-deck --allow next,pause,resume,cue:gong\n  \
    gongan link list\n  \
    gongan link revoke stream-deck\n\n\
    A link is a URL with its own secret that may do only what it allows:\n  \
    curl -X POST http://127.0.0.1:7070/l/SECRET/next")]
pub enum LinkCommand {
    /// Make a link and print its URL (the secret is shown only this once).
    #[command(after_help = "Examples:\n  \
        gongan link create stream-deck --allow next,pause,resume,cue:gong\n  \
        gongan link create deploy-bot --allow cue:kenong --server http://gong-box:7070\n\n\
        ACTIONS: next, previous, pause, resume, stop, extend, start, status, listen,\n\
        cue (any instrument) or cue:INSTRUMENT, comma-separated. Each press is then\n\
        `POST SERVER/l/SECRET/ACTION`, with the action in the command grammar: next,\n\
        gong, kenong%203, +2m, extend%202m, start%20game-day. No token, no body.")]
    Create {
        /// The link's name: lowercase letters, digits and hyphens. What it does is
        /// recorded as done by `link:NAME`.
        name: String,
        /// What it may do, comma-separated: next,pause,resume,cue:gong.
        #[arg(long, value_name = "ACTIONS")]
        allow: String,
        /// The server's address, to print the link's whole URL.
        #[arg(long, env = "GONGAN_SERVER", default_value = DEFAULT_SERVER, value_name = "URL")]
        server: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// List the live links (never their secrets).
    #[command(after_help = "Example:\n  gongan link list --data-dir /var/lib/gongan")]
    List {
        #[command(flatten)]
        data: DataDir,
    },
    /// Revoke a link: its URL stops working at once.
    #[command(after_help = "Example:\n  gongan link revoke stream-deck")]
    Revoke {
        /// The link's name (see `gongan link list`).
        name: String,
        #[command(flatten)]
        data: DataDir,
    },
}

/// Where the links are.
#[derive(Debug, Args)]
pub struct DataDir {
    /// The data dir (default: the one `gongan serve` uses).
    #[arg(long, value_name = "DIR", env = "GONGAN_DATA_DIR")]
    data_dir: Option<PathBuf>,
}

impl DataDir {
    fn path(self) -> anyhow::Result<PathBuf> {
        match self.data_dir {
            Some(dir) => Ok(dir),
            None => super::history::default_data_dir(),
        }
    }
}

/// Runs a `gongan link` command.
pub fn run(command: LinkCommand) -> anyhow::Result<ExitCode> {
    match command {
        LinkCommand::Create {
            name,
            allow,
            server,
            data,
        } => create(&name, &allow, &server, &data.path()?),
        LinkCommand::List { data } => list(&data.path()?),
        LinkCommand::Revoke { name, data } => revoke(&name, &data.path()?),
    }
}

fn open(data_dir: &Path) -> anyhow::Result<LinkStore> {
    let db = Database::open(data_dir)
        .with_context(|| format!("cannot open the database in {}", data_dir.display()))?;
    Ok(LinkStore::new(db))
}

/// Whether the data dir has a database yet (listing and revoking do not make one).
fn has_database(data_dir: &Path) -> bool {
    data_dir.join(FILE_NAME).is_file()
}

fn create(name: &str, allow: &str, server: &str, data_dir: &Path) -> anyhow::Result<ExitCode> {
    let name = LinkName::parse(name)?;
    let allow = Permission::parse_list(allow)?;
    let created = open(data_dir)?
        .create(&name, &allow, &super::actor())
        .map_err(|error| match error {
            CreateError::Taken(name) => anyhow::anyhow!(
                "a link named '{name}' already exists: `gongan link revoke {name}` first, \
                 or choose another name"
            ),
            other => other.into(),
        })?;
    let server = server.trim_end_matches('/');
    let url = format!("{server}{}", created.secret.url_path());
    let listen = format!("{server}{}", created.secret.listen_path());
    print!("{}", created_text(&created.info, &url, &listen));
    Ok(ExitCode::SUCCESS)
}

/// What `link create` prints: the URL, and what to do with it.
fn created_text(info: &LinkInfo, url: &str, listen: &str) -> String {
    let buttons: Vec<String> = info.allow.iter().filter_map(example_action).collect();
    let listens = info.allow.contains(&Permission::Listen);
    // A listen-only link's address is its page; any other's is where its actions go.
    let shown = if buttons.is_empty() && listens {
        listen
    } else {
        url
    };
    let mut out = format!(
        "link '{}' may: {}\n\n  {shown}\n\n\
         This URL is shown only now: gongan keeps only a hash of its secret. Whoever has it\n\
         can do what the link allows, so share it like a password.\n",
        info.name,
        words(&info.allow)
    );
    if let Some(first) = buttons.first() {
        out.push_str(&format!("\nTry it:\n  curl -X POST {url}/{first}\n"));
        out.push_str(
            "\nA stream deck button (Bitfocus Companion: Generic HTTP, POST) for each action:\n",
        );
        for button in &buttons {
            out.push_str(&format!("  {url}/{button}\n"));
        }
    }
    if listens {
        out.push_str(&format!(
            "\nListeners open {listen}\nin a browser: the clock, and the gong played there \
             in time with the room.\n"
        ));
        if buttons.is_empty() {
            out.push_str("It may only listen: it has no actions to press.\n");
        }
    }
    out
}

/// An action a button could send under `permission`, as it goes in the URL.
fn example_action(permission: &Permission) -> Option<String> {
    Some(match permission {
        Permission::Cue(None) => "gong".to_owned(),
        Permission::Cue(Some(instrument)) => instrument.clone(),
        Permission::Extend => "+2m".to_owned(),
        Permission::Time => "-1m".to_owned(),
        Permission::Jump => "jump%202".to_owned(),
        Permission::Start => "start%20practice-of-practice".to_owned(),
        Permission::Listen | Permission::Notes => return None,
        other => other.to_string(),
    })
}

fn words(allow: &[Permission]) -> String {
    allow
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn list(data_dir: &Path) -> anyhow::Result<ExitCode> {
    let links = if has_database(data_dir) {
        open(data_dir)?.list()?
    } else {
        Vec::new()
    };
    print!("{}", table(&links));
    Ok(ExitCode::SUCCESS)
}

fn table(links: &[LinkInfo]) -> String {
    if links.is_empty() {
        return "no links yet: `gongan link create NAME --allow next,pause` makes one\n".to_owned();
    }
    let rows: Vec<[String; 4]> = links
        .iter()
        .map(|link| {
            [
                link.name.to_string(),
                link.allow
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
                link.created
                    .replace('T', " ")
                    .trim_end_matches('Z')
                    .to_owned(),
                // Who made it came from a request: no control characters on a terminal.
                link.created_by
                    .chars()
                    .filter(|c| !c.is_control())
                    .collect(),
            ]
        })
        .collect();
    super::table::table(["NAME", "ALLOWS", "CREATED (UTC)", "BY"], &rows)
}

fn revoke(name: &str, data_dir: &Path) -> anyhow::Result<ExitCode> {
    let unknown = |name: &str| {
        anyhow::anyhow!(
            "no link named {name:?} in {}; `gongan link list` lists them",
            data_dir.display()
        )
    };
    let name = LinkName::parse(name).map_err(|_| unknown(name))?;
    if !has_database(data_dir) {
        return Err(unknown(name.as_str()));
    }
    open(data_dir)?.revoke(&name).map_err(|error| match error {
        StoreError::NotFound(_) => unknown(name.as_str()),
        other => other.into(),
    })?;
    println!("link '{name}' revoked: its URL no longer works");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod test {
    use super::*;

    fn info(allow: &str) -> LinkInfo {
        LinkInfo {
            name: LinkName::parse("deck").unwrap(),
            allow: Permission::parse_list(allow).unwrap(),
            created: "2026-11-22T09:30:00.000Z".into(),
            created_by: "cli:ana\u{1b}[2J".into(),
        }
    }

    #[test]
    fn create_prints_the_url_a_curl_and_one_button_per_action() {
        let text = created_text(
            &info("next,cue:gong,extend"),
            "http://127.0.0.1:7070/l/abc",
            "http://127.0.0.1:7070/listen/abc",
        );
        assert!(!text.contains("/listen/"), "{text}");
        assert!(text.contains("\n  http://127.0.0.1:7070/l/abc\n"), "{text}");
        assert!(
            text.contains("curl -X POST http://127.0.0.1:7070/l/abc/gong"),
            "{text}"
        );
        for button in ["/gong", "/next", "/+2m"] {
            assert!(text.contains(&format!("/l/abc{button}\n")), "{text}");
        }
        let listen = created_text(&info("listen"), "http://h/l/abc", "http://h/listen/abc");
        assert!(listen.contains("only listen"), "{listen}");
        assert!(listen.contains("\n  http://h/listen/abc\n"), "{listen}");
        assert!(!listen.contains("/l/abc"), "{listen}");
        assert!(!listen.contains("curl"), "{listen}");
    }

    #[test]
    fn the_table_lines_up_and_strips_control_characters() {
        let text = table(&[info("next,pause")]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "NAME  ALLOWS      CREATED (UTC)            BY");
        assert_eq!(
            lines[1],
            "deck  next,pause  2026-11-22 09:30:00.000  cli:ana[2J"
        );
        assert!(table(&[]).starts_with("no links yet"));
    }
}
