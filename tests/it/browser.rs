//! The facilitator's page (issue 5) in a real browser: headless Chromium driven through
//! chromedriver, against a real server on `127.0.0.1` with the null output.
//!
//! The WebDriver client is `fantoccini`, a kept crate, so the tests speak the protocol
//! through its typed calls (sessions, scripts, element clicks, key actions) rather than our
//! own JSON over HTTP. It is async: each `Browser` owns a current-thread tokio runtime and
//! blocks on every call, so the tests stay plain synchronous `#[test]`s. The calls to
//! gongan's own API go through `reqwest`, blocking on the server's runtime. Every wait polls
//! the page or the API with a deadline: no sleeps as sync.
//!
//! Chromium and chromedriver come from Debian (`chromium`, `chromium-driver`; `make test`
//! installs them). When they are missing the tests fail and say so, in CI and out of it.

use std::future::Future;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::error::CmdError;
use fantoccini::key::Key;
use fantoccini::{ClientBuilder, Locator};
use gongan::config::Config;
use gongan::http::{Application, ShutdownHandle};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// How long anything awaited may take before a test fails.
const PATIENCE: Duration = Duration::from_secs(20);
/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(50);

/// Polls `probe` until it gives a value, or fails the test saying what it waited for.
#[track_caller]
fn wait_for<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(POLL);
    }
}

// ---------------------------------------------------------------------------------------
// The server, on its own thread and runtime, so it can be stopped and started again on the
// same port while the browser keeps the page open.

/// An answer of the server's API.
struct Answer {
    status: u16,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

struct Server {
    addr: SocketAddr,
    shutdown: ShutdownHandle,
    /// The server's runtime, which the test's API calls block on too.
    runtime: tokio::runtime::Handle,
    http: reqwest::Client,
    thread: Option<std::thread::JoinHandle<()>>,
    _data: tempfile::TempDir,
}

impl Server {
    /// Starts a server with the null output on `port` (0: any free port).
    fn start(port: u16) -> Server {
        Server::start_with(port, |_| {})
    }

    /// Starts a server on `port` with the test settings changed by `change`.
    fn start_with(port: u16, change: impl FnOnce(&mut Config)) -> Server {
        let data = tempfile::tempdir().unwrap();
        let mut config = Config::for_tests(data.path());
        config.bind = SocketAddr::from(([127, 0, 0, 1], port));
        change(&mut config);
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            let handle = runtime.handle().clone();
            runtime.block_on(async move {
                let app = Application::build(config).await.expect("server starts");
                tx.send((app.local_addr(), app.shutdown_handle(), handle))
                    .unwrap();
                app.run_until_stopped().await;
            });
        });
        let (addr, shutdown, runtime) = rx.recv_timeout(PATIENCE).expect("server started");
        let http = gongan::client::http_builder()
            .timeout(PATIENCE)
            .build()
            .expect("an HTTP client");
        Server {
            addr,
            shutdown,
            runtime,
            http,
            thread: Some(thread),
            _data: data,
        }
    }

    fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Sends `method path` with `body` as JSON, whatever the answer's status.
    fn send(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Answer {
        let mut request = self
            .http
            .request(method.clone(), format!("http://{}{path}", self.addr))
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        self.runtime.block_on(async move {
            let response = request
                .send()
                .await
                .unwrap_or_else(|e| panic!("{method} {path}: the server answers: {e}"));
            let status = response.status().as_u16();
            let body = response
                .text()
                .await
                .unwrap_or_else(|e| panic!("{method} {path}: the answer's body: {e}"));
            Answer { status, body }
        })
    }

    fn get(&self, path: &str) -> Value {
        let answer = self.send(reqwest::Method::GET, path, None);
        assert_eq!(answer.status, 200, "GET {path}: {}", answer.body);
        answer.json()
    }

    fn post(&self, path: &str, body: &Value) -> Value {
        let answer = self.send(reqwest::Method::POST, path, Some(body));
        assert!(answer.status < 300, "POST {path}: {}", answer.body);
        answer.json()
    }

    fn put(&self, path: &str, body: &Value) -> Value {
        let answer = self.send(reqwest::Method::PUT, path, Some(body));
        assert_eq!(answer.status, 200, "PUT {path}: {}", answer.body);
        answer.json()
    }

    /// Stops it and waits until it has let go of its port.
    fn stop(mut self) {
        self.shutdown.shutdown();
        if let Some(thread) = self.thread.take() {
            thread.join().expect("server thread");
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.shutdown();
    }
}

// ---------------------------------------------------------------------------------------
// chromedriver and a WebDriver session

fn tool(env: &str, name: &str) -> PathBuf {
    let path = std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin").join(name));
    assert!(
        path.is_file(),
        "{} not found at {} (set {env} to its path): the browser tests need Debian's \
         `chromium` and `chromium-driver` — `make test` installs them, or run \
         `apt-get install -y chromium chromium-driver`{}",
        name,
        path.display(),
        if crate::support::in_ci() {
            "; CI must have them, so this fails rather than skips"
        } else {
            ""
        }
    );
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A chromedriver process, killed when dropped.
struct Driver {
    child: Child,
    addr: SocketAddr,
}

impl Driver {
    fn start() -> Driver {
        Driver::start_with_env(&[])
    }

    /// Starts chromedriver with these variables set, for it and the Chromium it starts
    /// (`PULSE_SINK`: where the browser's sound goes).
    fn start_with_env(vars: &[(&str, &str)]) -> Driver {
        let binary = tool("CHROMEDRIVER", "chromedriver");
        let port = free_port();
        let child = Command::new(binary)
            .envs(vars.iter().copied())
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let mut driver = Driver {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        // It serves once it listens; a session is asked for only then.
        wait_for("chromedriver to listen", || {
            if let Some(status) = driver.child.try_wait().expect("chromedriver's status") {
                panic!("chromedriver stopped before it listened: {status}");
            }
            TcpStream::connect_timeout(&driver.addr, POLL).ok()
        });
        driver
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `calls` on `runtime` to their end, or fails the test after `PATIENCE`.
#[track_caller]
fn within<T>(runtime: &tokio::runtime::Runtime, what: &str, calls: impl Future<Output = T>) -> T {
    // The timer is made inside the runtime, where it has a clock to run on.
    match runtime.block_on(async { tokio::time::timeout(PATIENCE, calls).await }) {
        Ok(value) => value,
        Err(_) => panic!("{what}: chromedriver did not answer within {PATIENCE:?}"),
    }
}

/// One headless Chromium, through its driver. Closed when dropped.
struct Browser {
    client: fantoccini::Client,
    /// Drives `client`: every call blocks on it.
    runtime: tokio::runtime::Runtime,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn open(driver: &Driver) -> Browser {
        let chromium = tool("CHROMIUM", "chromium");
        let profile = tempfile::tempdir().unwrap();
        let args = json!([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,900",
            format!("--user-data-dir={}", profile.path().display()),
        ]);
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("an object")
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the WebDriver client");
        let mut builder = ClientBuilder::new(HttpConnector::new());
        builder.capabilities(capabilities);
        let url = driver.url();
        let client = within(&runtime, "a new browser session", builder.connect(&url))
            .unwrap_or_else(|e| panic!("a new browser session: {e}"));
        Browser {
            client,
            runtime,
            _profile: profile,
        }
    }

    /// Runs WebDriver calls to their end, or fails the test after `PATIENCE`.
    #[track_caller]
    fn block_on<T>(&self, what: &str, calls: impl Future<Output = T>) -> T {
        within(&self.runtime, what, calls)
    }

    /// Runs one WebDriver call that must succeed.
    #[track_caller]
    fn run<T>(&self, what: &str, call: impl Future<Output = Result<T, CmdError>>) -> T {
        match self.block_on(what, call) {
            Ok(value) => value,
            Err(e) => panic!("{what}: {e}"),
        }
    }

    fn goto(&self, url: &str) {
        self.run(&format!("go to {url}"), self.client.goto(url));
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its value.
    fn js(&self, script: &str, args: Value) -> Value {
        let args = match args {
            Value::Array(args) => args,
            one => vec![one],
        };
        self.run(script, self.client.execute(script, args))
    }

    /// The trimmed text of the element `css`, or None while there is none.
    fn text(&self, css: &str) -> Option<String> {
        let value = self.js(
            "const el = document.querySelector(arguments[0]); return el ? el.textContent.trim() : null;",
            json!([css]),
        );
        value.as_str().map(str::to_owned)
    }

    fn attr(&self, css: &str, name: &str) -> Option<String> {
        let value = self.js(
            "const el = document.querySelector(arguments[0]); return el ? el.getAttribute(arguments[1]) : null;",
            json!([css, name]),
        );
        value.as_str().map(str::to_owned)
    }

    fn visible(&self, css: &str) -> bool {
        self.js(
            "const el = document.querySelector(arguments[0]); return !!el && el.offsetParent !== null && !el.closest('[hidden]');",
            json!([css]),
        ) == true
    }

    /// Clicks `css` like a user: a real WebDriver click, once it is there, enabled and
    /// shown. An element the page replaced between finding and clicking is found again.
    fn click(&self, css: &str) {
        wait_for(&format!("{css} to be clicked"), || {
            let clicked = self.block_on(&format!("click {css}"), async {
                let element = self.client.find(Locator::Css(css)).await?;
                if !element.is_enabled().await? || !element.is_displayed().await? {
                    return Ok(None);
                }
                element.click().await.map(Some)
            });
            match clicked {
                Ok(clicked) => clicked,
                Err(e) if e.is_no_such_element() || e.is_stale_element_reference() => None,
                Err(e) => panic!("click {css}: {e}"),
            }
        });
    }

    /// Presses and releases one key (a character, or a `Key` such as `Key::Left`), sent to
    /// whatever has the focus.
    fn press(&self, key: impl Into<char>) {
        let key = key.into();
        let keys = KeyActions::new("keyboard".to_owned())
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        self.run(&format!("press {key:?}"), self.client.perform_actions(keys));
    }

    /// Waits until the element `css` has text satisfying `check`; returns that text.
    #[track_caller]
    fn wait_text(&self, css: &str, what: &str, check: impl Fn(&str) -> bool) -> String {
        wait_for(&format!("{css} to show {what}"), || {
            self.text(css).filter(|t| check(t))
        })
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ends the session: chromedriver closes Chromium.
        let close = self.client.clone().close();
        let _ = self
            .runtime
            .block_on(async { tokio::time::timeout(PATIENCE, close).await });
    }
}

fn session_state(server: &Server) -> String {
    server.get("/v1/session")["state"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

// ---------------------------------------------------------------------------------------
// The tests

/// Issue 5: start a plan by clicking, watch the countdown follow the server's ticks,
/// pause and resume (button and space bar), strike a cue from the pad.
#[test]
fn a_facilitator_runs_a_session_from_the_page() {
    let server = Server::start(0);
    let driver = Driver::start();
    let browser = Browser::open(&driver);
    browser.goto(&server.url());

    browser.wait_text("#connection", "live", |t| t == "live");
    assert_eq!(
        browser.attr("#audio", "data-state").as_deref(),
        Some("null")
    );
    assert!(browser.visible("#degraded"), "the silent output is shown");
    let plan_button = "button.start[data-plan='incident-data-collection']";
    browser.click(plan_button);

    // The session runs: the first segment's title and a countdown from the server.
    let title = browser.wait_text("#title", "the first segment", |t| {
        !t.is_empty() && t != "Opening phrase"
    });
    let plan = server.get("/v1/session");
    assert_eq!(plan["segments"][0]["title"], title.as_str());
    let first = browser.wait_text("#time-left", "a countdown", |t| t.contains(':'));
    browser.wait_text("#time-left", "the countdown moving", |t| t != first);
    assert_eq!(
        browser.js(
            "return document.querySelectorAll('#wheel-marks .mark').length;",
            json!([])
        ),
        json!(plan["pattern"].as_array().unwrap().len()),
        "one wheel mark per beat of the form"
    );
    assert_eq!(
        browser
            .js(
                "return document.querySelectorAll('#segments tr').length;",
                json!([])
            )
            .as_u64(),
        Some(plan["segments"].as_array().unwrap().len() as u64)
    );

    // Pause by clicking: the page and the API agree.
    wait_for("the buka to end", || {
        (session_state(&server) == "running").then_some(())
    });
    browser.wait_text("#state", "Running", |t| t == "Running");
    browser.click("#btn-pause");
    browser.wait_text("#state", "Paused", |t| t == "Paused");
    assert_eq!(session_state(&server), "paused");
    assert_eq!(
        browser.text("#btn-pause .label").as_deref(),
        Some("Resume"),
        "the big button now resumes"
    );
    // Paused, the time left stands still through the next ticks.
    let frozen = browser.text("#time-left").unwrap();
    let seen = server.get("/v1/status")["engine"]["seconds"]
        .as_f64()
        .unwrap();
    wait_for("two more seconds of engine time", || {
        let now = server.get("/v1/status")["engine"]["seconds"].as_f64()?;
        (now > seen + 2.0).then_some(())
    });
    assert_eq!(browser.text("#time-left").unwrap(), frozen);

    // The space bar resumes.
    browser.press(' ');
    browser.wait_text("#state", "Running", |t| t == "Running");
    wait_for("the API to say running", || {
        (session_state(&server) == "running").then_some(())
    });

    // A cue from the pad: its cue_played event reaches the page.
    browser.click(".pad button[data-instrument='kempul']");
    browser.wait_text("#last-cue", "the kempul played", |t| t == "Played kempul");
    assert!(browser.text("#log").unwrap().contains("Cue: kempul"));

    // n moves on to segment 2.
    let second = plan["segments"][1]["title"].as_str().unwrap().to_owned();
    browser.press('n');
    browser.wait_text("#title", "the second segment", |t| t == second);
    assert_eq!(server.get("/v1/session")["segment"], 1);
}

/// Issue 10: on a server with a token the page asks for it once, then works on a login
/// session cookie (the API and the event stream); "log out" ends it and asks again.
#[test]
fn the_page_logs_in_with_the_token_and_out_again() {
    const TOKEN: &str = "browser-test-token-0123";
    let server = Server::start_with(0, |config| {
        config.token = Some(gongan::config::Token::parse(TOKEN).unwrap());
    });
    let driver = Driver::start();
    let browser = Browser::open(&driver);
    browser.goto(&server.url());

    wait_for("the login dialog", || {
        (browser.js("return document.getElementById('login').open;", json!([])) == true)
            .then_some(())
    });
    browser.js(
        "document.getElementById('token').value = arguments[0];",
        json!(["not-the-token-00000000"]),
    );
    browser.click("#login-form button[type=submit]");
    browser.wait_text("#login-error", "the refusal", |t| !t.is_empty());

    browser.js(
        "document.getElementById('token').value = arguments[0];",
        json!([TOKEN]),
    );
    browser.click("#login-form button[type=submit]");
    browser.wait_text("#connection", "live", |t| t == "live");
    assert!(browser.visible("#logout"));
    // The cookie is a session id the script cannot read, not the token.
    let cookies = browser.js("return document.cookie;", json!([]));
    assert!(!cookies.as_str().unwrap_or("").contains(TOKEN), "{cookies}");
    // The session cookie steers: a plan starts from the page.
    browser.click("button.start[data-plan='incident-data-collection']");
    browser.wait_text("#title", "the first segment", |t| {
        !t.is_empty() && t != "Opening phrase"
    });

    browser.click("#logout");
    wait_for("the login dialog again", || {
        (browser.js("return document.getElementById('login').open;", json!([])) == true)
            .then_some(())
    });
    let status = browser.js(
        "return fetch('/v1/status', {credentials: 'same-origin'}).then(r => r.status);",
        json!([]),
    );
    assert_eq!(status, 401, "the old cookie no longer works");
}

/// Issue 5: the page shows "disconnected" while the server is down and reconnects by
/// itself when it is back on the same port.
#[test]
fn the_page_reconnects_after_a_server_restart() {
    let server = Server::start(0);
    let port = server.addr.port();
    let driver = Driver::start();
    let browser = Browser::open(&driver);
    browser.goto(&server.url());
    browser.wait_text("#connection", "live", |t| t == "live");
    assert!(!browser.visible("#offline"));

    server.stop();
    browser.wait_text("#connection", "disconnected", |t| t == "disconnected");
    assert!(browser.visible("#offline"), "a clear banner says so");
    assert!(browser.text("#offline").unwrap().contains("Disconnected"));

    let server = Server::start(port);
    browser.wait_text("#connection", "live again", |t| t == "live");
    assert!(!browser.visible("#offline"));
    // And it follows the new server: a session started elsewhere shows up.
    server.post(
        "/v1/session",
        &json!({"plan_id": "morning-vistas", "speed": 10}),
    );
    let title = server.get("/v1/session")["title"]
        .as_str()
        .unwrap()
        .to_owned();
    browser.wait_text("#title", "the new session", |t| t == title);
}

// ---------------------------------------------------------------------------------------
// Issue 11: the sound panel

/// The server's volume as `(volume_db, muted)`.
fn server_volume(server: &Server) -> (f64, bool) {
    let volume = server.get("/v1/volume");
    (
        volume["volume_db"].as_f64().unwrap(),
        volume["muted"].as_bool().unwrap(),
    )
}

/// Drops a file named `name` holding `bytes` on the page's drop zone, as a user dragging it
/// from a file manager would: a `DataTransfer` carrying a `File`, through `dragover` and
/// `drop`.
fn drop_file(browser: &Browser, name: &str, bytes: &[u8]) {
    browser.js(
        "const file = new File([new Uint8Array(arguments[0])], arguments[1]);
         const transfer = new DataTransfer();
         transfer.items.add(file);
         const zone = document.getElementById('drop');
         for (const kind of ['dragenter', 'dragover', 'drop']) {
           zone.dispatchEvent(new DragEvent(kind, {dataTransfer: transfer, bubbles: true, cancelable: true}));
         }",
        json!([bytes, name]),
    );
}

/// A `.tar.gz` of the office pack inside one top-level folder, as `tar czf` makes it.
fn office_archive() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    crate::volume::write_office_pack(dir.path());
    let mut archive = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    archive
        .append_dir_all("team-sounds", dir.path())
        .expect("the pack archives");
    archive.into_inner().unwrap().finish().unwrap()
}

/// Issue 11: the panel lists the packs; a preview of a pack that is not active plays (its
/// `cue_played` reaches the page and the event stream) and leaves it inactive; "Use this
/// pack" moves the active mark and the cue pad; the slider and the mute set the server's
/// volume, and a change from elsewhere moves the slider; a file that is no archive, or an
/// archive the server refuses, is answered where it was dropped.
#[test]
fn the_sound_panel_lists_previews_activates_and_sets_the_volume() {
    let server = Server::start_with(0, |config| {
        crate::volume::install_office_pack(&config.data_dir);
    });
    let driver = Driver::start();
    let browser = Browser::open(&driver);
    browser.goto(&server.url());
    browser.wait_text("#connection", "live", |t| t == "live");

    // Listed, with what the API says of each; the default pack is the active one.
    wait_for("the three packs in the panel", || {
        let count = browser.js(
            "return document.querySelectorAll('#packs .pack').length;",
            json!([]),
        );
        (count == 3).then_some(())
    });
    assert_eq!(
        browser
            .attr(".pack[data-pack='default']", "aria-current")
            .as_deref(),
        Some("true")
    );
    assert_eq!(
        browser.text(".pack[data-pack='default'] .badge").as_deref(),
        Some("Active")
    );
    // The manifest's name, with the id to activate it by beside it.
    assert!(
        browser
            .text(".pack[data-pack='office'] h5")
            .unwrap()
            .starts_with("Office")
    );
    assert_eq!(
        browser
            .text(".pack[data-pack='office'] .pack-id")
            .as_deref(),
        Some("office")
    );
    let meta = browser.text(".pack[data-pack='office'] .meta").unwrap();
    assert_eq!(meta, "by Ops · CC0-1.0 · 2 instruments · installed");
    assert_eq!(
        browser
            .text(".pack[data-pack='office'] .description")
            .as_deref(),
        Some("The team's own: an airhorn and a desk bell")
    );

    // A second listener on the event stream, as another client would be.
    browser.js(
        "window.seenCues = [];
         const events = new EventSource('/v1/events');
         events.addEventListener('status', () => { window.listening = true; });
         events.addEventListener('cue_played', (e) => window.seenCues.push(JSON.parse(e.data)));",
        json!([]),
    );
    wait_for("the second listener", || {
        (browser.js("return window.listening === true;", json!([])) == true).then_some(())
    });

    // Preview the office pack's airhorn, pitch 2, by keyboard-reachable buttons.
    browser.click(".pack[data-pack='office'] button.listen");
    assert_eq!(
        browser
            .attr(".pack[data-pack='office'] button.listen", "aria-expanded")
            .as_deref(),
        Some("true")
    );
    browser.click(
        ".pack[data-pack='office'] .previews button[data-instrument='airhorn'][data-variant='2']",
    );
    browser.wait_text(
        ".pack[data-pack='office'] .heard",
        "the preview heard",
        |t| t == "Heard airhorn 2",
    );
    let id = browser
        .attr(".pack[data-pack='office'] .heard", "data-id")
        .and_then(|id| id.parse::<u64>().ok())
        .expect("the preview's id");
    let seen = wait_for("the preview's cue_played on the stream", || {
        let seen = browser.js("return window.seenCues;", json!([]));
        seen.as_array()?.iter().find(|cue| cue["id"] == id).cloned()
    });
    assert_eq!(
        (seen["instrument"].as_str(), seen["variant"].as_u64()),
        (Some("airhorn"), Some(2))
    );
    assert_eq!(
        server.get("/v1/status")["pack"],
        "default",
        "a preview chooses nothing"
    );
    assert!(
        browser
            .text("#log")
            .unwrap()
            .contains("Preview: airhorn 2 from Office")
    );

    // Use the office pack: the mark moves, the API agrees, the cue pad has its airhorn.
    browser.click(".pack[data-pack='office'] button.activate");
    wait_for("the office pack marked active", || {
        (browser
            .attr(".pack[data-pack='office']", "aria-current")
            .as_deref()
            == Some("true"))
        .then_some(())
    });
    assert!(browser.visible(".pack[data-pack='default'] button.activate"));
    assert_eq!(
        browser.attr(".pack[data-pack='default']", "aria-current"),
        None
    );
    let packs = server.get("/v1/packs");
    let active: Vec<&str> = packs
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["active"] == true)
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert_eq!(active, ["office"]);
    wait_for("the cue pad to have the airhorn", || {
        browser
            .visible(".pad button[data-instrument='airhorn']")
            .then_some(())
    });

    // The slider, by mouse and keys: the server follows it.
    assert_eq!(server_volume(&server), (0.0, false));
    browser.click("#volume");
    for _ in 0..3 {
        browser.press(Key::Left);
    }
    let slider = || {
        browser
            .js(
                "return Number(document.getElementById('volume').value);",
                json!([]),
            )
            .as_f64()
            .unwrap()
    };
    let wanted = slider();
    assert!(wanted < 0.0, "the slider moved down: {wanted}");
    wait_for("the server at the slider's level", || {
        (server_volume(&server) == (wanted, false)).then_some(())
    });
    browser.wait_text("#volume-value", "the level", |t| {
        t == format!("−{} dB", -wanted)
    });

    // Mute, and back.
    browser.click("#mute");
    wait_for("muted", || {
        (server_volume(&server) == (wanted, true)).then_some(())
    });
    let pressed = |state: &str| {
        wait_for(&format!("aria-pressed={state}"), || {
            (browser.attr("#mute", "aria-pressed").as_deref() == Some(state)).then_some(())
        });
    };
    pressed("true");
    browser.wait_text("#volume-value", "muted", |t| t.ends_with("· muted"));
    browser.click("#mute");
    wait_for("unmuted", || {
        (server_volume(&server) == (wanted, false)).then_some(())
    });
    pressed("false");

    // A change from elsewhere (another page, the API) moves this page's slider.
    server.put("/v1/volume", &json!({"volume_db": -42, "by": "cli:ana"}));
    wait_for("the slider to follow", || (slider() == -42.0).then_some(()));
    browser.wait_text("#volume-value", "−42 dB", |t| t == "−42 dB");

    // A file that is not an archive is refused on the page, where it was dropped.
    drop_file(&browser, "notes.txt", b"hello");
    let refused = browser.wait_text("#upload-error", "the refusal", |t| !t.is_empty());
    assert!(
        refused.contains("notes.txt is not a pack archive"),
        "{refused}"
    );
    assert!(!browser.visible("#upload-form"));

    // An archive the server refuses: its problem (title and detail) shows at the drop zone.
    drop_file(&browser, "Broken Pack.zip", b"this is not a zip archive");
    browser.wait_text("#upload-file", "the staged file", |t| {
        t.starts_with("Broken Pack.zip")
    });
    let name = browser.js(
        "return document.getElementById('upload-name').value;",
        json!([]),
    );
    assert_eq!(name, "broken-pack", "named after the file, lowercased");
    browser.click("#upload-send");
    let shown = browser.wait_text("#upload-error", "the server's refusal", |t| {
        t.starts_with("Upload refused")
    });
    let answer = browser.js(
        "return fetch('/v1/packs/broken-pack', {method: 'PUT', credentials: 'same-origin',
           headers: {'Content-Type': 'application/zip'}, body: 'this is not a zip archive'})
           .then(async (r) => ({status: r.status, problem: await r.json()}));",
        json!([]),
    );
    let status = answer["status"].as_u64().unwrap();
    assert!((400..500).contains(&status), "{answer}");
    let detail = answer["problem"]["detail"].as_str().unwrap();
    assert!(
        shown.contains(detail),
        "the page shows {shown:?}, the server said {detail:?}"
    );
    assert!(shown.contains(&status.to_string()), "{shown}");
    assert_eq!(
        browser.attr("#drop", "data-state").as_deref(),
        Some("failed")
    );
    assert_eq!(
        server.get("/v1/packs").as_array().unwrap().len(),
        3,
        "nothing installed"
    );
}

/// Issue 11: an archive dropped on the panel is uploaded as it is (`PUT /v1/packs/{name}`,
/// named after the file), its progress shown, and the new pack is listed.
#[test]
fn a_dropped_archive_is_uploaded_and_listed() {
    let server = Server::start(0);
    let driver = Driver::start();
    let browser = Browser::open(&driver);
    browser.goto(&server.url());
    browser.wait_text("#connection", "live", |t| t == "live");
    wait_for("the default pack listed", || {
        browser.visible(".pack[data-pack='default']").then_some(())
    });

    drop_file(&browser, "Team Sounds.tar.gz", &office_archive());
    let name = browser.js(
        "return document.getElementById('upload-name').value;",
        json!([]),
    );
    assert_eq!(name, "team-sounds");
    browser.click("#upload-send");
    let done = browser.wait_text("#upload-status", "the upload's outcome", |t| {
        t.starts_with("Installed")
    });
    assert!(done.contains("2 instruments"), "{done}");
    assert_eq!(
        browser.js(
            "return document.getElementById('upload-progress').value;",
            json!([])
        ),
        100,
        "the progress reached the end"
    );
    assert_eq!(browser.attr("#drop", "data-state").as_deref(), Some("done"));
    wait_for("the new pack in the panel", || {
        browser
            .visible(".pack[data-pack='team-sounds']")
            .then_some(())
    });
    let listed = server.get("/v1/packs");
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == "team-sounds" && p["name"] == "Office"),
        "{listed}"
    );
    // It has no gong: the card says the default pack's gong is heard instead.
    let fallback = browser.wait_text(
        ".pack[data-pack='team-sounds'] .fallback",
        "the fallback note",
        |t| !t.is_empty(),
    );
    assert!(
        fallback.starts_with("Heard from the default pack") && fallback.contains("gong"),
        "{fallback}"
    );
    assert!(!browser.visible(".pack[data-pack='default'] .fallback"));
}

/// Issue 12: a pause pressed during the opening phrase is taken (no error) and lands with
/// it; the facilitator's message reaches `/present`, which shows the clock, the wheel, the
/// segment and what comes next and no control at all; the tab has an icon.
#[test]
fn the_presentation_view_shows_the_room_the_session_and_no_controls() {
    let server = Server::start(0);
    let driver = Driver::start();
    let browser = Browser::open(&driver);
    browser.goto(&server.url());
    browser.wait_text("#connection", "live", |t| t == "live");
    let icon = server.send(reqwest::Method::GET, "/favicon.svg", None);
    assert_eq!(icon.status, 200);
    assert!(icon.body.starts_with("<svg"), "{}", icon.body);

    // Steering during the opening phrase: taken, and it lands with the phrase.
    browser.click("button.start[data-plan='incident-data-collection']");
    browser.wait_text("#title", "the opening", |t| t == "Opening phrase");
    let first = server.get("/v1/session")["segments"][0]["title"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        browser.text("#next").as_deref(),
        Some(format!("Next: {first}").as_str()),
        "during the opening, what comes next is the first segment"
    );
    browser.click("#btn-pause");
    browser.wait_text("#state", "paused once the opening landed", |t| {
        t == "Paused"
    });
    assert_ne!(
        browser.attr("#message", "data-kind").as_deref(),
        Some("error"),
        "{:?}",
        browser.text("#message")
    );
    assert_eq!(browser.text("#title").as_deref(), Some(first.as_str()));

    // The facilitator's message to the room.
    browser.js(
        "document.getElementById('room-text').value = arguments[0];",
        json!(["Back at 10:40"]),
    );
    browser.click("#room-send");
    browser.wait_text("#room-message", "the message", |t| t == "Back at 10:40");
    assert_eq!(
        server.get("/v1/room/message")["text"],
        "Back at 10:40",
        "the server keeps it"
    );

    // The projector's view.
    browser.goto(&format!("{}present", server.url()));
    browser.wait_text("#connection", "live", |t| t == "live");
    browser.wait_text("#room-message", "the message", |t| t == "Back at 10:40");
    browser.wait_text("#title", "the segment", |t| t == first);
    for shown in ["#time-left", "#wheel", "#next", "#title"] {
        assert!(
            browser.visible(shown),
            "{shown} is on the presentation view"
        );
    }
    let controls = browser.js(
        "return [...document.querySelectorAll('button, input, select, textarea')]
           .filter((el) => el.offsetParent !== null && !el.closest('[hidden], dialog'))
           .map((el) => el.id || el.className || el.tagName);",
        json!([]),
    );
    assert_eq!(controls, json!([]), "no control is visible on /present");
    // A new message from elsewhere shows at once.
    server.put(
        "/v1/room/message",
        &json!({"text": "Ana has the pager", "by": "ops"}),
    );
    browser.wait_text("#room-message", "the new message", |t| {
        t == "Ana has the pager"
    });
    // Bad input is refused and changes nothing.
    let refused = server.send(
        reqwest::Method::PUT,
        "/v1/room/message",
        Some(&json!({"text": "\u{1b}]0;x\u{7}"})),
    );
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(server.get("/v1/room/message")["text"], "Ana has the pager");
}

/// Issue 12: a session that ends comes first on the page with its debrief; the history
/// runs it again, or makes a new plan of its actual timings; a plan can be rehearsed at
/// ×60 from the picker.
#[test]
fn a_finished_session_shows_its_debrief_first_and_the_history_runs_it_again() {
    let server = Server::start(0);
    let driver = Driver::start();
    let browser = Browser::open(&driver);
    browser.goto(&server.url());
    browser.wait_text("#connection", "live", |t| t == "live");
    assert!(browser.visible("#history-empty"), "no sessions yet");

    // Rehearse a plan at x60 from the picker: one minute a second.
    browser.js(
        "const s = document.getElementById('speed'); s.value = '60'; s.dispatchEvent(new Event('change'));",
        json!([]),
    );
    browser.click("button.start[data-plan='practice-of-practice']");
    browser.wait_text("#state", "the session", |t| !t.is_empty() && t != "idle");
    assert_eq!(server.get("/v1/session")["speed"], 60.0);
    server.post("/v1/session/stop", &json!({}));

    // The page's result comes before the plans, with the debrief open.
    let debrief = browser.wait_text(
        "#history-list li:first-child .debrief-text",
        "the debrief",
        |t| t.starts_with("# Debrief"),
    );
    let session = server.get("/v1/history")["sessions"][0].clone();
    assert!(
        debrief.contains(session["plan"].as_str().unwrap()),
        "{debrief}"
    );
    let order = browser.js(
        "const h = document.getElementById('history'), p = document.getElementById('picker');
         return !!(h.compareDocumentPosition(p) & Node.DOCUMENT_POSITION_FOLLOWING);",
        json!([]),
    );
    assert_eq!(order, true, "the finished session comes before the plans");
    assert_eq!(
        browser
            .attr("#history-list li:first-child", "data-session")
            .as_deref(),
        session["id"].as_str()
    );

    // A new plan from its actual timings, listed with the plans to start.
    browser.click("#history-list li:first-child button.plan-from-actual");
    let saved = wait_for("the saved plan", || {
        let plans = server.get("/v1/plans");
        plans
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["template"] == false)
            .map(|p| p["id"].as_str().unwrap().to_owned())
    });
    assert!(saved.ends_with("-actual"), "{saved}");
    wait_for("its start button", || {
        browser
            .visible(&format!("button.start[data-plan='{saved}']"))
            .then_some(())
    });

    // Run it again: the same plan starts.
    browser.click("#history-list li:first-child button.run-again");
    wait_for("the session again", || {
        let status = server.get("/v1/status");
        (status["session"]["state"] != "finished" && status["session"]["id"] != session["id"])
            .then_some(())
    });
    assert_eq!(server.get("/v1/session")["plan"], session["plan"]);
}

/// Issue 12: a facilitator writes a plan in the editor — a mistake is shown on the field
/// it concerns — saves it, sees its segments on its card, and runs it.
#[test]
fn a_plan_written_in_the_editor_is_saved_and_runs() {
    let server = Server::start(0);
    let driver = Driver::start();
    let browser = Browser::open(&driver);
    browser.goto(&server.url());
    browser.wait_text("#connection", "live", |t| t == "live");

    browser.click("#new-plan");
    assert!(browser.visible("#editor"));
    assert!(
        !browser.visible("#plans"),
        "the editor replaces the plan cards"
    );
    let fill = |css: &str, value: &str| {
        browser.js(
            "const el = document.querySelector(arguments[0]); el.value = arguments[1];
             el.dispatchEvent(new Event('input'));",
            json!([css, value]),
        );
    };
    fill("#plan-id", "standup-drill");
    fill("#plan-title", "Stand-up drill");
    fill(".edit-segment:nth-child(1) [data-field='title']", "Talk");
    fill(".edit-segment:nth-child(1) [data-field='duration']", "0s");
    browser.click("#add-segment");
    fill(".edit-segment:nth-child(2) [data-field='title']", "Decide");
    fill(".edit-segment:nth-child(2) [data-field='duration']", "2m");
    fill(".edit-segment:nth-child(2) [data-field='warnings']", "1m");
    fill(
        ".edit-segment:nth-child(2) [data-field='entries']",
        "Ship it\nWait a week\n",
    );
    fill(
        ".edit-segment:nth-child(2) [data-field='draw']",
        "without-repetition",
    );
    fill(
        ".edit-segment:nth-child(2) [data-field='rotation']",
        "Ana\nBudi",
    );
    browser.click("#editor-save");

    // The server's reason, on the first segment's duration.
    let said = browser.wait_text(
        ".edit-segment:nth-child(1) .field-error[data-error='duration']",
        "the duration's problem",
        |t| !t.is_empty(),
    );
    assert!(said.contains("zero"), "{said}");
    assert_eq!(
        browser
            .attr(
                ".edit-segment:nth-child(1) [data-field='duration']",
                "aria-invalid"
            )
            .as_deref(),
        Some("true")
    );
    assert!(
        server
            .send(reqwest::Method::GET, "/v1/plans/standup-drill", None)
            .status
            == 404,
        "nothing was saved"
    );

    // Fixed, reordered, saved.
    fill(".edit-segment:nth-child(1) [data-field='duration']", "1m");
    browser.click(".edit-segment:nth-child(2) button.move-up");
    browser.click("#editor-save");
    wait_for("the saved plan's card", || {
        browser
            .visible("button.start[data-plan='standup-drill']")
            .then_some(())
    });
    let saved = server.get("/v1/plans/standup-drill");
    assert_eq!(saved["name"], "Stand-up drill");
    assert_eq!(saved["segments"][0]["title"], "Decide");
    assert_eq!(saved["segments"][0]["warnings"], json!(["1m"]));
    assert_eq!(
        saved["segments"][0]["entries"],
        json!(["Ship it", "Wait a week"])
    );
    assert_eq!(saved["segments"][0]["draw"], "without-repetition");
    assert_eq!(saved["segments"][0]["rotation"], json!(["Ana", "Budi"]));
    assert_eq!(saved["segments"][1]["title"], "Talk");

    // Its segments before it starts, then it runs.
    browser.click(".plan:has(button.start[data-plan='standup-drill']) .peek summary");
    let peek = browser.wait_text(
        ".plan:has(button.start[data-plan='standup-drill']) .peek ol",
        "its segments",
        |t| t.contains("Talk"),
    );
    assert!(peek.contains("Decide · 2m"), "{peek}");
    browser.click("button.start[data-plan='standup-drill']");
    browser.wait_text("#title", "its first segment", |t| t == "Decide");
    assert_eq!(server.get("/v1/session")["plan"], "Stand-up drill");
}

/// Issue 12: a segment's wheel spun from the page lands on the entry the server picked —
/// on screen as the server's landing gong sounds — and the rotation, −1 min, a time left
/// typed in, and a jump from the plan table all work from the page.
#[test]
fn a_spin_lands_on_the_servers_pick_and_time_and_jumps_steer_from_the_page() {
    let server = Server::start(0);
    let plan = json!({
        "name": "Wheel drill",
        "segments": [
            {"title": "Scenario", "duration": "10m",
             "entries": ["Disk full", "DNS", "Expired certificate", "Noisy neighbour", "Lost quorum"],
             "rotation": ["Ana", "Budi", "Citra"]},
            {"title": "Investigate", "duration": "10m"},
            {"title": "Debrief", "duration": "5m"}
        ]
    });
    let saved = server.send(reqwest::Method::PUT, "/v1/plans/wheel-drill", Some(&plan));
    assert_eq!(saved.status, 201, "{}", saved.body);
    let driver = Driver::start();
    let browser = Browser::open(&driver);
    browser.goto(&server.url());
    browser.wait_text("#connection", "live", |t| t == "live");
    // Every stroke of a spin, as the server plays it.
    browser.js(
        "window.spinStrokes = [];
         const events = new EventSource('/v1/events');
         events.addEventListener('stroke', (e) => {
           const stroke = JSON.parse(e.data);
           if (stroke.kind.type === 'spin') window.spinStrokes.push(stroke);
         });",
        json!([]),
    );
    browser.click("button.start[data-plan='wheel-drill']");
    browser.wait_text("#title", "the first segment", |t| t == "Scenario");
    let turn = browser.wait_text("#turn", "whose turn", |t| !t.is_empty());
    assert_eq!(turn, "Ana's turn (1 of 3) · then Budi");
    assert!(browser.visible("#spin-box"), "the segment's wheel is shown");
    let slices = browser.js(
        "return [...document.querySelectorAll('#spin-disc .slice')].map((s) => s.dataset.entry);",
        json!([]),
    );
    assert_eq!(slices, plan["segments"][0]["entries"]);

    browser.click("#btn-spin");
    let spin = wait_for("the server's pick", || {
        let last = server.get("/v1/session")["wheel"]["last"].clone();
        last.is_object().then_some(last)
    });
    let pick = spin["entry"].as_str().unwrap().to_owned();
    let index = spin["index"].as_u64().unwrap();
    let land = spin["land_seconds"].as_f64().unwrap();
    assert!((land - spin["start_seconds"].as_f64().unwrap() - 5.0).abs() < 1e-6);
    // On screen: the wheel stops on the pick, and not before the server's landing.
    browser.wait_text("#spin-result", "the pick", |t| t == pick);
    let heard = server.get("/v1/session")["now"]["seconds"]
        .as_f64()
        .unwrap();
    assert!(
        heard >= land - 0.25,
        "the page showed the pick at {heard} s, before the landing at {land} s"
    );
    assert_eq!(
        browser.attr("#spin-wheel", "data-landed"),
        Some(index.to_string())
    );
    let position: f64 = browser
        .attr("#spin-wheel", "data-position")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        position, index as f64,
        "the disc stops with the pick under the pointer"
    );
    assert_eq!(
        browser
            .attr("#spin-disc .slice.landed", "data-entry")
            .as_deref(),
        Some(pick.as_str())
    );
    // In sound: the run's last strokes, the bonang and the gong, at the landing instant.
    let landing = wait_for("the landing gong on the stream", || {
        let strokes = browser.js(
            "return window.spinStrokes.filter((s) => s.kind.landing);",
            json!([]),
        );
        (strokes.as_array().unwrap().len() == 2).then_some(strokes)
    });
    for stroke in landing.as_array().unwrap() {
        assert!(
            (stroke["seconds"].as_f64().unwrap() - land).abs() < 1e-6,
            "{stroke}"
        );
    }
    assert_eq!(landing[1]["instrument"], "gong");
    let log = browser.text("#log").unwrap();
    assert!(log.contains(&format!("The wheel picked {pick}")), "{log}");
    assert!(log.contains("The wheel spins (by page)"), "{log}");

    // −1 min, then a time left typed in; a time that is not one changes nothing.
    let before = server.get("/v1/session")["remaining_seconds"]
        .as_f64()
        .unwrap();
    browser.click("#btn-shorten1");
    wait_for("a minute less", || {
        let left = server.get("/v1/session")["remaining_seconds"]
            .as_f64()
            .unwrap();
        (left < before - 55.0 && left > before - 65.0).then_some(())
    });
    let set = |text: &str| {
        browser.js(
            "document.getElementById('time-text').value = arguments[0];",
            json!([text]),
        );
        browser.click("#time-send");
    };
    set("soon");
    browser.wait_text("#time-error", "why not", |t| t.contains("not a time"));
    set("2:00");
    browser.wait_text("#time-left", "two minutes", |t| {
        t == "2:00" || t.starts_with("1:5")
    });
    let left = server.get("/v1/session")["remaining_seconds"]
        .as_f64()
        .unwrap();
    assert!((110.0..=120.0).contains(&left), "{left}");

    // A jump from the plan table, past the next segment.
    browser.click("#segments button.jump[data-segment='2']");
    browser.wait_text("#title", "the jumped-to segment", |t| t == "Debrief");
    assert!(!browser.visible("#spin-box"), "the debrief has no wheel");
    assert!(!browser.visible("#turn"), "nor a rotation");

    // The journal keeps the pick, who spun, and the jump.
    let id = server.get("/v1/session")["id"].as_str().unwrap().to_owned();
    let history = server.get(&format!("/v1/history/{id}"));
    let details: Vec<(String, String)> = history["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["actor"].as_str().unwrap_or_default().to_owned(),
                l["detail"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    for wanted in [
        format!("spin → \"{pick}\""),
        "time left 2:00".to_owned(),
        "jump to 3 \"Debrief\"".to_owned(),
    ] {
        assert!(
            details.contains(&("page".to_owned(), wanted.clone())),
            "{wanted} by page in {details:?}"
        );
    }
}

mod listener;
