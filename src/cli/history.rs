//! `gongan history [ID]`: past sessions from the data dir's journal, and one session's
//! debrief sheet — the same as `GET /v1/history` and `GET /v1/history/{id}`, read straight
//! from the database (a running server does not need to be asked; SQLite's write-ahead log
//! lets both read at once).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context;
use clap::ValueEnum;
use gongan::session::SessionId;

use super::clean;
use gongan::session::debrief::Debrief;
use gongan::store::db::FILE_NAME;
use gongan::store::journal::{HistoryReader, SessionSummary};
use gongan::store::{Database, StoreError};

/// How to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns (the list), or the debrief sheet (one session).
    Table,
    /// The debrief sheet in Markdown.
    Md,
    /// Comma-separated values.
    Csv,
    /// JSON, as the HTTP API answers.
    Json,
}

/// How many sessions the list shows.
const LIST_LIMIT: usize = 50;

/// Prints the history list, or session `id`'s debrief, from `data_dir`.
pub fn run(id: Option<&str>, format: Format, data_dir: &Path) -> anyhow::Result<ExitCode> {
    if !data_dir.join(FILE_NAME).is_file() {
        println!(
            "no sessions recorded yet in {} (sessions run by `gongan serve` are)",
            data_dir.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let reader = HistoryReader::new(
        Database::open(data_dir)
            .with_context(|| format!("cannot open the journal in {}", data_dir.display()))?,
    );
    match id {
        None => list(&reader, format),
        Some(id) => {
            let id = SessionId::parse(id)?;
            let record = reader.record(&id).map_err(|e| match e {
                StoreError::NotFound(_) => anyhow::anyhow!(
                    "no session {id} in {}; `gongan history` lists them",
                    data_dir.display()
                ),
                other => other.into(),
            })?;
            let debrief = Debrief::new(&record, SystemTime::now());
            let text = match format {
                Format::Table | Format::Md => debrief.to_markdown(),
                Format::Csv => debrief.to_csv(),
                Format::Json => debrief.to_json(),
            };
            print!("{}", ensure_newline(text));
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn list(reader: &HistoryReader, format: Format) -> anyhow::Result<ExitCode> {
    let sessions = reader.list(LIST_LIMIT, None)?;
    let text = match format {
        Format::Json => serde_json::to_string_pretty(&sessions)? + "\n",
        Format::Csv => csv(&sessions),
        Format::Md => markdown(&sessions),
        Format::Table => table(&sessions),
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

fn ensure_newline(mut text: String) -> String {
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

fn ending(session: &SessionSummary) -> String {
    session
        .ending
        .clone()
        .unwrap_or_else(|| "running".to_owned())
        .replace('_', " ")
}

fn table(sessions: &[SessionSummary]) -> String {
    if sessions.is_empty() {
        return "no sessions recorded yet\n".to_owned();
    }
    let rows: Vec<[String; 5]> = sessions
        .iter()
        .map(|s| {
            [
                s.id.to_string(),
                clean(&s.plan),
                s.started.replace('T', " ").trim_end_matches('Z').to_owned(),
                ending(s),
                clean(&s.started_by),
            ]
        })
        .collect();
    let mut out = super::table::table(["ID", "PLAN", "STARTED (UTC)", "ENDED", "BY"], &rows);
    out.push_str("\n`gongan history ID` prints a session's debrief sheet.\n");
    out
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn csv(sessions: &[SessionSummary]) -> String {
    let mut out = String::from("id,plan,started,finished,ending,started_by\r\n");
    for s in sessions {
        let fields = [
            s.id.to_string(),
            s.plan.clone(),
            s.started.clone(),
            s.finished.clone().unwrap_or_default(),
            s.ending.clone().unwrap_or_default(),
            s.started_by.clone(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

fn markdown(sessions: &[SessionSummary]) -> String {
    let cell = |text: &str| clean(text).replace('|', "\\|");
    let mut out =
        String::from("| id | plan | started (UTC) | ended | by |\n|---|---|---|---|---|\n");
    for s in sessions {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            s.id,
            cell(&s.plan),
            s.started,
            ending(s),
            cell(&s.started_by)
        ));
    }
    out
}

/// The data dir `gongan serve` uses unless told otherwise: `GONGAN_DATA_DIR`, else
/// `~/.local/share/gongan`.
pub fn default_data_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("GONGAN_DATA_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("", "", "gongan")
        .map(|dirs| dirs.data_dir().to_owned())
        .context("cannot tell where the data dir is (no home directory); pass --data-dir")
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn user_text_is_cleaned_and_quoted() {
        assert_eq!(clean("a\u{1b}]52;c;x\u{7}b"), "a]52;c;xb");
        assert_eq!(csv_field("a,\"b\""), "\"a,\"\"b\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
    }
}
