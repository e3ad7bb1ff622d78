//! The microphone: an input stream whose callback sends mono chunks to the run loop, and the
//! framer that cuts them into 20 ms frames on a media timeline paced by the clock.

use std::collections::VecDeque;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::time::Duration;

use cpal::traits::{DeviceTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample};

use super::devices::{self, Direction};
use super::keys::Control;
use super::SoundcardError;

/// Chunks in flight between the callback and the loop. A full channel blocks the callback:
/// that is what holds back a source faster than real time (an ALSA `file` PCM).
const CHANNEL_CHUNKS: usize = 32;

pub(crate) struct Microphone {
    // Declared before the stream so it is dropped first: a callback blocked on a full channel
    // then returns, and the stream's worker thread can be joined.
    chunks: Receiver<Vec<i16>>,
    _stream: cpal::Stream,
    pub(crate) rate: u32,
    pub(crate) name: String,
}

impl Microphone {
    pub(crate) fn open(
        device: &cpal::Device,
        events: Sender<Control>,
    ) -> Result<Microphone, SoundcardError> {
        let name = devices::device_name(device);
        let supported = devices::stream_config(Direction::Input, device)?;
        let config = supported.config();
        let (tx, rx) = mpsc::sync_channel(CHANNEL_CHUNKS);
        let stream = devices::with_sample_type!(
            supported.sample_format(),
            build(device, &config, tx, events),
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
            device: name.clone(),
            source,
        })?;
        Ok(Microphone {
            chunks: rx,
            _stream: stream,
            rate: config.sample_rate.0,
            name,
        })
    }

    /// A chunk if one is waiting.
    pub(crate) fn try_chunk(&self) -> Option<Vec<i16>> {
        self.chunks.try_recv().ok()
    }

    pub(crate) fn wait_chunk(&self, timeout: Duration) -> Option<Vec<i16>> {
        self.chunks.recv_timeout(timeout).ok()
    }
}

fn build<T>(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    tx: SyncSender<Vec<i16>>,
    events: Sender<Control>,
) -> Result<cpal::Stream, cpal::BuildStreamError>
where
    T: SizedSample,
    i16: FromSample<T>,
{
    let channels = usize::from(config.channels.max(1));
    device.build_input_stream(
        config,
        move |data: &[T], _: &cpal::InputCallbackInfo| {
            let _ = tx.send(downmix(data, channels));
        },
        move |e| {
            let _ = events.send(Control::DeviceError(format!("input: {e}")));
        },
        None,
    )
}

/// Interleaved frames of any sample type to 16-bit mono (the mean of the channels).
fn downmix<T>(data: &[T], channels: usize) -> Vec<i16>
where
    T: SizedSample,
    i16: FromSample<T>,
{
    data.chunks(channels.max(1))
        .map(|frame| {
            let sum: i32 = frame
                .iter()
                .map(|s| i32::from(<i16 as FromSample<T>>::from_sample_(*s)))
                .sum();
            // A chunk holds 1..=65535 samples, so the mean stays within i16.
            (sum / frame.len().max(1) as i32) as i16
        })
        .collect()
}

/// How far the media time of a frame may run ahead of the clock.
pub(crate) const LEAD: Duration = Duration::from_millis(100);

/// Cuts chunks into 20 ms frames (the unit of the VAD and the recorder). The first sample plays at the instant the first chunk arrived and
/// each frame is dated by the samples before it (media time), so timestamps are exact whatever
/// the chunk sizes; a frame is handed on only once the clock is within `LEAD` of its end.
#[derive(Debug)]
pub(crate) struct Framer {
    rate: u32,
    frame_len: usize,
    pending: VecDeque<i16>,
    base: Option<Duration>,
    consumed: u64,
}

fn duration_of(samples: u64, rate: u32) -> Duration {
    let nanos = u128::from(samples) * 1_000_000_000 / u128::from(rate.max(1));
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

impl Framer {
    pub(crate) fn new(rate: u32) -> Framer {
        Framer {
            rate: rate.max(1),
            frame_len: usize::try_from(rate / 50).unwrap_or(1).max(1),
            pending: VecDeque::new(),
            base: None,
            consumed: 0,
        }
    }

    pub(crate) fn push(&mut self, now: Duration, samples: &[i16]) {
        self.base.get_or_insert(now);
        self.pending.extend(samples.iter().copied());
    }

    /// Audio received but not yet handed on.
    pub(crate) fn buffered(&self) -> Duration {
        duration_of(self.pending.len() as u64, self.rate)
    }

    pub(crate) fn frame_duration(&self) -> Duration {
        duration_of(self.frame_len as u64, self.rate)
    }

    fn next_at(&self) -> Option<Duration> {
        self.base
            .map(|b| b.saturating_add(duration_of(self.consumed, self.rate)))
    }

    /// When the next whole frame may be handed on, if one is buffered.
    pub(crate) fn next_due(&self) -> Option<Duration> {
        if self.pending.len() < self.frame_len {
            return None;
        }
        self.next_at()
            .map(|at| (at + self.frame_duration()).saturating_sub(LEAD))
    }

    /// The next frame and the media time of its first sample, once it is due at `now`.
    pub(crate) fn pop_due(&mut self, now: Duration) -> Option<(Duration, Vec<i16>)> {
        if self.next_due()? > now {
            return None;
        }
        let at = self.next_at()?;
        let frame: Vec<i16> = self.pending.drain(..self.frame_len).collect();
        self.consumed = self.consumed.saturating_add(frame.len() as u64);
        Some((at, frame))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn a_burst_of_audio_is_released_at_the_pace_of_the_clock() {
        let mut f = Framer::new(8_000);
        // Two seconds arrive at once, as from an ALSA file PCM.
        f.push(MS(1_000), &vec![0; 16_000]);
        let mut released = Vec::new();
        while let Some((at, frame)) = f.pop_due(MS(1_000)) {
            assert_eq!(frame.len(), 160);
            released.push(at);
        }
        // Frames ending no later than 100 ms ahead of the clock: 1000..1080 start times.
        assert_eq!(
            released,
            vec![MS(1_000), MS(1_020), MS(1_040), MS(1_060), MS(1_080)]
        );
        assert_eq!(f.next_due(), Some(MS(1_020)));
        assert!(f.pop_due(MS(1_019)).is_none());
        assert_eq!(f.pop_due(MS(1_020)).map(|(at, _)| at), Some(MS(1_100)));
    }

    #[test]
    fn odd_chunk_sizes_keep_exact_media_time() {
        let mut f = Framer::new(44_100);
        for _ in 0..10 {
            f.push(MS(0), &[1; 1_000]);
        }
        let ats: Vec<Duration> =
            std::iter::from_fn(|| f.pop_due(MS(10_000)).map(|(at, _)| at)).collect();
        assert_eq!(ats.len(), 10_000 / 882);
        assert_eq!(ats.get(1), Some(&MS(20)));
        assert_eq!(ats.last(), Some(&MS(200)));
        assert!(
            f.next_due().is_none(),
            "a partial frame waits for more audio"
        );
    }

    #[test]
    fn channels_are_averaged_into_mono() {
        assert_eq!(downmix(&[100i16, 300, -50, -150], 2), vec![200, -100]);
        let f = downmix(&[0.5f32, 0.5], 1);
        assert_eq!(f, vec![16_384, 16_384]);
    }
}
