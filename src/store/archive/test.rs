//! The archive rules, on archives built here with the same crates (and, for what those
//! crates refuse to write, with their headers set by hand).

use std::io::{Cursor, Write};
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use tar::EntryType;
use zip::write::SimpleFileOptions;

use super::*;

/// One tar entry: its name exactly as given (`..` and `/` included), type, data, link.
struct Raw<'a> {
    name: &'a str,
    kind: EntryType,
    data: &'a [u8],
    link: Option<&'a str>,
}

fn file<'a>(name: &'a str, data: &'a [u8]) -> Raw<'a> {
    Raw {
        name,
        kind: EntryType::Regular,
        data,
        link: None,
    }
}

fn of_kind(name: &str, kind: EntryType) -> Raw<'_> {
    Raw {
        name,
        kind,
        data: b"",
        link: None,
    }
}

fn tar(entries: &[Raw<'_>]) -> Vec<u8> {
    let mut builder = ::tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = ::tar::Header::new_gnu();
        // Written into the header directly: `set_path` refuses `..`, as it should.
        let name = entry.name.as_bytes();
        header.as_old_mut().name[..name.len()].copy_from_slice(name);
        header.set_entry_type(entry.kind);
        header.set_size(entry.data.len() as u64);
        header.set_mode(0o644);
        if let Some(link) = entry.link {
            header.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
        header.set_cksum();
        builder.append(&header, entry.data).unwrap();
    }
    builder.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = ::zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(::zip::CompressionMethod::Deflated)
        .unix_permissions(0o644);
    for (name, data) in entries {
        if name.ends_with('/') {
            writer.add_directory(*name, options).unwrap();
        } else {
            writer.start_file(*name, options).unwrap();
            writer.write_all(data).unwrap();
        }
    }
    writer.finish().unwrap().into_inner()
}

/// Unpacks `bytes` into a fresh folder, returning the folder with the result.
fn unpack_bytes(
    bytes: &[u8],
    limits: &Limits,
) -> (tempfile::TempDir, Result<Unpacked, ArchiveError>) {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    std::fs::write(&archive, bytes).unwrap();
    let into = dir.path().join("into");
    std::fs::create_dir(&into).unwrap();
    let result = unpack(&archive, &into, limits);
    (dir, result)
}

/// Every path under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
            out.push(name.clone());
            if entry.file_type().unwrap().is_dir() {
                walk(&entry.path(), &format!("{name}/"), out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out);
    out.sort();
    out
}

/// The refusal of an entry, asserting which entry was named.
#[track_caller]
fn refusal_of(result: Result<Unpacked, ArchiveError>, entry: &str) -> EntryRefusal {
    match result {
        Err(ArchiveError::Entry {
            entry: named,
            refusal,
        }) => {
            assert_eq!(named, entry);
            refusal
        }
        other => panic!("expected entry '{entry}' refused, got {other:?}"),
    }
}

const MANIFEST: &[u8] = b"name = 'x'\n";

#[test]
fn formats_are_read_from_the_bytes() {
    assert_eq!(Format::sniff(&tar(&[file("a", b"x")])), Some(Format::Tar));
    assert_eq!(Format::sniff(&gzip(b"anything")), Some(Format::TarGz));
    assert_eq!(Format::sniff(&zip(&[("a", b"x")])), Some(Format::Zip));
    assert_eq!(Format::sniff(b"{\"name\": \"pack\"}"), None);
    assert_eq!(
        Format::sniff(b"PK\x05\x06"),
        None,
        "an empty zip holds no pack"
    );
    assert_eq!(Format::sniff(b""), None);
    let (_dir, result) = unpack_bytes(b"RIFF\x24\x00\x00\x00WAVE", &Limits::default());
    assert_eq!(
        result.unwrap_err().to_string(),
        "not a tar, tar.gz or zip archive (it starts with the bytes 52 49 46 46 24 00 00 00)"
    );
}

#[test]
fn names_are_made_plain_relative_paths() {
    for (name, plain) in [
        ("pack.toml", Some("pack.toml")),
        ("./sounds//gong.wav", Some("sounds/gong.wav")),
        ("top\\sounds\\gong.wav", Some("top/sounds/gong.wav")),
        ("./", None),
        ("top/", Some("top")),
    ] {
        assert_eq!(normalise(name).unwrap().as_deref(), plain, "{name}");
    }
    for (name, refusal) in [
        ("../x.wav", EntryRefusal::Outside),
        ("sounds/../../x.wav", EntryRefusal::Outside),
        ("..\\x.wav", EntryRefusal::Outside),
        ("/etc/passwd", EntryRefusal::Absolute),
        ("C:/x.wav", EntryRefusal::Absolute),
        ("a\nb", EntryRefusal::BadName("with control characters")),
    ] {
        assert_eq!(normalise(name), Err(refusal), "{name}");
    }
    assert!(normalise(&"a/".repeat(600)).is_err());
}

fn listed(name: &str, kind: Kind, size: u64) -> Listed {
    Listed {
        name: name.to_owned(),
        path: normalise(name).unwrap(),
        kind,
        size,
        compressed: None,
    }
}

#[test]
fn the_pack_is_at_the_root_or_in_one_top_level_folder() {
    let limits = Limits::default();
    let at_root = [
        listed("pack.toml", Kind::File, 1),
        listed("gong.wav", Kind::File, 1),
    ];
    assert_eq!(plan(&at_root, &limits).unwrap().top, None);
    let in_folder = [
        listed("office/", Kind::Folder, 0),
        listed("office/pack.toml", Kind::File, 1),
        listed("office/sounds/gong.wav", Kind::File, 1),
        listed("__MACOSX/office/._gong.wav", Kind::File, 1),
        listed("office/.DS_Store", Kind::File, 1),
    ];
    let plan_ = plan(&in_folder, &limits).unwrap();
    assert_eq!(plan_.top.as_deref(), Some("office"));
    assert_eq!(plan_.unpack, [true, true, true, false, false]);
    for without in [
        &[
            listed("a/pack.toml", Kind::File, 1),
            listed("b/x", Kind::File, 1),
        ][..],
        &[listed("a/b/pack.toml", Kind::File, 1)][..],
        &[listed("gong.wav", Kind::File, 1)][..],
        &[][..],
    ] {
        assert!(matches!(
            plan(without, &limits),
            Err(ArchiveError::NoManifest)
        ));
    }
}

#[test]
fn names_that_collide_are_refused_naming_the_second() {
    let limits = Limits::default();
    let cases = [
        (["pack.toml", "./pack.toml"], EntryRefusal::Duplicate),
        (["Gong.wav", "gong.wav"], EntryRefusal::Duplicate),
        (["a", "a/b.wav"], EntryRefusal::FileFolderClash),
    ];
    for ([first, second], refusal) in cases {
        let entries = [listed(first, Kind::File, 1), listed(second, Kind::File, 1)];
        match plan(&entries, &limits) {
            Err(ArchiveError::Entry { entry, refusal: r }) => {
                assert_eq!((entry.as_str(), r), (second, refusal));
            }
            other => panic!("{first}, {second}: {other:?}"),
        }
    }
    // A folder named twice (explicitly, and as a file's parent) is fine.
    let folders = [
        listed("a/", Kind::Folder, 0),
        listed("a/pack.toml", Kind::File, 1),
        listed("./a/", Kind::Folder, 0),
    ];
    assert!(plan(&folders, &limits).is_ok());
}

#[test]
fn caps_apply_to_entries_and_declared_sizes() {
    let limits = Limits {
        entries: 3,
        bytes: 100,
        ratio: 100,
    };
    let many: Vec<Listed> = (0..4)
        .map(|i| listed(&format!("f{i}"), Kind::File, 1))
        .collect();
    assert!(matches!(
        plan(&many, &limits),
        Err(ArchiveError::TooManyEntries { limit: 3 })
    ));
    let big = [
        listed("pack.toml", Kind::File, 60),
        listed("gong.wav", Kind::File, 60),
    ];
    let error = plan(&big, &limits).unwrap_err();
    assert!(error.is_about_size());
    assert_eq!(
        error.to_string(),
        "the archive unpacks to more than the 100 bytes a pack may take (at entry 'gong.wav')"
    );
}

#[test]
fn a_tar_and_a_tar_gz_unpack_inside_the_folder() {
    let bytes = tar(&[
        of_kind("team/", EntryType::Directory),
        file("team/pack.toml", MANIFEST),
        file("team/sounds/gong.wav", b"RIFF"),
    ]);
    for archive in [bytes.clone(), gzip(&bytes)] {
        let (dir, result) = unpack_bytes(&archive, &Limits::default());
        let unpacked = result.unwrap();
        assert_eq!(unpacked.root, dir.path().join("into/team"));
        assert_eq!((unpacked.files, unpacked.bytes), (2, 15));
        assert_eq!(
            tree(&dir.path().join("into")),
            [
                "team",
                "team/pack.toml",
                "team/sounds",
                "team/sounds/gong.wav"
            ]
        );
        assert_eq!(
            std::fs::read(unpacked.root.join("pack.toml")).unwrap(),
            MANIFEST
        );
    }
}

#[test]
fn malicious_tar_entries_are_refused_by_name_before_anything_is_written() {
    let link = |name, kind, target| Raw {
        name,
        kind,
        data: b"",
        link: Some(target),
    };
    let cases = [
        (file("../x.wav", b"x"), EntryRefusal::Outside),
        (file("sounds/../../x.wav", b"x"), EntryRefusal::Outside),
        (file("/tmp/x.wav", b"x"), EntryRefusal::Absolute),
        (
            link("gong.wav", EntryType::Symlink, "/etc/passwd"),
            EntryRefusal::Symlink,
        ),
        (
            link("gong.wav", EntryType::Link, "pack.toml"),
            EntryRefusal::HardLink,
        ),
        (of_kind("zero", EntryType::Char), EntryRefusal::Device),
        (of_kind("disk", EntryType::Block), EntryRefusal::Device),
        (of_kind("pipe", EntryType::Fifo), EntryRefusal::Fifo),
    ];
    for (bad, refusal) in cases {
        let name = bad.name;
        // The bad entry comes last, so a writer that did not check first would have
        // written the others already.
        let bytes = tar(&[file("pack.toml", MANIFEST), file("gong.wav", b"RIFF"), bad]);
        let (dir, result) = unpack_bytes(&gzip(&bytes), &Limits::default());
        assert_eq!(refusal_of(result, name), refusal, "{name}");
        assert!(tree(&dir.path().join("into")).is_empty(), "{name}");
    }
    let bytes = tar(&[file("pack.toml", MANIFEST), file("pack.toml", b"again")]);
    let (dir, result) = unpack_bytes(&bytes, &Limits::default());
    assert_eq!(refusal_of(result, "pack.toml"), EntryRefusal::Duplicate);
    assert!(tree(&dir.path().join("into")).is_empty());
}

#[test]
fn a_tar_gz_bomb_stops_at_the_cap() {
    let limits = Limits {
        entries: 10,
        bytes: 1024 * 1024,
        ratio: 100,
    };
    // 4 MiB of zeros: the gzip is a few KiB.
    let zeros = vec![0u8; 4 * 1024 * 1024];
    let bytes = gzip(&tar(&[
        file("pack.toml", MANIFEST),
        file("gong.wav", &zeros),
    ]));
    assert!(bytes.len() < 16 * 1024, "{}", bytes.len());
    let (dir, result) = unpack_bytes(&bytes, &limits);
    let error = result.unwrap_err();
    assert!(error.is_about_size(), "{error}");
    assert!(error.to_string().contains("'gong.wav'"), "{error}");
    assert!(tree(&dir.path().join("into")).is_empty());
    // Many small entries past the cap, each within it: refused by the sum.
    let chunk = vec![0u8; 300 * 1024];
    let entries: Vec<String> = (0..5).map(|i| format!("s{i}.wav")).collect();
    let mut raw = vec![file("pack.toml", MANIFEST)];
    raw.extend(entries.iter().map(|n| file(n, &chunk)));
    let (_dir, result) = unpack_bytes(&gzip(&tar(&raw)), &limits);
    assert!(matches!(result, Err(ArchiveError::TooLarge { .. })));
}

#[test]
fn a_cut_short_archive_is_damaged_and_says_where() {
    let wav = vec![7u8; 64 * 1024];
    let whole = gzip(&tar(&[file("pack.toml", MANIFEST), file("gong.wav", &wav)]));
    let (_dir, result) = unpack_bytes(&whole[..whole.len() / 2], &Limits::default());
    let error = result.unwrap_err();
    assert!(matches!(error, ArchiveError::Damaged { .. }), "{error}");
    assert!(
        error
            .to_string()
            .starts_with("the archive is damaged or cut short"),
        "{error}"
    );
    let zipped = zip(&[("pack.toml", MANIFEST), ("gong.wav", &wav)]);
    let (_dir, result) = unpack_bytes(&zipped[..zipped.len() - 30], &Limits::default());
    assert!(matches!(result, Err(ArchiveError::Damaged { .. })));
}

#[test]
fn too_many_tar_entries_stop_the_listing() {
    let limits = Limits {
        entries: 50,
        ..Limits::default()
    };
    let names: Vec<String> = (0..60).map(|i| format!("f{i}")).collect();
    let raw: Vec<Raw<'_>> = names.iter().map(|n| file(n, b"")).collect();
    let (_dir, result) = unpack_bytes(&tar(&raw), &limits);
    assert_eq!(
        result.unwrap_err().to_string(),
        "the archive has more than 50 entries; a pack needs far fewer"
    );
}

#[test]
fn a_zip_unpacks_and_its_links_and_bombs_are_refused() {
    let bytes = zip(&[
        ("office/", b""),
        ("office/pack.toml", MANIFEST),
        ("office/gong.wav", b"RIFF"),
    ]);
    let (dir, result) = unpack_bytes(&bytes, &Limits::default());
    assert_eq!(result.unwrap().root, dir.path().join("into/office"));

    let mut writer = ::zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default();
    writer.start_file("pack.toml", options).unwrap();
    writer.write_all(MANIFEST).unwrap();
    writer
        .add_symlink("gong.wav", "/etc/passwd", options)
        .unwrap();
    let linked = writer.finish().unwrap().into_inner();
    let (dir, result) = unpack_bytes(&linked, &Limits::default());
    assert_eq!(refusal_of(result, "gong.wav"), EntryRefusal::Symlink);
    assert!(tree(&dir.path().join("into")).is_empty());

    // 8 MiB of zeros deflate to about 8 KiB: a thousandfold, refused from the listing.
    let zeros = vec![0u8; 8 * 1024 * 1024];
    let bomb = zip(&[("pack.toml", MANIFEST), ("gong.wav", &zeros)]);
    assert!(bomb.len() < 64 * 1024);
    let (dir, result) = unpack_bytes(&bomb, &Limits::default());
    let refusal = refusal_of(result, "gong.wav");
    assert!(
        matches!(refusal, EntryRefusal::Expansion { .. }),
        "{refusal}"
    );
    assert!(refusal.to_string().contains("a zip bomb"), "{refusal}");
    assert!(tree(&dir.path().join("into")).is_empty());
    // Over the cap by its declared size alone.
    let small = Limits {
        bytes: 1024 * 1024,
        ratio: 10_000,
        ..Limits::default()
    };
    let (_dir, result) = unpack_bytes(&bomb, &small);
    assert!(matches!(
        refusal_of(result, "gong.wav"),
        EntryRefusal::TooLarge { .. }
    ));
}

/// Sets the uncompressed size of entry `name` of `zip` to `size`, in its local and central
/// headers: a zip whose headers lie.
fn lie_about_size(zip: &mut [u8], name: &str, size: u32) {
    for at in 0..zip.len().saturating_sub(46 + name.len()) {
        // (size field, name field) offsets in a local and a central header.
        let (size_at, name_at) = match &zip[at..at + 4] {
            b"PK\x03\x04" => (22, 30),
            b"PK\x01\x02" => (24, 46),
            _ => continue,
        };
        if &zip[at + name_at..at + name_at + name.len()] == name.as_bytes() {
            zip[at + size_at..at + size_at + 4].copy_from_slice(&size.to_le_bytes());
        }
    }
}

#[test]
fn a_zip_entry_that_inflates_past_its_declared_size_is_cut_off() {
    let data = vec![0u8; 512 * 1024];
    let mut bytes = zip(&[("pack.toml", MANIFEST), ("gong.wav", &data)]);
    lie_about_size(&mut bytes, "gong.wav", 100);
    let (dir, result) = unpack_bytes(&bytes, &Limits::default());
    let error = result.unwrap_err();
    assert!(
        matches!(
            error,
            ArchiveError::Entry {
                refusal: EntryRefusal::LongerThanDeclared { .. },
                ..
            } | ArchiveError::Damaged { .. }
        ),
        "{error}"
    );
    // At most the declared size and one byte were written.
    let gong = dir.path().join("into/gong.wav");
    let written = std::fs::metadata(&gong).map_or(0, |m| m.len());
    assert!(written <= 101, "{written}");
}

#[test]
fn a_folder_is_written_as_a_tar_that_unpacks_the_same() {
    let pack = tempfile::tempdir().unwrap();
    std::fs::write(pack.path().join("pack.toml"), MANIFEST).unwrap();
    std::fs::create_dir(pack.path().join("sounds")).unwrap();
    std::fs::write(pack.path().join("sounds/gong.wav"), b"RIFF").unwrap();
    let bytes = write_tar(pack.path(), Vec::new(), &Limits::default()).unwrap();
    assert_eq!(Format::sniff(&bytes), Some(Format::Tar));
    let (dir, result) = unpack_bytes(&bytes, &Limits::default());
    assert_eq!(result.unwrap().root, dir.path().join("into"));
    assert_eq!(
        tree(&dir.path().join("into")),
        ["pack.toml", "sounds", "sounds/gong.wav"]
    );
    // The same folder makes the same tar.
    assert_eq!(
        write_tar(pack.path(), Vec::new(), &Limits::default()).unwrap(),
        bytes
    );
}

#[cfg(unix)]
#[test]
fn a_folder_with_a_link_or_a_fifo_is_refused_without_following_or_opening_it() {
    let pack = tempfile::tempdir().unwrap();
    std::fs::write(pack.path().join("pack.toml"), MANIFEST).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", pack.path().join("gong.wav")).unwrap();
    let error = write_tar(pack.path(), Vec::new(), &Limits::default()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "entry 'gong.wav': a symbolic link; a pack holds only files and folders"
    );
    std::fs::remove_file(pack.path().join("gong.wav")).unwrap();
    let fifo = std::ffi::CString::new(pack.path().join("pipe.wav").to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates the node.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    let error = write_tar(pack.path(), Vec::new(), &Limits::default()).unwrap_err();
    assert!(matches!(
        error,
        ArchiveError::Entry {
            refusal: EntryRefusal::Fifo,
            ..
        }
    ));
}
