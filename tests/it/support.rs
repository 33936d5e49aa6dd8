//! Helpers shared by the integration tests.

use std::path::Path;

/// Reads a WAV file as interleaved `f32` samples, with its channel count and rate.
pub fn read_wav(path: &Path) -> (Vec<f32>, u16, u32) {
    let mut reader = hound::WavReader::open(path).expect("open wav");
    let spec = reader.spec();
    let samples = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().map(Result::unwrap).collect(),
        hound::SampleFormat::Int => {
            let scale = (1u64 << (spec.bits_per_sample - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.unwrap() as f32 / scale)
                .collect()
        }
    };
    (samples, spec.channels, spec.sample_rate)
}

/// True when the tests run in CI, where a missing dependency must fail a test, never skip it.
#[allow(dead_code)]
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}
