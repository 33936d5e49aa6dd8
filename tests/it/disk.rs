//! Issue 9: a data dir that cannot take writes. A full disk mid-session (a small tmpfs
//! filled up) refuses the next change with 507 `disk-full` and a warning event, changes
//! nothing, and the session keeps time; once there is room again, steering works. A data
//! dir that is read-only from the start still serves, and refuses to start a session
//! without a journal.

use std::path::{Path, PathBuf};
use std::process::Command;

use hyper::Method;
use serde_json::json;

use crate::serve_process::ServeProcess;

/// A tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (`1m`) with `options` (`ro`), or says why it cannot (not
    /// root, no mount namespace): the test then cannot run, which in CI is a failure.
    fn mount(size: &str, options: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = format!("size={size}");
        if !options.is_empty() {
            opts.push(',');
            opts.push_str(options);
        }
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &opts, "tmpfs"])
            .arg(dir.path())
            .status();
        match status {
            Ok(status) if status.success() => Tmpfs { dir },
            // A missing dependency fails the test, in CI and out of it: a skipped test
            // would read as a pass.
            other => panic!("cannot mount a tmpfs ({other:?}); the disk tests need root"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Writes zeros into `path` until the file system is full.
fn fill(path: &Path) -> PathBuf {
    use std::io::Write;
    let filler = path.join("filler");
    let mut file = std::fs::File::create(&filler).unwrap();
    let block = vec![0u8; 4096];
    while file.write_all(&block).is_ok() {}
    let _ = file.sync_all();
    filler
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_changes_with_507_and_the_session_keeps_time() {
    let disk = Tmpfs::mount("2m", "");
    let server = ServeProcess::start(disk.path(), &[]).await;
    let mut events = server.events().await;
    let session = server
        .call(
            Method::POST,
            "/v1/session",
            Some(&json!({"plan": {"name": "Drill", "segments": [
                {"title": "One", "duration": "1m", "form": "lancaran", "density": "full"},
                {"title": "Two", "duration": "1m", "form": "lancaran", "density": "full"}]},
                "by": "page"})),
        )
        .await;
    events.until("segment_started").await;
    let filler = fill(disk.path());

    let (status, problem) = server
        .send(Method::POST, "/v1/session/next", r#"{"by": "page"}"#)
        .await;
    assert_eq!(status, 507, "{problem}");
    assert_eq!(problem["type"], "urn:gongan:problem:disk-full");
    let warning = events.until("warning").await;
    assert!(
        warning["detail"].as_str().unwrap().contains("next"),
        "{warning}"
    );
    // Nothing changed, and the session keeps time: strokes go on.
    let now = server.call(Method::GET, "/v1/session", None).await;
    assert_eq!(now["id"], session["id"]);
    assert_eq!(now["segment"], 0, "the refused next did not happen");
    assert_eq!(now["state"], "running");
    events.until("stroke").await;

    // Room again: steering works, and was journaled.
    std::fs::remove_file(filler).unwrap();
    let (status, next) = server
        .send(Method::POST, "/v1/session/next", r#"{"by": "page"}"#)
        .await;
    assert_eq!(status, 200, "{next}");
    assert_eq!(next["segment"], 1);
    let id = session["id"].as_str().unwrap();
    let debrief = server
        .call(Method::GET, &format!("/v1/history/{id}"), None)
        .await;
    let nexts = debrief["log"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|line| line["action"] == "next")
        .count();
    assert_eq!(nexts, 1, "only the accepted next is in the history");
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_data_dir_serves_and_refuses_sessions_with_507() {
    let disk = Tmpfs::mount("1m", "ro");
    let server = ServeProcess::start(disk.path(), &[]).await;
    let health = server.call(Method::GET, "/healthz", None).await;
    assert_eq!(health["status"], "ok", "{health}");
    let (status, problem) = server
        .send(
            Method::POST,
            "/v1/session",
            r#"{"plan_id": "practice-of-practice"}"#,
        )
        .await;
    assert_eq!(status, 507, "{problem}");
    assert_eq!(problem["type"], "urn:gongan:problem:disk-full");
    let (status, _) = server.send(Method::GET, "/v1/session", "").await;
    assert_eq!(status, 404, "no session was started");
    let (status, problem) = server.send(Method::GET, "/v1/history", "").await;
    assert_eq!(status, 507, "{problem}");
    // Cues need no record, and still play.
    let (status, cue) = server
        .send(Method::POST, "/v1/cues", r#"{"instrument": "gong"}"#)
        .await;
    assert_eq!(status, 202, "{cue}");
    drop(server);
}
