//! Issue 11: sound packs brought to a running server (`PUT /v1/packs/{name}`), deleted,
//! installed with `gongan pack install`, and played. The malicious archives are built here
//! with the same crates the server reads them with (and, where those refuse to write
//! something, with the header set by hand), so each case can be read in the code.

use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use hyper::Method;
use serde_json::{Value, json};
use tar::EntryType;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zip::write::SimpleFileOptions;

use crate::cli_support::{error_line, gongan, gongan_with, stdout};
use crate::http_support::{PATIENCE, Reply, TestServer, problem};
use crate::support::read_wav;

const RATE: u32 = 48_000;
/// The airhorn's pitch: a square wave anyone would tell from a gong.
const AIRHORN_HZ: f32 = 440.0;

/// A float WAV of `samples` (mono).
fn wav(samples: &[f32]) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut bytes = Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut bytes, spec).unwrap();
    for sample in samples {
        writer.write_sample(*sample).unwrap();
    }
    writer.finalize().unwrap();
    bytes.into_inner()
}

/// Half a second of a 440 Hz square wave, fading out.
fn airhorn() -> Vec<u8> {
    let frames = RATE as usize / 2;
    let samples: Vec<f32> = (0..frames)
        .map(|i| {
            let phase = (i as f32 * AIRHORN_HZ / RATE as f32).fract();
            let fade = 1.0 - i as f32 / frames as f32;
            if phase < 0.5 { 0.5 * fade } else { -0.5 * fade }
        })
        .collect();
    wav(&samples)
}

/// A team's pack: an `airhorn` of its own, and the gong replaced by the same sound (so a
/// rendered session strikes it). `extra` instruments are added as more names for it.
fn team_pack(name: &str, extra: &[&str]) -> Vec<(String, Vec<u8>)> {
    let mut manifest = format!(
        "name = \"{name}\"\ndescription = \"An office's sounds\"\nauthor = \"The team\"\nlicence = \"CC0-1.0\"\n\n\
         [instruments.airhorn]\nfile = \"sounds/airhorn.wav\"\n\n\
         [instruments.gong]\nfile = \"sounds/airhorn.wav\"\n"
    );
    for instrument in extra {
        manifest.push_str(&format!(
            "\n[instruments.{instrument}]\nfile = \"sounds/airhorn.wav\"\n"
        ));
    }
    vec![
        ("pack.toml".to_owned(), manifest.into_bytes()),
        ("sounds/airhorn.wav".to_owned(), airhorn()),
    ]
}

/// One tar entry, name written as is.
struct Raw {
    name: String,
    kind: EntryType,
    data: Vec<u8>,
    link: Option<&'static str>,
}

impl Raw {
    fn file(name: &str, data: &[u8]) -> Raw {
        Raw {
            name: name.to_owned(),
            kind: EntryType::Regular,
            data: data.to_vec(),
            link: None,
        }
    }

    fn special(name: &str, kind: EntryType, link: Option<&'static str>) -> Raw {
        Raw {
            name: name.to_owned(),
            kind,
            data: Vec::new(),
            link,
        }
    }
}

/// A tar of `entries`, names and types set in the header directly (the `tar` crate's
/// path setters refuse `..`, as they should).
fn tar(entries: &[Raw]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        header.as_old_mut().name[..entry.name.len()].copy_from_slice(entry.name.as_bytes());
        header.set_entry_type(entry.kind);
        header.set_size(entry.data.len() as u64);
        header.set_mode(0o644);
        if let Some(link) = entry.link {
            header.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
        header.set_cksum();
        builder.append(&header, entry.data.as_slice()).unwrap();
    }
    builder.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A tar.gz of `files` inside the folder `top` (or at the root).
fn tar_gz(files: &[(String, Vec<u8>)], top: Option<&str>) -> Vec<u8> {
    let prefix = top.map_or(String::new(), |t| format!("{t}/"));
    let raw: Vec<Raw> = files
        .iter()
        .map(|(name, data)| Raw::file(&format!("{prefix}{name}"), data))
        .collect();
    gzip(&tar(&raw))
}

fn zip_options() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644)
}

/// A zip of `files`, deflated.
fn zip_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in files {
        writer.start_file(name.as_str(), zip_options()).unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// A zip holding `pack.toml` and an entry `name` of `size` zeros: a few KiB for any size.
fn zip_bomb(size: u64) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    writer.start_file("pack.toml", zip_options()).unwrap();
    writer.write_all(b"name = 'bomb'\n").unwrap();
    let options = zip_options().large_file(size > u64::from(u32::MAX));
    writer.start_file("sounds/gong.wav", options).unwrap();
    std::io::copy(&mut std::io::repeat(0).take(size), &mut writer).unwrap();
    writer.finish().unwrap().into_inner()
}

async fn put(server: &TestServer, name: &str, bytes: Vec<u8>, media_type: &str) -> Reply {
    server
        .send(
            Method::PUT,
            &format!("/v1/packs/{name}"),
            &[("content-type", media_type)],
            bytes,
        )
        .await
}

/// Every path under `dir` with its size, sorted, leaving out the database (the journal
/// writes it on its own schedule).
fn snapshot(dir: &Path) -> Vec<(String, u64)> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<(String, u64)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let entry = entry.unwrap();
            let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
            if name.contains(gongan::store::db::FILE_NAME) {
                continue;
            }
            let metadata = std::fs::symlink_metadata(entry.path()).unwrap();
            out.push((name.clone(), metadata.len()));
            if metadata.is_dir() {
                walk(&entry.path(), &format!("{name}/"), out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out);
    out.sort();
    out
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn pack_ids(list: &Reply) -> Vec<String> {
    list.json
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A server whose data dir is `outer/data`, so a test can check that nothing appears
/// beside the data dir either.
async fn server_in(outer: &Path) -> TestServer {
    let data = outer.join("data");
    TestServer::start_with(move |config| config.data_dir = data).await
}

/// One malicious upload: what it is, its bytes and media type, and the answer it must
/// get: status, problem type, and a part of the detail (naming the entry).
type Case = (
    &'static str,
    Vec<u8>,
    &'static str,
    u16,
    &'static str,
    &'static str,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_11_malicious_archives_are_refused_by_name_and_leave_nothing_behind() {
    let outer = tempfile::tempdir().unwrap();
    let server = server_in(outer.path()).await;
    // A pack already there, which nothing below may touch.
    let reply = put(
        &server,
        "team",
        tar_gz(&team_pack("team", &[]), None),
        "application/gzip",
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let before = snapshot(outer.path());
    assert!(before.iter().any(|(p, _)| p == "data/packs/team/pack.toml"));

    let manifest = b"name = \"evil\"\n[instruments.gong]\nfile = \"gong.wav\"\n".to_vec();
    let good = || Raw::file("pack.toml", &manifest);
    let gong = airhorn();
    let evil_tar = |bad: Raw| gzip(&tar(&[good(), Raw::file("gong.wav", &gong), bad]));
    let many: Vec<Raw> = (0..10_000)
        .map(|i| Raw::file(&format!("sounds/{i}.wav"), b""))
        .collect();
    let mut many_zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..10_000 {
        many_zip
            .start_file(format!("sounds/{i}.wav"), zip_options())
            .unwrap();
    }
    let many_zip = many_zip.finish().unwrap().into_inner();
    let mut linked_zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    linked_zip.start_file("pack.toml", zip_options()).unwrap();
    linked_zip.write_all(&manifest).unwrap();
    linked_zip
        .add_symlink("gong.wav", "/etc/passwd", zip_options())
        .unwrap();
    let linked_zip = linked_zip.finish().unwrap().into_inner();
    let slipped_zip = zip_of(&[
        ("pack.toml".to_owned(), manifest.clone()),
        ("sounds/../../../../escaped.wav".to_owned(), gong.clone()),
    ]);
    let doubled_zip = zip_of(&[
        ("pack.toml".to_owned(), manifest.clone()),
        ("gong.wav".to_owned(), gong.clone()),
        ("./Gong.wav".to_owned(), gong.clone()),
    ]);
    let whole = tar_gz(&team_pack("cut", &[]), Some("cut"));
    let truncated = whole[..whole.len() / 2].to_vec();
    let missing = tar_gz(
        &[(
            "pack.toml".to_owned(),
            b"name = \"m\"\n[instruments.airhorn]\nfile = \"sounds/missing.wav\"\n".to_vec(),
        )],
        None,
    );
    // 300 MiB of zeros in a tar.gz of a few hundred KiB: its header declares the size.
    let tar_bomb = {
        let mut header = tar::Header::new_gnu();
        header.set_path("sounds/gong.wav").unwrap();
        header.set_size(300 << 20);
        header.set_mode(0o644);
        header.set_cksum();
        let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
        builder
            .append(&header, std::io::repeat(0).take(300 << 20))
            .unwrap();
        builder.into_inner().unwrap().finish().unwrap()
    };

    let cases: Vec<Case> = vec![
        (
            "zip slip in a tar.gz",
            evil_tar(Raw::file("../../../escaped.wav", b"x")),
            "application/gzip",
            422,
            "bad-archive",
            "entry '../../../escaped.wav': a path outside the pack",
        ),
        (
            "zip slip in a zip",
            slipped_zip,
            "application/zip",
            422,
            "bad-archive",
            "entry 'sounds/../../../../escaped.wav': a path outside the pack",
        ),
        (
            "an absolute path",
            evil_tar(Raw::file("/tmp/gongan-escaped.wav", b"x")),
            "application/x-tar",
            422,
            "bad-archive",
            "entry '/tmp/gongan-escaped.wav': an absolute path",
        ),
        (
            "a symlink in a tar",
            gzip(&tar(&[
                good(),
                Raw::special("gong.wav", EntryType::Symlink, Some("/etc/passwd")),
            ])),
            "application/gzip",
            422,
            "bad-archive",
            "entry 'gong.wav': a symbolic link",
        ),
        (
            "a symlink in a zip",
            linked_zip,
            "application/zip",
            422,
            "bad-archive",
            "entry 'gong.wav': a symbolic link",
        ),
        (
            "a hard link",
            evil_tar(Raw::special(
                "more.wav",
                EntryType::Link,
                Some("/etc/passwd"),
            )),
            "application/gzip",
            422,
            "bad-archive",
            "entry 'more.wav': a hard link",
        ),
        (
            "a character device",
            evil_tar(Raw::special("zero.wav", EntryType::Char, None)),
            "application/gzip",
            422,
            "bad-archive",
            "entry 'zero.wav': a device file",
        ),
        (
            "duplicate names in a tar",
            evil_tar(Raw::file("gong.wav", b"again")),
            "application/gzip",
            422,
            "bad-archive",
            "entry 'gong.wav': a second entry of the same name",
        ),
        (
            "duplicate names in a zip, after normalising",
            doubled_zip,
            "application/zip",
            422,
            "bad-archive",
            "entry './Gong.wav': a second entry of the same name",
        ),
        (
            "10 000 entries in a tar.gz",
            gzip(&tar(&many)),
            "application/gzip",
            413,
            "archive-too-large",
            "more than 1000 entries",
        ),
        (
            "10 000 entries in a zip",
            many_zip,
            "application/zip",
            413,
            "archive-too-large",
            "more than 1000 entries",
        ),
        (
            "a zip bomb declaring 300 MiB",
            zip_bomb(300 << 20),
            "application/zip",
            413,
            "archive-too-large",
            "entry 'sounds/gong.wav': declares 300 MiB",
        ),
        (
            "a zip bomb expanding a thousandfold within the cap",
            zip_bomb(50 << 20),
            "application/zip",
            413,
            "archive-too-large",
            "entry 'sounds/gong.wav': would expand from",
        ),
        (
            "a tar.gz bomb",
            tar_bomb,
            "application/gzip",
            413,
            "archive-too-large",
            "entry 'sounds/gong.wav': declares 300 MiB",
        ),
        (
            "a truncated tar.gz",
            truncated,
            "application/gzip",
            422,
            "bad-archive",
            "the archive is damaged or cut short",
        ),
        (
            "a pack.toml naming a missing file",
            missing,
            "application/gzip",
            422,
            "pack-does-not-load",
            "pack 'evil' does not load: pack.toml: instrument `airhorn`: file \"sounds/missing.wav\" does not exist",
        ),
        (
            "not an archive at all",
            br#"{"name": "not a pack"}"#.to_vec(),
            "application/octet-stream",
            422,
            "bad-archive",
            "not a tar, tar.gz or zip archive (it starts with the bytes 7b 22 6e 61",
        ),
        (
            "an empty body",
            Vec::new(),
            "application/octet-stream",
            422,
            "bad-archive",
            "not a tar, tar.gz or zip archive (it starts with nothing: it is empty)",
        ),
        (
            "JSON instead of an archive",
            b"{}".to_vec(),
            "application/json",
            415,
            "unsupported-media-type",
            "application/gzip",
        ),
    ];
    for (case, bytes, media_type, status, slug, expected) in cases {
        assert!(bytes.len() < 16 << 20, "{case}: {} bytes", bytes.len());
        let reply = put(&server, "evil", bytes, media_type).await;
        assert_eq!(reply.status.as_u16(), status, "{case}: {}", reply.text);
        let detail = problem(&reply, status, slug);
        assert!(detail.contains(expected), "{case}: {detail}");
        assert!(
            !detail.contains(".gongan-"),
            "{case}: names a temporary: {detail}"
        );
        assert_eq!(snapshot(outer.path()), before, "{case} left something");
    }
    assert!(!Path::new("/tmp/gongan-escaped.wav").exists());

    // Refused before a byte is read: a name that cannot name a pack, a built-in pack.
    let reply = put(&server, "Bad_Name", Vec::new(), "application/gzip").await;
    assert!(problem(&reply, 422, "invalid").contains("'Bad_Name' cannot name a pack"));
    let reply = put(
        &server,
        "default",
        tar_gz(&team_pack("d", &[]), None),
        "application/gzip",
    )
    .await;
    let detail = problem(&reply, 409, "pack-is-read-only");
    assert!(
        detail.contains("'default' is built into gongan"),
        "{detail}"
    );
    assert_eq!(snapshot(outer.path()), before);
    assert_eq!(
        pack_ids(&server.get("/v1/packs").await),
        ["default", "bali", "team"]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_11_a_body_over_the_upload_cap_is_refused_and_leaves_nothing() {
    let outer = tempfile::tempdir().unwrap();
    let data = outer.path().join("data");
    let server = TestServer::start_with(move |config| {
        config.data_dir = data;
        config.pack_upload_limit = 1 << 20;
    })
    .await;
    let before = snapshot(outer.path());
    // Declared too large: 413 before the body is read (only the headers are sent).
    let answer = server
        .answer_to_declared("PUT", "/v1/packs/big", "application/gzip", (1 << 20) + 1)
        .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("urn:gongan:problem:too-large"), "{answer}");

    // Chunked, no length: streamed to a temporary file and cut off at the cap. The
    // client sends one byte past the cap and waits, so the server has read all it was sent
    // when it answers.
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();
    let head = format!(
        "PUT /v1/packs/big HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/gzip\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n",
        server.port,
        2 << 20
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut body = vec![0x1fu8, 0x8b];
    body.resize((1 << 20) + 1, 0);
    stream.write_all(&body).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answer))
        .await
        .expect("the 413 comes once the cap is passed")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("1 MiB upload cap (pack_upload_limit"),
        "{answer}"
    );
    assert_eq!(
        snapshot(outer.path()),
        before,
        "the partial upload was left"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_11_an_uploaded_pack_is_listed_activated_and_its_own_instrument_played() {
    let server = TestServer::start().await;
    let uploads = [
        // A tar.gz of the pack's folder, as `tar czf team.tar.gz team/` makes it.
        (
            "team",
            tar_gz(&team_pack("team", &[]), Some("team")),
            "application/gzip",
        ),
        // A zip with the pack at its root, sent with the generic type.
        (
            "office",
            zip_of(&team_pack("office", &[])),
            "application/octet-stream",
        ),
    ];
    let mut events = server.events().await;
    for (gain_db, (name, bytes, media_type)) in [-1.0, -2.0].into_iter().zip(uploads) {
        let reply = put(&server, name, bytes, media_type).await;
        assert_eq!(reply.status, 201, "{name}: {}", reply.text);
        assert_eq!(reply.headers["content-type"], "application/json");
        assert_eq!(reply.json["id"], name);
        assert_eq!(reply.json["name"], name);
        assert_eq!(reply.json["author"], "The team");
        assert_eq!(reply.json["instruments"], 2);
        assert_eq!(reply.json["source"], "installed");
        assert_eq!(reply.json["active"], false);
        assert!(pack_ids(&server.get("/v1/packs").await).contains(&name.to_owned()));
        assert_eq!(
            names_in(&server.data.path().join("packs/").join(name)),
            ["pack.toml", "sounds"]
        );

        let active = server
            .post(&format!("/v1/packs/{name}/activate"), &json!({}))
            .await;
        assert_eq!(active.status, 200, "{}", active.text);
        assert_eq!(active.json["active"], true);
        let instruments = server.get("/v1/instruments").await;
        let names = |from_default: bool| -> Vec<&str> {
            instruments
                .json
                .as_array()
                .unwrap()
                .iter()
                .filter(|i| i["from_default"] == from_default)
                .map(|i| i["name"].as_str().unwrap())
                .collect()
        };
        assert_eq!(names(false), ["airhorn", "gong"]);
        // What it lacks is the default pack's, so a session's kenong still sounds.
        assert!(names(true).contains(&"kenong"), "{}", instruments.text);
        // Each pack's cue at its own level: identical cues within 150 ms are one stroke.
        let cue = server
            .post(
                "/v1/cues",
                &json!({"instrument": "airhorn", "gain_db": gain_db}),
            )
            .await;
        assert_eq!(cue.status, 202, "{}", cue.text);
        assert_eq!(cue.json["coalesced"], false);
        let id = cue.json["id"].as_u64().unwrap();
        let played = loop {
            let played = events.until("cue_played").await;
            if played["id"] == id {
                break played;
            }
        };
        assert_eq!(played["instrument"], "airhorn");
        // The default pack has no airhorn: once it is back, the cue is refused.
        let back = server.post("/v1/packs/default/activate", &json!({})).await;
        assert_eq!(back.status, 200);
        let refused = server
            .post("/v1/cues", &json!({"instrument": "airhorn"}))
            .await;
        assert_eq!(refused.status, 422);
    }
    assert!(
        names_in(&server.data.path().join("packs"))
            .iter()
            .all(|n| !n.starts_with('.')),
        "a temporary was left"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_11_a_pack_is_replaced_whole_and_the_active_pack_is_neither_replaced_nor_deleted() {
    let server = TestServer::start().await;
    let packs = server.data.path().join("packs");
    let first = put(
        &server,
        "team",
        tar_gz(&team_pack("team", &[]), None),
        "application/gzip",
    )
    .await;
    assert_eq!(first.status, 201);
    // The same name again: replaced (200), with the new manifest.
    let again = zip_of(&team_pack("team", &["pager"]));
    let replaced = put(&server, "team", again, "application/zip").await;
    assert_eq!(replaced.status, 200, "{}", replaced.text);
    assert_eq!(replaced.json["instruments"], 3);
    assert_eq!(
        names_in(&packs),
        ["team"],
        "the replaced pack or a temporary was left"
    );
    // A new version that does not load leaves the installed one as it was.
    let installed = snapshot(&packs);
    let broken = tar_gz(
        &[(
            "pack.toml".to_owned(),
            b"name = \"team\"\n[instruments]\n".to_vec(),
        )],
        None,
    );
    let reply = put(&server, "team", broken, "application/gzip").await;
    let detail = problem(&reply, 422, "pack-does-not-load");
    assert!(
        detail.contains("pack.toml: the pack has no instruments"),
        "{detail}"
    );
    assert_eq!(snapshot(&packs), installed);

    // Active: neither replaced nor deleted.
    let active = server.post("/v1/packs/team/activate", &json!({})).await;
    assert_eq!(active.status, 200);
    let reply = put(
        &server,
        "team",
        tar_gz(&team_pack("team", &[]), None),
        "application/gzip",
    )
    .await;
    let detail = problem(&reply, 409, "pack-is-active");
    assert!(detail.contains("activate another"), "{detail}");
    let reply = server
        .send(Method::DELETE, "/v1/packs/team", &[], Vec::new())
        .await;
    problem(&reply, 409, "pack-is-active");
    assert_eq!(snapshot(&packs), installed);
    let cue = server
        .post("/v1/cues", &json!({"instrument": "pager"}))
        .await;
    assert_eq!(cue.status, 202, "{}", cue.text);

    // Not active: deleted, and gone.
    assert_eq!(
        server
            .post("/v1/packs/default/activate", &json!({}))
            .await
            .status,
        200
    );
    let reply = server
        .send(Method::DELETE, "/v1/packs/team", &[], Vec::new())
        .await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert!(reply.text.is_empty());
    assert_eq!(
        pack_ids(&server.get("/v1/packs").await),
        ["default", "bali"]
    );
    assert!(names_in(&packs).is_empty(), "{:?}", names_in(&packs));
    let reply = server
        .send(Method::DELETE, "/v1/packs/team", &[], Vec::new())
        .await;
    problem(&reply, 404, "no-such-pack");
    let reply = server.post("/v1/packs/team/activate", &json!({})).await;
    problem(&reply, 404, "no-such-pack");
    let reply = server
        .send(Method::DELETE, "/v1/packs/default", &[], Vec::new())
        .await;
    problem(&reply, 409, "pack-is-read-only");
    let reply = server
        .send(Method::DELETE, "/v1/packs/..%2Fplans", &[], Vec::new())
        .await;
    problem(&reply, 404, "no-such-pack");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_11_uploads_need_the_token_and_a_same_origin() {
    let token = "0123456789abcdef0123";
    let server = TestServer::start_with(|config| {
        config.token = Some(gongan::config::Token::parse(token).unwrap());
    })
    .await;
    let bytes = tar_gz(&team_pack("team", &[]), None);
    let reply = put(&server, "team", bytes.clone(), "application/gzip").await;
    problem(&reply, 401, "unauthorized");
    let bearer = format!("Bearer {token}");
    let reply = server
        .send(
            Method::PUT,
            "/v1/packs/team",
            &[
                ("authorization", &bearer),
                ("content-type", "application/gzip"),
                ("origin", "http://evil.example"),
            ],
            bytes.clone(),
        )
        .await;
    problem(&reply, 403, "forbidden");
    let reply = server
        .send(
            Method::PUT,
            "/v1/packs/team",
            &[
                ("authorization", &bearer),
                ("content-type", "application/gzip"),
            ],
            bytes,
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    server.stop().await;
}

/// A pack folder on disk, as a team keeps it.
fn pack_folder(dir: &Path, name: &str) -> PathBuf {
    let folder = dir.join(name);
    for (file, data) in team_pack(name, &[]) {
        let path = folder.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    }
    folder
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_11_pack_install_installs_locally_and_uploads_to_a_server() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let data_arg = data.to_str().unwrap();

    // A folder, into the local data dir.
    let folder = pack_folder(work.path(), "Team_Sounds");
    let line = stdout(
        &gongan(&[
            "pack",
            "install",
            folder.to_str().unwrap(),
            "--data-dir",
            data_arg,
        ])
        .await,
    );
    assert!(
        line.starts_with("installed pack 'team-sounds' (2 instruments) in "),
        "{line}"
    );
    assert_eq!(names_in(&data.join("packs")), ["team-sounds"]);
    // An archive, under a name of its choosing; again: replaced.
    let archive = work.path().join("office.zip");
    std::fs::write(&archive, zip_of(&team_pack("office", &["pager"]))).unwrap();
    for verb in ["installed", "replaced"] {
        let line = stdout(
            &gongan(&[
                "pack",
                "install",
                archive.to_str().unwrap(),
                "--name",
                "office",
                "--data-dir",
                data_arg,
            ])
            .await,
        );
        assert!(
            line.starts_with(&format!("{verb} pack 'office' (3 instruments)")),
            "{line}"
        );
    }
    assert_eq!(names_in(&data.join("packs")), ["office", "team-sounds"]);

    // Errors: one line, a non-zero exit, nothing installed.
    let broken = pack_folder(work.path(), "broken");
    std::fs::remove_file(broken.join("sounds/airhorn.wav")).unwrap();
    let linked = pack_folder(work.path(), "linked");
    std::os::unix::fs::symlink("/etc/passwd", linked.join("sounds/passwd.wav")).unwrap();
    let not_archive = work.path().join("notes.txt");
    std::fs::write(&not_archive, "hello").unwrap();
    for (source, name, says) in [
        (
            &broken,
            None,
            "was not installed: pack 'broken' does not load: pack.toml: instrument `airhorn`: \
             file \"sounds/airhorn.wav\" does not exist",
        ),
        (&linked, None, "entry 'sounds/passwd.wav': a symbolic link"),
        (
            &not_archive,
            Some("notes"),
            "not a tar, tar.gz or zip archive",
        ),
        (&folder, Some("default"), "'default' is built into gongan"),
    ] {
        let mut args = vec!["pack", "install", source.to_str().unwrap()];
        if let Some(name) = name {
            args.extend(["--name", name]);
        }
        args.extend(["--data-dir", data_arg]);
        let line = error_line(&gongan(&args).await);
        assert!(line.contains(says), "{line}");
    }
    assert_eq!(names_in(&data.join("packs")), ["office", "team-sounds"]);

    // A server on that data dir starts with the installed pack and lists both.
    let server = {
        let data = data.clone();
        TestServer::start_with(move |config| {
            config.data_dir = data;
            config.pack = gongan::config::PackChoice::Installed("team-sounds".into());
        })
        .await
    };
    let list = server.get("/v1/packs").await;
    assert_eq!(
        pack_ids(&list),
        ["default", "bali", "office", "team-sounds"]
    );
    assert_eq!(list.json[3]["active"], true);
    let cue = server
        .post("/v1/cues", &json!({"instrument": "airhorn"}))
        .await;
    assert_eq!(cue.status, 202, "{}", cue.text);

    // --server: a folder (sent as a tar.gz made in memory) and an archive.
    let url = server.base.as_str();
    let line = stdout(
        &gongan(&[
            "pack",
            "install",
            folder.to_str().unwrap(),
            "--server",
            url,
            "--name",
            "uploaded",
        ])
        .await,
    );
    assert!(
        line.starts_with("installed pack 'uploaded' (2 instruments) on http://127.0.0.1:"),
        "{line}"
    );
    let line = stdout(
        &gongan(&[
            "pack",
            "install",
            archive.to_str().unwrap(),
            "--server",
            url,
        ])
        .await,
    );
    assert!(
        line.starts_with("replaced pack 'office' (3 instruments) on "),
        "{line}"
    );
    assert_eq!(
        pack_ids(&server.get("/v1/packs").await),
        ["default", "bali", "office", "team-sounds", "uploaded"]
    );
    let line =
        error_line(&gongan(&["pack", "install", folder.to_str().unwrap(), "--server", url]).await);
    assert!(
        line.contains("409") && line.contains("pack 'team-sounds' is the active pack"),
        "{line}"
    );
    let line =
        error_line(&gongan(&["pack", "install", linked.to_str().unwrap(), "--server", url]).await);
    assert!(
        line.contains("entry 'sounds/passwd.wav': a symbolic link"),
        "{line}"
    );
    server.stop().await;

    // With a token, from the environment as the other client commands take it.
    let token = "0123456789abcdef0123";
    let guarded = TestServer::start_with(|config| {
        config.token = Some(gongan::config::Token::parse(token).unwrap());
    })
    .await;
    let args = [
        "pack",
        "install",
        archive.to_str().unwrap(),
        "--server",
        guarded.base.as_str(),
    ];
    let line = error_line(&gongan(&args).await);
    assert!(line.contains("401"), "{line}");
    let line = stdout(&gongan_with(&args, &[("GONGAN_TOKEN", token)]).await);
    assert!(line.starts_with("installed pack 'office'"), "{line}");
    guarded.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_11_an_installed_pack_sounds_in_a_render() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let folder = pack_folder(work.path(), "team");
    stdout(
        &gongan(&[
            "pack",
            "install",
            folder.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ])
        .await,
    );
    let plan = work.path().join("plan.toml");
    std::fs::write(
        &plan,
        "name = \"short\"\n[[segments]]\ntitle = \"One\"\nduration = \"16s\"\nform = \"lancaran\"\n",
    )
    .unwrap();
    let out = work.path().join("out.wav");
    let strokes = work.path().join("strokes.json");
    let installed = data.join("packs/team");
    stdout(
        &gongan(&[
            "render",
            plan.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--events",
            strokes.to_str().unwrap(),
            "--pack",
            installed.to_str().unwrap(),
        ])
        .await,
    );
    let strokes: Value = serde_json::from_str(&std::fs::read_to_string(&strokes).unwrap()).unwrap();
    let gongs: Vec<usize> = strokes
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["instrument"] == "gong")
        .map(|s| s["frame"].as_u64().unwrap() as usize)
        .collect();
    assert!(!gongs.is_empty(), "{strokes}");
    let (samples, channels, rate) = read_wav(&out);
    assert_eq!(rate, RATE);
    let channels = usize::from(channels);
    // The left channel's level at 440 Hz over the tenth of a second from `frame`.
    let tone = |frame: usize| {
        let left: Vec<f32> = samples[frame * channels..]
            .iter()
            .step_by(channels)
            .take(RATE as usize / 10)
            .copied()
            .collect();
        at_frequency(&left, AIRHORN_HZ)
    };
    let late: Vec<&usize> = gongs.iter().filter(|&&f| f >= RATE as usize).collect();
    assert!(!late.is_empty(), "no gong past the first second: {gongs:?}");
    for frame in late {
        // The airhorn's fundamental rings from the stroke on; in the tenth of a second
        // before it (other instruments may sound there, or be silent) it does not.
        let (before, after) = (tone(frame - RATE as usize / 10), tone(*frame));
        assert!(
            after > 0.05 && after > 10.0 * before,
            "at the gong at frame {frame}: 440 Hz at {after} after, {before} before"
        );
    }
}

/// The amplitude of the `hz` component of `samples` (Goertzel; `hz` a whole number of
/// cycles in the window).
fn at_frequency(samples: &[f32], hz: f32) -> f32 {
    let w = std::f32::consts::TAU * hz / RATE as f32;
    let (mut re, mut im) = (0.0f32, 0.0f32);
    for (i, s) in samples.iter().enumerate() {
        re += s * (w * i as f32).cos();
        im -= s * (w * i as f32).sin();
    }
    2.0 * (re * re + im * im).sqrt() / samples.len() as f32
}
