//! Issue 9: the data dir is not trusted. A real `gongan serve` over a plans folder holding
//! a link to `/dev/zero`, a FIFO, a link to `/etc/passwd`, an oversize file and a crash's
//! leftover; and plan saves onto a read-only and onto a full file system (real mounts:
//! the tests run as root, and root ignores folder permissions).

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use serde_json::{Value, json};

use crate::http_support::{Reply, problem};

/// What "answers quickly" means here: generous for a shared 2-core machine, and far less
/// than reading 1.5 GB of `/dev/zero` or forever on a FIFO.
const QUICK: Duration = Duration::from_secs(10);

const PLAN_TOML: &str = "name = \"Good\"\n[[segments]]\ntitle = \"Go\"\nduration = \"5m\"\n";

fn plan_json(title: &str) -> Value {
    json!({"name": "Drill", "segments": [{"title": title, "duration": "2m"}]})
}

/// A real `gongan serve --output null` on a data dir, with everything it logs kept (the
/// shared `ServeProcess` drops its log; these tests read the reasons given in it).
struct Server {
    child: Child,
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    async fn start(data: &Path) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_gongan"))
            .args(["serve", "--output", "null", "--bind"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(data)
            .env("RUST_LOG", "gongan=info")
            .env("NO_COLOR", "1")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (ready, listening) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if line.contains("listening on") {
                    let _ = ready.send(());
                }
                kept.lock().unwrap().push(line);
            }
        });
        let started = tokio::task::spawn_blocking(move || listening.recv_timeout(QUICK * 3))
            .await
            .unwrap();
        let server = Server { child, port, log };
        assert!(
            started.is_ok(),
            "the server did not start; it said:\n{}",
            server.log()
        );
        server
    }

    /// Everything it has logged so far.
    fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .unwrap();
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .unwrap();
        tokio::spawn(connection);
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", format!("127.0.0.1:{}", self.port));
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let body = body.map(Value::to_string).unwrap_or_default();
        let answer = async {
            let response = sender
                .send_request(request.body(Full::new(Bytes::from(body))).unwrap())
                .await
                .unwrap();
            let status = response.status();
            let headers = response.headers().clone();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            (status, headers, bytes)
        };
        let (status, headers, bytes) = tokio::time::timeout(QUICK, answer)
            .await
            .unwrap_or_else(|_| panic!("{path}: no answer within {QUICK:?}"));
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Reply {
            status,
            headers,
            json: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None).await
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn saved_ids(list: &Reply) -> Vec<String> {
    assert_eq!(list.status, 200, "{}", list.text);
    list.json
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["template"] == false)
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_9_plans_that_are_not_plain_files_are_skipped_quickly_and_quote_nothing() {
    let data = tempfile::tempdir().unwrap();
    let plans = data.path().join("plans");
    std::fs::create_dir_all(&plans).unwrap();
    std::fs::write(plans.join("good.toml"), PLAN_TOML).unwrap();
    std::os::unix::fs::symlink("/dev/zero", plans.join("zero.toml")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", plans.join("passwd.toml")).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::write(
        elsewhere.path().join("secret"),
        "api_key: SUPERSECRET-1234\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(elsewhere.path().join("secret"), plans.join("secret.toml")).unwrap();
    mkfifo(&plans.join("pipe.toml"));
    // 2 MiB of TOML comments: well-formed, and over the 1 MiB cap for a plan.
    let huge = format!(
        "{PLAN_TOML}{}",
        "# padding padding padding\n".repeat(80_660)
    );
    std::fs::write(plans.join("huge.toml"), &huge).unwrap();
    // What a crash in the middle of saves leaves behind.
    std::fs::write(plans.join(".gongan-good.toml.tmp"), "name = \"Go").unwrap();
    std::fs::create_dir_all(data.path().join("packs/.gongan-upload.tmp")).unwrap();

    let server = Server::start(data.path()).await;
    assert_eq!(
        names_in(&plans),
        [
            "good.toml",
            "huge.toml",
            "passwd.toml",
            "pipe.toml",
            "secret.toml",
            "zero.toml"
        ],
        "the leftover temporary is removed at start"
    );
    assert!(names_in(&data.path().join("packs")).is_empty());

    let list = server.get("/v1/plans").await;
    assert_eq!(saved_ids(&list), ["good"]);

    // Asked for by id, each says why it is not used.
    let detail = problem(&server.get("/v1/plans/huge").await, 409, "file-too-large");
    assert_eq!(
        detail,
        format!(
            "plans/huge.toml is 2 MiB ({} bytes), over the 1 MiB limit; gongan does not read it",
            huge.len()
        )
    );
    let detail = problem(
        &server.get("/v1/plans/zero").await,
        409,
        "not-a-regular-file",
    );
    assert!(
        detail.starts_with("plans/zero.toml is a character device"),
        "{detail}"
    );
    let detail = problem(
        &server.get("/v1/plans/pipe").await,
        409,
        "not-a-regular-file",
    );
    assert!(detail.starts_with("plans/pipe.toml is a FIFO"), "{detail}");
    let passwd = server.get("/v1/plans/passwd").await;
    let detail = problem(&passwd, 409, "saved-plan-invalid");
    assert!(detail.contains("line 1, column"), "{detail}");

    let detail = problem(
        &server.get("/v1/plans/secret").await,
        409,
        "saved-plan-invalid",
    );
    assert!(detail.contains("line 1, column"), "{detail}");

    // Nothing of either file reaches a client or the log: no line of /etc/passwd, not
    // even an entry's start (`root:x:`), and not the secret.
    let log = server.log();
    let said = [
        passwd.text.as_str(),
        list.text.as_str(),
        detail.as_str(),
        log.as_str(),
    ];
    let passwd_file = std::fs::read_to_string("/etc/passwd").unwrap();
    for line in passwd_file.lines().filter(|l| l.len() > 4) {
        let start: String = line.splitn(3, ':').take(2).collect::<Vec<_>>().join(":") + ":";
        for text in said {
            assert!(!text.contains(line), "{line:?} was quoted:\n{text}");
            assert!(!text.contains(&start), "{start:?} was quoted:\n{text}");
        }
    }
    for text in said {
        assert!(
            !text.contains("SUPERSECRET"),
            "the secret was quoted:\n{text}"
        );
    }

    // The log gives each reason too.
    for reason in [
        "plans/.gongan-good.toml.tmp: removed, an unfinished save left it",
        "packs/.gongan-upload.tmp: removed, an unfinished install left it",
        "saved plan plans/huge.toml is skipped: plans/huge.toml is 2 MiB",
        "saved plan plans/zero.toml is skipped: plans/zero.toml is a character device",
        "saved plan plans/pipe.toml is skipped: plans/pipe.toml is a FIFO",
        "saved plan plans/passwd.toml is skipped: saved plan 'passwd' no longer validates",
        "saved plan plans/secret.toml is skipped: saved plan 'secret' no longer validates",
    ] {
        assert!(log.contains(reason), "{reason:?} is not in the log:\n{log}");
    }

    // A save replaces the odd file with a plan.
    let saved = server
        .send(
            Method::PUT,
            "/v1/plans/pipe",
            Some(&plan_json("Now a plan")),
        )
        .await;
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert_eq!(saved_ids(&server.get("/v1/plans").await), ["good", "pipe"]);
}

/// A mount made for one test, undone when dropped.
struct Mount(PathBuf);

impl Mount {
    /// Runs `mount ARGS… DIR`; fails the test when this machine does not allow it (not
    /// root, no `CAP_SYS_ADMIN`).
    fn new(args: &[&str], dir: &Path) -> Mount {
        let output = Command::new("mount").args(args).arg(dir).output();
        match output {
            Ok(output) if output.status.success() => Mount(dir.to_owned()),
            other => {
                let why = match other {
                    Ok(output) => String::from_utf8_lossy(&output.stderr).into_owned(),
                    Err(error) => error.to_string(),
                };
                // A missing dependency fails the test, in CI and out of it.
                panic!(
                    "cannot mount on {}: {why}; these tests need root",
                    dir.display()
                )
            }
        }
    }

    /// Remounts it read-only (a bind mount of `dir` onto itself first).
    fn read_only(dir: &Path) -> Mount {
        let mount = Mount::new(&["--bind", &dir.to_string_lossy()], dir);
        let status = Command::new("mount")
            .args(["-o", "remount,bind,ro"])
            .arg(dir)
            .status()
            .unwrap();
        assert!(status.success(), "remount read-only");
        mount
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        // Lazily, so a file still open somewhere cannot keep it mounted.
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_9_a_plan_save_onto_a_read_only_plans_folder_is_507_and_changes_nothing() {
    let data = tempfile::tempdir().unwrap();
    let plans = data.path().join("plans");
    std::fs::create_dir_all(&plans).unwrap();
    std::fs::write(plans.join("keep.toml"), PLAN_TOML).unwrap();
    let _read_only = Mount::read_only(&plans);
    let server = Server::start(data.path()).await;

    let detail = problem(
        &server
            .send(Method::PUT, "/v1/plans/new", Some(&plan_json("New")))
            .await,
        507,
        "disk-full",
    );
    assert!(detail.contains("cannot save plans/new.toml"), "{detail}");
    assert!(detail.contains("Read-only file system"), "{detail}");
    problem(
        &server
            .send(Method::PUT, "/v1/plans/keep", Some(&plan_json("Replaced")))
            .await,
        507,
        "disk-full",
    );
    problem(
        &server.send(Method::DELETE, "/v1/plans/keep", None).await,
        507,
        "disk-full",
    );

    assert_eq!(names_in(&plans), ["keep.toml"]);
    assert_eq!(
        std::fs::read_to_string(plans.join("keep.toml")).unwrap(),
        PLAN_TOML
    );
    let kept = server.get("/v1/plans/keep").await;
    assert_eq!(kept.status, 200, "{}", kept.text);
    assert_eq!(kept.json["segments"][0]["title"], "Go");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_9_a_plan_save_onto_a_full_disk_is_507_and_leaves_nothing_half_written() {
    let data = tempfile::tempdir().unwrap();
    let plans = data.path().join("plans");
    std::fs::create_dir_all(&plans).unwrap();
    let _tmpfs = Mount::new(&["-t", "tmpfs", "-o", "size=64k", "tmpfs"], &plans);
    std::fs::write(plans.join("keep.toml"), PLAN_TOML).unwrap();
    // Fill it: the write fails part-way with "no space left", as intended.
    let filled = std::fs::write(plans.join("filler"), vec![b'x'; 256 * 1024]);
    assert!(filled.is_err(), "a 64 KiB tmpfs took 256 KiB");
    let server = Server::start(data.path()).await;

    let detail = problem(
        &server
            .send(Method::PUT, "/v1/plans/keep", Some(&plan_json("Replaced")))
            .await,
        507,
        "disk-full",
    );
    assert!(detail.contains("No space left on device"), "{detail}");
    assert_eq!(names_in(&plans), ["filler", "keep.toml"]);
    assert_eq!(
        std::fs::read_to_string(plans.join("keep.toml")).unwrap(),
        PLAN_TOML
    );

    // Once there is room again, the same save works.
    std::fs::remove_file(plans.join("filler")).unwrap();
    let saved = server
        .send(Method::PUT, "/v1/plans/keep", Some(&plan_json("Replaced")))
        .await;
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert_eq!(names_in(&plans), ["keep.toml"]);
    let kept = server.get("/v1/plans/keep").await;
    assert_eq!(kept.json["segments"][0]["title"], "Replaced");
}
