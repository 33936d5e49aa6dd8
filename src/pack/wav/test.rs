use super::*;

/// A minimal valid PCM WAV: `channels`, `bits`, with `frames` frames of a ramp.
fn pcm(channels: u16, bits: u16, frames: u32) -> Vec<u8> {
    let block = channels * bits / 8;
    let data_len = u32::from(block) * frames;
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&48_000u32.to_le_bytes());
    b.extend_from_slice(&(48_000 * u32::from(block)).to_le_bytes());
    b.extend_from_slice(&block.to_le_bytes());
    b.extend_from_slice(&bits.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    b.extend((0..data_len).map(|i| (i % 7) as u8));
    b
}

#[test]
fn a_plain_wav_passes_and_decodes() {
    let info = validate(&pcm(2, 16, 10)).unwrap();
    assert_eq!((info.channels, info.bits, info.frames), (2, 16, 10));
    assert!(!info.float);
    let decoded = decode(&pcm(2, 16, 10)).unwrap();
    assert_eq!(decoded.samples.len(), 20);
}

#[test]
fn header_faults_are_named() {
    let mut zero_channels = pcm(1, 16, 4);
    zero_channels[22] = 0;
    assert_eq!(validate(&zero_channels), Err(AudioError::Channels(0)));

    let mut past_end = pcm(1, 16, 4);
    past_end[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        validate(&past_end),
        Err(AudioError::DataPastEnd {
            declared: u32::MAX,
            available: 8
        })
    ));

    let mut empty_data = pcm(1, 16, 0);
    empty_data[40..44].copy_from_slice(&0u32.to_le_bytes());
    assert!(matches!(validate(&empty_data), Err(AudioError::NoAudio(_))));

    let mut rate = pcm(1, 16, 4);
    rate[24..28].copy_from_slice(&4_000u32.to_le_bytes());
    assert_eq!(validate(&rate), Err(AudioError::SampleRate(4_000)));

    let mut bits = pcm(1, 16, 4);
    bits[34] = 12;
    assert!(matches!(validate(&bits), Err(AudioError::SampleFormat(_))));
}

#[test]
fn trailing_partial_frames_and_stray_bytes_are_tolerated() {
    let mut wav = pcm(2, 16, 3);
    wav[40..44].copy_from_slice(&11u32.to_le_bytes()); // 2¾ frames, then 1 stray byte
    assert_eq!(validate(&wav).unwrap().frames, 2);
}

#[test]
fn integer_widths_scale_to_unit_range() {
    for bits in [8u16, 16, 24, 32] {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8_000,
            bits_per_sample: bits,
            sample_format: hound::SampleFormat::Int,
        };
        let mut cursor = std::io::Cursor::new(Vec::new());
        let mut writer = hound::WavWriter::new(&mut cursor, spec).unwrap();
        let half = 1i32 << (bits - 2);
        writer.write_sample(half).unwrap();
        writer.write_sample(-half).unwrap();
        writer.finalize().unwrap();
        let decoded = decode(&cursor.into_inner()).unwrap();
        assert_eq!(decoded.samples, vec![0.5, -0.5], "{bits} bits");
    }
}
