use super::tuning::{
    SLENDRO_KANYUT_MESEM_CENTS, SLENDRO_KANYUT_MESEM_HZ, cents_between, transpose_cents,
};
use super::*;

#[test]
fn a_struck_mode_rings_at_its_gain_and_falls_60_db_in_its_t60() {
    // At 1 kHz a 100 Hz mode peaks every 10 samples, in cosine phase.
    let mode = Mode {
        freq_hz: 100.0,
        gain: 0.5,
        t60_s: 1.0,
    };
    let mut out = vec![0.0; 2000];
    mode.ring_into(&[1.0], &mut out, 1000);
    let expected = |n: i32| 0.5 * 0.001f64.powf(f64::from(n) / 1000.0);
    assert!(
        (out[10] - expected(10)).abs() < 0.01,
        "rings at {}",
        out[10]
    );
    let drop_db = 20.0 * (out[1000] / 0.5).log10();
    assert!((drop_db + 60.0).abs() < 0.5, "fell {drop_db} dB in T60");
    assert!(
        out[1005] < 0.0,
        "half a cycle later the mode swings negative"
    );
}

#[test]
fn noise_is_reproducible_and_in_range() {
    let a: Vec<f64> = std::iter::repeat_with({
        let mut n = Noise::new(7);
        move || n.next_sample()
    })
    .take(10_000)
    .collect();
    let mut again = Noise::new(7);
    assert!(a.iter().all(|&s| s == again.next_sample()));
    assert!(a.iter().all(|s| (-1.0..1.0).contains(s)));
    let mean = a.iter().sum::<f64>() / a.len() as f64;
    assert!(mean.abs() < 0.03, "mean {mean}");
    let mut other = Noise::new(8);
    assert!(a.iter().take(10).any(|&s| s != other.next_sample()));
}

#[test]
fn the_attack_ramps_from_near_silence_to_full_over_the_contact() {
    let mallet = mallet::PADDED;
    let sr = 48_000;
    let contact = mallet.contact_samples(sr);
    assert_eq!(contact, 384);
    let first = mallet.attack_gain(0, sr);
    assert!(first > 0.0 && first < 1e-4, "starts at {first}");
    let ramp: Vec<f64> = (0..=contact).map(|n| mallet.attack_gain(n, sr)).collect();
    assert!(ramp.windows(2).all(|w| w[1] > w[0] || w[1] == 1.0));
    // Smooth: no step bigger than a straight ramp's π/2 times over.
    let steepest = ramp.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max);
    assert!(steepest < 1.6 / contact as f64, "steepest step {steepest}");
    assert_eq!(mallet.attack_gain(contact, sr), 1.0);
    let hard = mallet::HARD.attack_gain(0, sr);
    assert!(
        (20.0 * hard.log10() + 60.0).abs() < 1.0,
        "hard starts at {hard}"
    );

    let burst = mallet.burst(sr, 1);
    assert_eq!(burst.len(), contact);
    let peak = burst.iter().fold(0.0f64, |m, s| m.max(s.abs()));
    assert!((peak - 1.0).abs() < 1e-12);
    assert!(burst[0].abs() < 0.01 && burst[contact - 1].abs() < 0.01);
}

#[test]
fn cents_match_the_measured_slendro() {
    for (hz, cents) in SLENDRO_KANYUT_MESEM_HZ
        .iter()
        .zip(SLENDRO_KANYUT_MESEM_CENTS)
    {
        // The published cents and hertz are rounded separately: they agree within 5 cents.
        let measured = cents_between(SLENDRO_KANYUT_MESEM_HZ[0], *hz);
        assert!(
            (measured - cents).abs() < 5.0,
            "{hz} Hz is {measured} cents"
        );
    }
    assert!((transpose_cents(291.0, 1200.0) - 582.0).abs() < 1e-9);
}

#[test]
fn instruments_have_the_names_and_variants_the_timeline_uses() {
    let instruments = default_instruments();
    let names: Vec<_> = instruments
        .iter()
        .map(|i| (i.name, i.voices.len()))
        .collect();
    assert_eq!(
        names,
        [
            ("gong", 1),
            ("suwukan", 1),
            ("kempul", 1),
            ("kenong", 6),
            ("ketuk", 1),
            ("kempyang", 1),
            ("bonang", 4),
            ("saron", 7),
        ]
    );
    let manifest = default_manifest(&instruments);
    assert_eq!(manifest.instruments["gong"].file, Some("gong.wav".into()));
    assert_eq!(
        manifest.instruments["kenong"].variants[5],
        std::path::Path::new("kenong-6.wav")
    );
    assert_eq!(manifest.licence, "CC0-1.0");
}

#[test]
fn a_voice_renders_the_same_samples_twice() {
    let voice = &default_instruments()[4].voices[0]; // ketuk: short
    let a = voice.render(48_000).unwrap();
    let b = voice.render(48_000).unwrap();
    assert_eq!(a, b);
    // The first sample is the onset: not silent, but far under the peak (no click).
    let first = a.samples()[0].abs();
    assert!(first > 0.0 && first < a.peak() / 100.0, "starts at {first}");
    assert!(a.peak() <= 0.89);
}

#[test]
fn a_twin_doubles_every_mode_sharper_by_the_fundamentals_offset() {
    let voice = &default_instruments()[3].voices[0]; // kenong 1: 291 Hz
    let paired = voice.with_twin(6.0);
    assert_eq!(paired.modes.len(), 2 * voice.modes.len());
    let (own, twins) = paired.modes.split_at(voice.modes.len());
    assert_eq!(own, &voice.modes[..]);
    assert!((twins[0].freq_hz - 297.0).abs() < 1e-9);
    for (m, t) in own.iter().zip(twins) {
        assert!((t.freq_hz / m.freq_hz - 297.0 / 291.0).abs() < 1e-12);
        assert_eq!((t.gain, t.t60_s), (m.gain, m.t60_s));
    }
    let silent = Voice {
        modes: Vec::new(),
        ..voice.clone()
    };
    assert_eq!(silent.with_twin(6.0), silent);
}

#[test]
fn built_in_packs_are_found_by_name_and_their_manifests_name_every_voice() {
    assert_eq!(BuiltInPack::named("default"), Some(BuiltInPack::Default));
    assert_eq!(BuiltInPack::named("bali"), Some(BuiltInPack::Bali));
    assert_eq!(BuiltInPack::named("Bali"), None);
    for pack in BuiltInPack::ALL {
        let manifest = pack.manifest();
        assert_eq!(manifest.name, pack.name());
        assert!(manifest.problems().is_empty(), "{:?}", manifest.problems());
        let files: usize = manifest
            .instruments
            .values()
            .map(|e| e.files().count())
            .sum();
        let voices: usize = pack.instruments().iter().map(|i| i.voices.len()).sum();
        assert_eq!(files, voices);
    }
    assert_eq!(
        default_manifest(&default_instruments()),
        BuiltInPack::Default.manifest()
    );
    assert!(
        BuiltInPack::Bali
            .manifest()
            .instruments
            .contains_key("saron-soft")
    );
}

#[test]
fn a_built_in_pack_renders_at_any_rate_but_zero() {
    let pack = built_in_pack("default", 8_000).unwrap().unwrap();
    let gong = pack.instrument("gong").unwrap().sound(None).unwrap();
    assert_eq!(gong.sample_rate(), 8_000);
    assert!(built_in_pack("default", 0).unwrap().is_err());
    assert!(built_in_pack("nope", 48_000).is_none());
}

#[test]
fn modes_above_nyquist_are_left_out_rather_than_aliased() {
    let voice = Voice {
        modes: vec![Mode {
            freq_hz: 5_000.0,
            gain: 1.0,
            t60_s: 0.5,
        }],
        mallet: Mallet {
            thud: 0.0,
            ..mallet::HARD
        },
        tremolo: None,
        seed: 1,
    };
    let at_8k = voice.render(8_000).unwrap();
    assert!(at_8k.samples().iter().all(|&s| s == 0.0));
    assert!(voice.render(48_000).unwrap().peak() > 0.5);
}
