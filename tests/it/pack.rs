//! Sound packs: loading real files, refusing malformed ones, `check` and `new`.

use std::path::{Path, PathBuf};

use gongan::audio::DEFAULT_SAMPLE_RATE;
use gongan::pack::decode::{AudioKind, decode_bytes, decode_file};
use gongan::pack::loudness::{TARGET_LOUDNESS_LUFS, loudness_lufs};
use gongan::pack::manifest::ManifestProblem;
use gongan::pack::{AudioError, Pack, PackError, check, inspect, scaffold, wav};
use proptest::prelude::*;

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(name)
}

/// How a test WAV stores its samples.
#[derive(Clone, Copy)]
enum Format {
    I16,
    I24,
    F32,
}

fn write_wav(path: &Path, rate: u32, channels: u16, format: Format, samples: &[f32]) {
    let (bits, sample_format) = match format {
        Format::I16 => (16, hound::SampleFormat::Int),
        Format::I24 => (24, hound::SampleFormat::Int),
        Format::F32 => (32, hound::SampleFormat::Float),
    };
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        match format {
            Format::I16 => writer.write_sample((s * 32_767.0) as i16).unwrap(),
            Format::I24 => writer.write_sample((s * 8_388_607.0) as i32).unwrap(),
            Format::F32 => writer.write_sample(s).unwrap(),
        }
    }
    writer.finalize().unwrap();
}

/// `frames` of a sine at `hz`, starting at its peak so the first sample is not zero.
fn cosine(hz: f32, amplitude: f32, rate: u32, frames: usize) -> Vec<f32> {
    (0..frames)
        .map(|i| amplitude * (std::f32::consts::TAU * hz * i as f32 / rate as f32).cos())
        .collect()
}

/// Sign changes in the first channel of `samples`.
fn zero_crossings(samples: &[f32], channels: usize) -> usize {
    let first: Vec<f32> = samples.iter().step_by(channels).copied().collect();
    first
        .windows(2)
        .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
        .count()
}

fn write_manifest(dir: &Path, instruments: &str) {
    std::fs::write(
        dir.join("pack.toml"),
        format!("name = \"test\"\n{instruments}"),
    )
    .unwrap();
}

/// A pack folder whose one instrument `x` is a copy of the corpus file `name`.
fn pack_with_corpus_file(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(corpus(name), dir.path().join(name)).unwrap();
    write_manifest(dir.path(), &format!("[instruments.x]\nfile = \"{name}\"\n"));
    dir
}

fn audio_error(path: &Path) -> AudioError {
    match decode_file(path) {
        Err(error) => error,
        Ok(_) => panic!("{}: decoded", path.display()),
    }
}

/// A corpus file, how to recognise its error, and a phrase its message must contain.
type CorpusCase = (&'static str, fn(&AudioError) -> bool, &'static str);

#[test]
fn every_malformed_corpus_file_is_refused_with_its_own_reason() {
    let cases: [CorpusCase; 10] = [
        (
            "truncated.wav",
            |e| {
                matches!(
                    e,
                    AudioError::DataPastEnd {
                        declared: 2000,
                        available: 200
                    }
                )
            },
            "past the end",
        ),
        (
            "zero-channels.wav",
            |e| *e == AudioError::Channels(0),
            "0 channels",
        ),
        (
            "65535-channels.wav",
            |e| *e == AudioError::Channels(65535),
            "65535 channels",
        ),
        (
            "fmt-size-0.wav",
            |e| *e == AudioError::FmtTooSmall(0, 16),
            "\"fmt \" chunk is 0 bytes",
        ),
        (
            "data-size-ffffffff.wav",
            |e| {
                matches!(
                    e,
                    AudioError::DataPastEnd {
                        declared: u32::MAX,
                        ..
                    }
                )
            },
            "4294967295",
        ),
        (
            "two-fmt.wav",
            |e| *e == AudioError::DuplicateFmt,
            "two \"fmt \" chunks",
        ),
        (
            "data-size-0.wav",
            |e| matches!(e, AudioError::NoAudio(_)),
            "no audio",
        ),
        (
            "not-a-wav.wav",
            |e| matches!(e, AudioError::NotWav(_)),
            "not a WAV file",
        ),
        (
            "empty.wav",
            |e| *e == AudioError::EmptyFile,
            "the file is empty",
        ),
        (
            "random.flac",
            |e| matches!(e, AudioError::Decode { format: "FLAC", .. }),
            "cannot decode as FLAC",
        ),
    ];
    for (name, is_expected, phrase) in cases {
        let error = audio_error(&corpus(name));
        assert!(is_expected(&error), "{name}: {error:?}");

        // Through `check`, the same fault is one line naming the file and the instrument.
        let dir = pack_with_corpus_file(name);
        let problems = check(dir.path());
        assert_eq!(problems.len(), 1, "{name}: {problems:?}");
        let line = problems[0].to_string();
        assert!(line.contains(name) && line.contains(phrase), "{line}");
        assert!(
            line.contains("instrument `x`") && !line.contains('\n'),
            "{line}"
        );
        assert!(matches!(
            Pack::load(dir.path(), 48_000),
            Err(PackError::Audio { .. })
        ));
    }
}

#[test]
fn flac_ogg_and_mp3_decode_through_rodio() {
    for (name, tolerance) in [("tone.flac", 0.001), ("tone.ogg", 0.01), ("tone.mp3", 0.06)] {
        let decoded = decode_file(&corpus(name)).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(
            (decoded.sample_rate, decoded.channels),
            (44_100, 1),
            "{name}"
        );
        let seconds = decoded.frames() as f64 / 44_100.0;
        assert!((seconds - 0.5).abs() <= tolerance, "{name}: {seconds} s");
        let peak = decoded.samples.iter().fold(0.0f32, |m, s| m.max(s.abs()));
        assert!((peak - 0.5).abs() < 0.05, "{name}: peak {peak}");
    }
    // And a pack of them loads at the engine rate.
    let dir = tempfile::tempdir().unwrap();
    for name in ["tone.flac", "tone.ogg", "tone.mp3"] {
        std::fs::copy(corpus(name), dir.path().join(name)).unwrap();
    }
    write_manifest(
        dir.path(),
        "[instruments.tone]\nvariants = [\"tone.flac\", \"tone.ogg\", \"tone.mp3\"]\n",
    );
    let pack = Pack::load(dir.path(), DEFAULT_SAMPLE_RATE).unwrap();
    let tone = pack.instrument("tone").unwrap();
    assert_eq!(tone.variant_count(), 3);
    for sound in tone.sounds() {
        assert_eq!(sound.sample_rate(), DEFAULT_SAMPLE_RATE);
    }
}

#[test]
fn unsupported_extensions_are_named() {
    assert_eq!(
        AudioKind::of(Path::new("gong.aiff")),
        Err(AudioError::UnsupportedExtension("aiff".into()))
    );
}

#[test]
fn resampling_44k1_to_48k_keeps_duration_and_pitch() {
    let dir = tempfile::tempdir().unwrap();
    let frames = 44_100; // one second
    let mono = cosine(1_000.0, 0.5, 44_100, frames);
    let stereo: Vec<f32> = mono.iter().flat_map(|s| [*s, -*s]).collect();
    write_wav(&dir.path().join("a.wav"), 44_100, 1, Format::I16, &mono);
    write_wav(&dir.path().join("b.wav"), 44_100, 1, Format::I24, &mono);
    write_wav(&dir.path().join("c.wav"), 44_100, 2, Format::F32, &stereo);
    write_manifest(
        dir.path(),
        "[instruments.a]\nfile = \"a.wav\"\n[instruments.b]\nfile = \"b.wav\"\n\
         [instruments.c]\nfile = \"c.wav\"\n",
    );
    let pack = Pack::load(dir.path(), 48_000).unwrap();
    assert_eq!(pack.name(), "test");
    assert_eq!(pack.instruments().count(), 3);
    let expected_crossings = zero_crossings(&mono, 1);
    for name in ["a", "b", "c"] {
        let sound = pack.instrument(name).unwrap().sound(None).unwrap();
        assert_eq!(sound.sample_rate(), 48_000);
        assert!(
            sound.frames().abs_diff(48_000) <= 2,
            "{name}: {} frames",
            sound.frames()
        );
        let channels = usize::from(sound.channels());
        let crossings = zero_crossings(sound.samples(), channels);
        assert!(
            crossings.abs_diff(expected_crossings) <= 2,
            "{name}: {crossings}"
        );
        let (left, right) = sound.frame(100);
        if channels == 2 {
            assert!(
                (left + right).abs() < 1e-3,
                "stereo kept apart: {left} {right}"
            );
        }
    }
}

#[test]
fn leading_exact_zeros_are_trimmed_so_the_onset_is_frame_zero() {
    let dir = tempfile::tempdir().unwrap();
    let mut samples = vec![0.0; 1_000];
    samples.extend(cosine(440.0, 0.5, 48_000, 4_800));
    write_wav(&dir.path().join("k.wav"), 48_000, 1, Format::F32, &samples);
    write_manifest(dir.path(), "[instruments.ketuk]\nfile = \"k.wav\"\n");
    let pack = Pack::load(dir.path(), 48_000).unwrap();
    let sound = pack.instrument("ketuk").unwrap().sound(Some(1)).unwrap();
    assert_eq!(sound.frames(), 4_800);
    assert_eq!(sound.samples()[0], 0.5);
}

#[test]
fn loudness_normalisation_evens_out_a_loud_and_a_quiet_instrument() {
    let dir = tempfile::tempdir().unwrap();
    write_wav(
        &dir.path().join("loud.wav"),
        48_000,
        1,
        Format::F32,
        &cosine(300.0, 0.9, 48_000, 48_000),
    );
    write_wav(
        &dir.path().join("quiet.wav"),
        48_000,
        1,
        Format::F32,
        &cosine(300.0, 0.02, 48_000, 48_000),
    );
    write_manifest(
        dir.path(),
        "[instruments.loud]\nfile = \"loud.wav\"\n[instruments.quiet]\nfile = \"quiet.wav\"\n\
         [instruments.quieter]\nfile = \"quiet.wav\"\ngain_db = -6.0\n",
    );
    let pack = Pack::load(dir.path(), 48_000).unwrap();
    let loud = pack.instrument("loud").unwrap();
    let quiet = pack.instrument("quiet").unwrap();
    // EBU R 128 loudness in LUFS: 33 dB apart, as their amplitudes are.
    assert!(
        (loud.loudness_db() - quiet.loudness_db() - 33.1).abs() < 0.1,
        "{} vs {} LUFS",
        loud.loudness_db(),
        quiet.loudness_db()
    );
    // Both re-measured as they play: at the target, within 0.1 LU.
    for instrument in [loud, quiet] {
        let sound = instrument.sound(None).unwrap();
        let played: Vec<f32> = sound
            .samples()
            .iter()
            .map(|s| s * instrument.gain())
            .collect();
        let lufs = loudness_lufs(&played, 1, 48_000);
        assert!(
            (lufs - TARGET_LOUDNESS_LUFS).abs() < 0.1,
            "{} plays at {lufs} LUFS",
            instrument.name()
        );
        let peak = sound.peak() * instrument.gain();
        assert!(peak <= 1.0 + 1e-6, "{}: peak {peak}", instrument.name());
    }
    let quieter = pack.instrument("quieter").unwrap();
    assert!((quieter.gain() / quiet.gain() - 0.501).abs() < 0.01);
}

#[test]
fn the_peak_cap_wins_over_the_loudness_target() {
    // A single full-scale click: very quiet by loudness (far under the target in LUFS), but
    // any gain would clip it, so it plays at exactly full scale and no louder.
    let dir = tempfile::tempdir().unwrap();
    let mut click = vec![1.0];
    click.extend(vec![0.001; 100]);
    write_wav(
        &dir.path().join("click.wav"),
        48_000,
        1,
        Format::F32,
        &click,
    );
    // The same click 20 dB down in the manifest: `gain_db` counts from where the cap left
    // it, so the author's −20 dB is heard.
    write_manifest(
        dir.path(),
        "[instruments.click]\nfile = \"click.wav\"\n\
         [instruments.quiet-click]\nfile = \"click.wav\"\ngain_db = -20.0\n",
    );
    let pack = Pack::load(dir.path(), 48_000).unwrap();
    let click = pack.instrument("click").unwrap();
    assert!(click.loudness_db() < TARGET_LOUDNESS_LUFS - 20.0);
    assert_eq!(click.gain(), 1.0);
    let quiet_click = pack.instrument("quiet-click").unwrap();
    assert!(
        (quiet_click.gain() - 0.1).abs() < 1e-6,
        "{}",
        quiet_click.gain()
    );
}

#[test]
fn variants_are_numbered_from_one() {
    let dir = tempfile::tempdir().unwrap();
    for (i, hz) in [(1, 500.0), (2, 600.0)] {
        write_wav(
            &dir.path().join(format!("k{i}.wav")),
            48_000,
            1,
            Format::I16,
            &cosine(hz, 0.5, 48_000, 4_800 * i),
        );
    }
    write_manifest(
        dir.path(),
        "[instruments.kenong]\nvariants = [\"k1.wav\", \"k2.wav\"]\n",
    );
    let pack = Pack::load(dir.path(), 48_000).unwrap();
    let kenong = pack.instrument("kenong").unwrap();
    assert_eq!(kenong.variant_count(), 2);
    assert_eq!(kenong.sound(None), kenong.sound(Some(1)));
    assert_eq!(kenong.sound(Some(2)).unwrap().frames(), 9_600);
    assert!(kenong.sound(Some(0)).is_none() && kenong.sound(Some(3)).is_none());
    assert!(pack.instrument("gong").is_none());
}

#[test]
fn check_lists_every_problem_of_a_bad_pack_one_line_each() {
    let dir = tempfile::tempdir().unwrap();
    write_wav(
        &dir.path().join("ok.wav"),
        48_000,
        1,
        Format::I16,
        &cosine(440.0, 0.5, 48_000, 480),
    );
    std::fs::write(
        dir.path().join("pack.toml"),
        "name = \"\"\n\
         [instruments.Gong]\nfile = \"ok.wav\"\n\
         [instruments.kenong]\n\
         [instruments.both]\nfile = \"ok.wav\"\nvariants = [\"ok.wav\"]\n\
         [instruments.loud]\nfile = \"ok.wav\"\ngain_db = 30.0\n\
         [instruments.missing]\nfile = \"nowhere.wav\"\n",
    )
    .unwrap();
    let problems: Vec<String> = check(dir.path()).iter().map(ToString::to_string).collect();
    let expect = [
        "`name` is empty",
        "instrument name \"Gong\" may use only",
        "instrument `kenong` has no sound",
        "instrument `both` has both `file` and `variants`",
        "instrument `loud` has gain_db 30",
        "instrument `missing`: file \"nowhere.wav\" does not exist",
    ];
    assert_eq!(problems.len(), expect.len(), "{problems:#?}");
    for phrase in expect {
        assert!(
            problems
                .iter()
                .any(|p| p.contains(phrase) && p.contains("pack.toml")),
            "{phrase}: {problems:#?}"
        );
    }
    assert!(problems.iter().all(|p| !p.contains('\n')));
    assert!(matches!(
        Pack::load(dir.path(), 48_000),
        Err(PackError::Manifest {
            problem: ManifestProblem::EmptyName,
            ..
        })
    ));
}

#[test]
fn check_reports_manifest_syntax_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        check(dir.path())[0]
            .to_string()
            .contains("pack.toml: missing")
    );

    write_manifest(
        dir.path(),
        "[instruments.gong]\nfile = \"g.wav\"\nvolume = 3\n",
    );
    let line = check(dir.path())[0].to_string();
    assert!(
        line.contains("pack.toml:4:1: unknown field `volume`"),
        "{line}"
    );

    write_manifest(dir.path(), "[instruments.gong\n");
    let line = check(dir.path())[0].to_string();
    assert!(line.contains("pack.toml:2:"), "{line}");

    let missing = dir.path().join("no-such-pack");
    assert!(
        check(&missing)[0]
            .to_string()
            .contains("not a readable folder")
    );
}

#[test]
fn a_good_pack_checks_clean_with_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    write_wav(
        &dir.path().join("g.wav"),
        44_100,
        1,
        Format::I24,
        &cosine(100.0, 0.5, 44_100, 88_200),
    );
    write_wav(
        &dir.path().join("k.wav"),
        48_000,
        1,
        Format::I16,
        &cosine(500.0, 0.5, 48_000, 24_000),
    );
    write_manifest(
        dir.path(),
        "[instruments.gong]\nfile = \"g.wav\"\n[instruments.kenong]\nvariants = [\"k.wav\", \"./k.wav\"]\n",
    );
    let summary = inspect(dir.path()).unwrap();
    assert_eq!((summary.instruments, summary.variants), (2, 3));
    assert!((summary.seconds - 3.0).abs() < 1e-9);
    assert_eq!(
        summary.to_string(),
        "2 instruments, 3 variants, 3.0 s of audio"
    );
}

#[test]
fn new_then_check_passes_and_new_never_overwrites() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("my-pack");
    scaffold(&dir).unwrap();
    assert!(check(&dir).is_empty(), "{:?}", check(&dir));
    let pack = Pack::load(&dir, DEFAULT_SAMPLE_RATE).unwrap();
    assert_eq!(pack.name(), "my-pack");
    assert!(pack.instrument("gong").is_some());

    let before = std::fs::read(dir.join("pack.toml")).unwrap();
    let error = scaffold(&dir).unwrap_err();
    assert!(matches!(error, PackError::NotEmpty { .. }));
    assert!(error.to_string().contains("not empty"));
    assert_eq!(std::fs::read(dir.join("pack.toml")).unwrap(), before);

    // An existing empty folder is fine.
    let empty = root.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    scaffold(&empty).unwrap();
}

#[test]
fn paths_outside_the_pack_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let outside = root.path().join("outside.wav");
    write_wav(
        &outside,
        48_000,
        1,
        Format::I16,
        &cosine(440.0, 0.5, 48_000, 480),
    );
    let dir = root.path().join("pack");
    std::fs::create_dir(&dir).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&outside, dir.join("link.wav")).unwrap();
    let outside_str = outside.display().to_string();
    for (file, reason) in [
        ("../outside.wav", "uses \"..\""),
        (outside_str.as_str(), "is absolute"),
        #[cfg(unix)]
        ("link.wav", "leads outside the pack folder"),
        ("sub/", "does not exist"),
    ] {
        write_manifest(&dir, &format!("[instruments.x]\nfile = '{file}'\n"));
        let problems = check(&dir);
        assert_eq!(problems.len(), 1, "{file}: {problems:?}");
        assert!(problems[0].to_string().contains(reason), "{}", problems[0]);
        assert!(matches!(
            Pack::load(&dir, 48_000),
            Err(PackError::BadPath { .. })
        ));
    }
}

/// A valid 16-bit mono WAV of `frames` frames, for mutation.
fn valid_wav_bytes(frames: usize) -> Vec<u8> {
    let mut cursor = std::io::Cursor::new(Vec::new());
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::new(&mut cursor, spec).unwrap();
    for i in 0..frames {
        writer.write_sample(i as i16).unwrap();
    }
    writer.finalize().unwrap();
    cursor.into_inner()
}

/// What validation accepts is bounded by the bytes really there.
fn assert_sized_from_the_file(bytes: &[u8]) {
    if let Ok(info) = wav::validate(bytes) {
        let frame_bytes = usize::from(info.channels) * usize::from(info.bits / 8);
        assert!(info.frames * frame_bytes <= bytes.len());
        assert!(info.frames >= 1);
    }
    if let Ok(decoded) = decode_bytes(AudioKind::Wav, bytes.to_vec()) {
        assert!(decoded.samples.len() <= bytes.len());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic_the_wav_validator(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        assert_sized_from_the_file(&bytes);
    }

    #[test]
    fn arbitrary_bytes_after_a_riff_header_never_panic(tail in prop::collection::vec(any::<u8>(), 0..256)) {
        let mut bytes = b"RIFF\xff\xff\xff\xffWAVE".to_vec();
        bytes.extend(tail);
        assert_sized_from_the_file(&bytes);
    }

    #[test]
    fn mutated_wav_headers_never_panic_or_oversize(
        mutations in prop::collection::vec((0usize..60, any::<u8>()), 1..6),
        frames in 0usize..64,
    ) {
        let mut bytes = valid_wav_bytes(frames);
        for (at, value) in mutations {
            if let Some(b) = bytes.get_mut(at) {
                *b = value;
            }
        }
        assert_sized_from_the_file(&bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn arbitrary_bytes_never_panic_the_compressed_decoders(
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
        hint in prop::sample::select(vec!["flac", "ogg", "mp3"]),
    ) {
        let _ = decode_bytes(AudioKind::Compressed { hint }, bytes);
    }

    #[test]
    fn mutated_flac_never_panics(mutations in prop::collection::vec((0usize..16_363, any::<u8>()), 1..8)) {
        let mut bytes = std::fs::read(corpus("tone.flac")).unwrap();
        for (at, value) in mutations {
            if let Some(b) = bytes.get_mut(at) {
                *b = value;
            }
        }
        if let Ok(decoded) = decode_bytes(AudioKind::Compressed { hint: "flac" }, bytes) {
            prop_assert!(decoded.frames() <= 60 * decoded.sample_rate as usize);
        }
    }
}

#[cfg(unix)]
#[test]
fn a_manifest_symlinked_from_outside_the_pack_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let secret = root.path().join("secret.toml");
    std::fs::write(&secret, "name = \"x\"\n").unwrap();
    let dir = root.path().join("pack");
    std::fs::create_dir(&dir).unwrap();
    std::os::unix::fs::symlink(&secret, dir.join("pack.toml")).unwrap();
    let problems = check(&dir);
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0]
            .to_string()
            .contains("leads outside the pack folder"),
        "{}",
        problems[0]
    );
}

#[test]
fn a_pack_over_the_sound_cap_is_refused_without_decoding_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let variants: Vec<String> = (0..300).map(|i| format!("\"missing-{i}.wav\"")).collect();
    write_manifest(
        dir.path(),
        &format!("[instruments.many]\nvariants = [{}]\n", variants.join(", ")),
    );
    let problems = check(dir.path());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].to_string().contains("lists 300 sounds"),
        "{}",
        problems[0]
    );
}

#[test]
fn the_pack_commands_print_one_line_per_problem_and_set_the_exit_code() {
    let gongan = |args: &[&std::ffi::OsStr]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_gongan"))
            .args(args)
            .output()
            .unwrap()
    };
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("fresh");
    let new = gongan(&["pack".as_ref(), "new".as_ref(), dir.as_os_str()]);
    assert!(new.status.success(), "{new:?}");
    let ok = gongan(&["pack".as_ref(), "check".as_ref(), dir.as_os_str()]);
    assert!(ok.status.success(), "{ok:?}");
    let out = String::from_utf8(ok.stdout).unwrap();
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.contains("1 instruments, 1 variants, 1.0 s of audio"),
        "{out}"
    );

    let again = gongan(&["pack".as_ref(), "new".as_ref(), dir.as_os_str()]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));

    std::fs::write(dir.join("gong.wav"), b"").unwrap();
    std::fs::write(dir.join("pack.toml"), "name = \"x\"\n[instruments.gong]\nfile = \"gong.wav\"\n[instruments.ketuk]\nfile = \"k.wav\"\n").unwrap();
    let bad = gongan(&["pack".as_ref(), "check".as_ref(), dir.as_os_str()]);
    assert!(!bad.status.success());
    let out = String::from_utf8(bad.stdout).unwrap();
    assert_eq!(out.lines().count(), 2, "{out}");
}

/// Issue 11: the default pack travels in the binary, so the commands that play without a
/// server work from any folder, and `--pack default` names it.
#[test]
fn the_default_pack_works_from_any_folder() {
    let elsewhere = tempfile::tempdir().unwrap();
    let gongan = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_gongan"))
            .args(args)
            .current_dir(elsewhere.path())
            .output()
            .unwrap()
    };
    let render = gongan(&[
        "render",
        "incident-data-collection",
        "-o",
        "drill.wav",
        "--speed",
        "600",
        "--pack",
        "default",
    ]);
    assert!(render.status.success(), "{render:?}");
    let wav = hound::WavReader::open(elsewhere.path().join("drill.wav")).unwrap();
    let full_scale = (1u64 << (wav.spec().bits_per_sample - 1)) as f32;
    let peak = match wav.spec().sample_format {
        hound::SampleFormat::Float => wav
            .into_samples::<f32>()
            .map(|s| s.unwrap().abs())
            .fold(0.0, f32::max),
        hound::SampleFormat::Int => wav
            .into_samples::<i32>()
            .map(|s| s.unwrap().unsigned_abs() as f32 / full_scale)
            .fold(0.0, f32::max),
    };
    assert!(peak > 0.01, "the render has strokes in it (peak {peak})");

    let tour = gongan(&["pack", "play", "--output", "wav:tour.wav", "--only", "gong"]);
    assert!(tour.status.success(), "{tour:?}");
    assert!(elsewhere.path().join("tour.wav").is_file());

    let missing = gongan(&["pack", "play", "no-such-pack", "--output", "wav:x.wav"]);
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("no-such-pack"), "{stderr}");
}
