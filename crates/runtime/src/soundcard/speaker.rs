//! The speaker: an output stream that plays one clip (prompt or beep) at a time and silence
//! otherwise. The run loop decides when a clip is over (see `session`).

use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, MutexGuard};

use cpal::traits::{DeviceTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample};

use super::devices::{self, Direction};
use super::keys::Control;
use super::SoundcardError;

#[derive(Debug, Default)]
struct Feed {
    samples: Vec<i16>,
    pos: usize,
}

type SharedFeed = Arc<Mutex<Feed>>;

fn lock(feed: &SharedFeed) -> MutexGuard<'_, Feed> {
    // The feed is two plain fields; a panic elsewhere cannot leave it inconsistent.
    feed.lock().unwrap_or_else(|p| p.into_inner())
}

pub(crate) struct Speaker {
    _stream: cpal::Stream,
    feed: SharedFeed,
    pub(crate) rate: u32,
}

impl Speaker {
    pub(crate) fn open(
        device: &cpal::Device,
        events: Sender<Control>,
    ) -> Result<Speaker, SoundcardError> {
        let name = devices::device_name(device);
        let supported = devices::stream_config(Direction::Output, device)?;
        let config = supported.config();
        let feed = SharedFeed::default();
        let f = feed.clone();
        let stream = devices::with_sample_type!(
            supported.sample_format(),
            build(device, &config, f, events),
            |other: SampleFormat| SoundcardError::UnsupportedFormat {
                device: name.clone(),
                format: other.to_string(),
            }
        )
        .map_err(|source| SoundcardError::BuildStream {
            device: name.clone(),
            source,
        })?;
        stream.play().map_err(|source| SoundcardError::PlayStream {
            device: name,
            source,
        })?;
        Ok(Speaker {
            _stream: stream,
            feed,
            rate: config.sample_rate.0,
        })
    }

    /// Replaces whatever plays with `samples` (mono at `self.rate`).
    pub(crate) fn play(&self, samples: Vec<i16>) {
        *lock(&self.feed) = Feed { samples, pos: 0 };
    }

    pub(crate) fn stop(&self) {
        *lock(&self.feed) = Feed::default();
    }

    /// The device has taken every sample of the clip.
    pub(crate) fn drained(&self) -> bool {
        let f = lock(&self.feed);
        f.pos >= f.samples.len()
    }
}

fn build<T>(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    feed: SharedFeed,
    events: Sender<Control>,
) -> Result<cpal::Stream, cpal::BuildStreamError>
where
    T: SizedSample + FromSample<i16>,
{
    let channels = usize::from(config.channels.max(1));
    device.build_output_stream(
        config,
        move |data: &mut [T], _: &cpal::OutputCallbackInfo| {
            let mut f = lock(&feed);
            for frame in data.chunks_mut(channels) {
                let s = f.samples.get(f.pos).copied().unwrap_or(0);
                f.pos = f.pos.saturating_add(1).min(f.samples.len());
                frame.fill(T::from_sample(s));
            }
        },
        move |e| {
            let _ = events.send(Control::DeviceError(format!("output: {e}")));
        },
        None,
    )
}
