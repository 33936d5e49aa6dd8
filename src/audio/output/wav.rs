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
    writer: hound::WavWriter<BufWriter<File>>,
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
            writer,
            path: path.to_owned(),
            block: vec![0.0; CHANNELS * block_frames.max(1)],
        })
    }

    /// The renderer's position: frames written so far.
    #[must_use]
    pub fn position(&self) -> Frame {
        self.renderer.position()
    }

    /// Renders and writes frames until the position reaches `end` (no-op if it has).
    pub fn render_until(&mut self, end: Frame) -> Result<(), OutputError> {
        while self.renderer.position() < end {
            let left = (end.0 - self.renderer.position().0) as usize;
            let frames = left.min(self.block.len() / CHANNELS);
            let block = &mut self.block[..CHANNELS * frames];
            self.renderer.render(block);
            for &sample in block.iter() {
                self.writer
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
        self.writer.finalize().map_err(|source| OutputError::Wav {
            path: self.path,
            source,
        })?;
        Ok(frames)
    }
}
