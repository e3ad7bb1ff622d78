//! The sound-card front end of the recorder: `callclip record` runs the same sans-IO
//! `MediaQueue` as a network call, with the microphone as the caller's audio, the speaker for
//! prompt and beep, and the keyboard as a DTMF keypad.
//!
//! The cpal callbacks run on their own threads and only move samples: the input callback sends
//! mono chunks over a bounded channel, the output callback drains the clip being played. The
//! run loop (`session`) is one plain thread that owns every machine, paces the audio by the
//! clock and sleeps between 10 ms ticks.

mod capture;
mod devices;
mod keys;
mod session;
mod speaker;

use std::time::Duration;

pub use devices::{list_devices, DeviceInfo, DeviceList};
pub use session::{record, Progress, RecordOptions, RecordReport, Stage};

/// Why the sound-card front end could not run.
#[derive(Debug, thiserror::Error)]
pub enum SoundcardError {
    #[error("no {kind} device named {name:?}; available: {}", available.join(", "))]
    NoDevice {
        kind: &'static str,
        name: String,
        available: Vec<String>,
    },
    #[error("no default {kind} device")]
    NoDefault { kind: &'static str },
    #[error("cannot list audio devices: {0}")]
    Devices(#[from] cpal::DevicesError),
    #[error("{device}: no usable stream configuration: {source}")]
    Config {
        device: String,
        source: cpal::DefaultStreamConfigError,
    },
    #[error("{device}: sample format {format} is not supported")]
    UnsupportedFormat { device: String, format: String },
    #[error("{device}: cannot open the stream: {source}")]
    BuildStream {
        device: String,
        source: cpal::BuildStreamError,
    },
    #[error("{device}: cannot start the stream: {source}")]
    PlayStream {
        device: String,
        source: cpal::PlayStreamError,
    },
    #[error("{device}: no audio within {waited:?}")]
    NoAudio { device: String, waited: Duration },
    #[error("record refused: {0}")]
    Refused(#[from] recorder::Error),
}
