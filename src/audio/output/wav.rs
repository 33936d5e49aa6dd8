//! The offline output: renders as fast as the CPU allows into a 32-bit float WAV.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use super::OutputError;
use crate::audio::{CHANNELS, Frame, Renderer};

/// Renders into a WAV file block by block. Samples are written as 32-bit floats so what is
/// in the file is exactly what the renderer produced — onsets can be checked sample by
/// sample.
pub struct WavOutput {
    renderer: Renderer,
    /// `None` renders at full speed and discards the samples (long timing checks).
    writer: Option<hound::WavWriter<BufWriter<File>>>,
    path: PathBuf,
    block: Vec<f32>,
}

impl WavOutput {
    /// Creates (or truncates) `path` and renders `renderer` into it in blocks of
    /// `block_frames`.
    pub fn create(
        path: &Path,
        renderer: Renderer,
        block_frames: usize,
    ) -> Result<WavOutput, OutputError> {
        let spec = hound::WavSpec {
            channels: CHANNELS as u16,
            sample_rate: renderer.sample_rate(),
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let writer = hound::WavWriter::create(path, spec).map_err(|source| OutputError::Wav {
            path: path.to_owned(),
            source,
        })?;
        Ok(WavOutput {
            renderer,
            writer: Some(writer),
            path: path.to_owned(),
            block: vec![0.0; CHANNELS * block_frames.max(1)],
        })
    }

    /// Renders offline like [`WavOutput::create`] but keeps no samples: for checking the
    /// timing of renders too long to store (a four-hour session is 5.5 GB of float WAV).
    #[must_use]
    pub fn discard(renderer: Renderer, block_frames: usize) -> WavOutput {
        WavOutput {
            renderer,
            writer: None,
            path: PathBuf::new(),
            block: vec![0.0; CHANNELS * block_frames.max(1)],
        }
    }

    /// The most frames a float stereo WAV can hold (its sizes are 32-bit).
    #[must_use]
    pub fn max_frames() -> u64 {
        (u64::from(u32::MAX) - 1024) / (4 * CHANNELS as u64)
    }

    /// The renderer's position: frames written so far.
    #[must_use]
    pub fn position(&self) -> Frame {
        self.renderer.position()
    }

    /// Voices still sounding (a render can stop once the last gong has rung out).
    #[must_use]
    pub fn active_voices(&self) -> usize {
        self.renderer.active_voices()
    }

    /// Renders and writes frames until the position reaches `end` (no-op if it has).
    pub fn render_until(&mut self, end: Frame) -> Result<(), OutputError> {
        while self.renderer.position() < end {
            let left = (end.0 - self.renderer.position().0) as usize;
            let frames = left.min(self.block.len() / CHANNELS);
            let block = &mut self.block[..CHANNELS * frames];
            self.renderer.render(block);
            let Some(writer) = self.writer.as_mut() else {
                continue;
            };
            for &sample in block.iter() {
                writer
                    .write_sample(sample)
                    .map_err(|source| OutputError::Wav {
                        path: self.path.clone(),
                        source,
                    })?;
            }
        }
        Ok(())
    }

    /// Finishes the file (writes the header's sizes) and returns the frames written.
    pub fn finish(self) -> Result<Frame, OutputError> {
        let frames = self.renderer.position();
        if let Some(writer) = self.writer {
            writer.finalize().map_err(|source| OutputError::Wav {
                path: self.path,
                source,
            })?;
        }
        Ok(frames)
    }
}
