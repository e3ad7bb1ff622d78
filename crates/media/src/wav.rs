//! WAV prompts in, WAV headers out. Prompts arrive as whatever an operator uploaded: any RIFF/WAVE
//! PCM, float, A-law or µ-law file at 8–48 kHz, mono or multichannel. They are decoded once to
//! 16-bit mono [`Pcm`] and resampled to the call's codec rate by `resample`.
//!
//! The chunk parser is ours (hound reads neither µ-law nor A-law) and never panics: every
//! malformation is a [`WavError`], and output is capped by [`WavLimits`].

use crate::Error;

/// 16-bit mono PCM at `rate` Hz.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pcm {
    pub rate: u32,
    pub samples: Vec<i16>,
}

impl Pcm {
    /// Length in milliseconds, rounded down.
    pub fn duration_ms(&self) -> u64 {
        if self.rate == 0 {
            return 0;
        }
        self.samples.len() as u64 * 1_000 / u64::from(self.rate)
    }
}

/// Why a WAV file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WavError {
    #[error("not a RIFF/WAVE file")]
    NotWave,
    #[error("no fmt chunk before the end of the file")]
    MissingFormat,
    #[error("no data chunk")]
    MissingData,
    #[error("fmt chunk of {len} bytes is too short")]
    FormatTooShort { len: usize },
    #[error("format tag {tag:#06x} is not supported")]
    UnsupportedFormat { tag: u16 },
    #[error("{bits}-bit samples are not supported for format tag {tag:#06x}")]
    UnsupportedBits { tag: u16, bits: u16 },
    #[error("{channels} channels are not supported")]
    UnsupportedChannels { channels: u16 },
    #[error("sample rate {rate} Hz is outside 8000–48000")]
    UnsupportedRate { rate: u32 },
    #[error("decoded audio would take {bytes} bytes, the limit is {max}")]
    TooLarge { bytes: u64, max: u64 },
}

/// Bounds on what a prompt may decode to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WavLimits {
    /// Largest decoded mono 16-bit output, in bytes.
    pub max_sample_bytes: u64,
}

impl Default for WavLimits {
    /// 50 MiB of 16-bit samples: about 27 minutes at 16 kHz.
    fn default() -> Self {
        WavLimits {
            max_sample_bytes: 50 * 1024 * 1024,
        }
    }
}

const TAG_PCM: u16 = 0x0001;
const TAG_FLOAT: u16 = 0x0003;
const TAG_ALAW: u16 = 0x0006;
const TAG_ULAW: u16 = 0x0007;
const TAG_EXTENSIBLE: u16 = 0xFFFE;
const MIN_RATE: u32 = 8_000;
const MAX_RATE: u32 = 48_000;
const MAX_CHANNELS: u16 = 8;

fn fail(reason: WavError) -> Error {
    Error::Wav { reason }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

#[derive(Debug, Clone, Copy)]
struct Format {
    tag: u16,
    channels: u16,
    rate: u32,
    bits: u16,
}

/// WAVEFORMATEX, and for WAVE_FORMAT_EXTENSIBLE the real tag from the first two bytes of the
/// SubFormat GUID (KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT / _ALAW / _MULAW).
fn parse_format(body: &[u8]) -> Result<Format, Error> {
    let short = || fail(WavError::FormatTooShort { len: body.len() });
    let mut tag = u16_at(body, 0).ok_or_else(short)?;
    let channels = u16_at(body, 2).ok_or_else(short)?;
    let rate = u32_at(body, 4).ok_or_else(short)?;
    let bits = u16_at(body, 14).ok_or_else(short)?;
    if tag == TAG_EXTENSIBLE {
        tag = u16_at(body, 24).ok_or_else(short)?;
    }
    let supported = match tag {
        TAG_PCM => matches!(bits, 8 | 16 | 24 | 32),
        TAG_FLOAT => matches!(bits, 32 | 64),
        TAG_ALAW | TAG_ULAW => bits == 8,
        _ => return Err(fail(WavError::UnsupportedFormat { tag })),
    };
    if !supported {
        return Err(fail(WavError::UnsupportedBits { tag, bits }));
    }
    if channels == 0 || channels > MAX_CHANNELS {
        return Err(fail(WavError::UnsupportedChannels { channels }));
    }
    if !(MIN_RATE..=MAX_RATE).contains(&rate) {
        return Err(fail(WavError::UnsupportedRate { rate }));
    }
    Ok(Format {
        tag,
        channels,
        rate,
        bits,
    })
}

/// Decodes a WAV file with the default [`WavLimits`].
pub fn decode_wav(bytes: &[u8]) -> Result<Pcm, Error> {
    decode_wav_with(bytes, WavLimits::default())
}

/// Decodes a WAV file to 16-bit mono, averaging channels. Unknown chunks are skipped, odd-sized
/// chunks are padded (RIFF pad byte), and a `data` size running past the end of the file (a cut
/// download) is clamped to what is there.
pub fn decode_wav_with(bytes: &[u8], limits: WavLimits) -> Result<Pcm, Error> {
    if bytes.get(0..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WAVE") {
        return Err(fail(WavError::NotWave));
    }
    let mut format = None;
    let mut data = None;
    let mut pos = 12usize;
    while let (Some(id), Some(size)) = (bytes.get(pos..pos + 4), u32_at(bytes, pos + 4)) {
        let start = pos + 8;
        let end = start.saturating_add(size as usize).min(bytes.len());
        let body = bytes.get(start..end).unwrap_or(&[]);
        match id {
            b"fmt " => format = Some(parse_format(body)?),
            b"data" => data = Some(body),
            _ => {}
        }
        if data.is_some() && format.is_some() {
            break;
        }
        let padded = (size as usize).saturating_add(size as usize & 1);
        pos = match start.checked_add(padded) {
            Some(next) if next < bytes.len() => next,
            _ => break,
        };
    }
    let format = format.ok_or(fail(WavError::MissingFormat))?;
    let data = data.ok_or(fail(WavError::MissingData))?;
    let width = usize::from(format.bits / 8);
    let frame = width * usize::from(format.channels);
    let frames = data.len() / frame;
    let bytes_out = frames as u64 * 2;
    if bytes_out > limits.max_sample_bytes {
        return Err(fail(WavError::TooLarge {
            bytes: bytes_out,
            max: limits.max_sample_bytes,
        }));
    }
    let mut samples = Vec::with_capacity(frames);
    let channels = i32::from(format.channels);
    for f in data.chunks_exact(frame) {
        let sum: i32 = f
            .chunks_exact(width)
            .map(|s| i32::from(to_i16(format.tag, s)))
            .sum();
        samples.push((sum / channels) as i16);
    }
    Ok(Pcm {
        rate: format.rate,
        samples,
    })
}

/// One little-endian sample of `tag`'s encoding; `s.len()` is the container width, which
/// `parse_format` has checked against the tag.
fn to_i16(tag: u16, s: &[u8]) -> i16 {
    match (tag, s) {
        (TAG_ULAW, [c]) => crate::codec::g711::ulaw_to_linear(*c),
        (TAG_ALAW, [c]) => crate::codec::g711::alaw_to_linear(*c),
        (TAG_PCM, [c]) => (i16::from(*c) - 128) << 8,
        (TAG_PCM, [a, b]) => i16::from_le_bytes([*a, *b]),
        (TAG_PCM, [_, b, c]) => i16::from_le_bytes([*b, *c]),
        (TAG_PCM, [_, _, c, d]) => i16::from_le_bytes([*c, *d]),
        (TAG_FLOAT, [a, b, c, d]) => float_to_i16(f64::from(f32::from_le_bytes([*a, *b, *c, *d]))),
        (TAG_FLOAT, [a, b, c, d, e, f, g, h]) => {
            float_to_i16(f64::from_le_bytes([*a, *b, *c, *d, *e, *f, *g, *h]))
        }
        _ => 0,
    }
}

fn float_to_i16(x: f64) -> i16 {
    if x.is_nan() {
        return 0;
    }
    (x.clamp(-1.0, 1.0) * 32767.0).round() as i16
}

/// `data_len` meaning "length not known yet": a streaming writer puts this (or 0) in the header
/// and patches both size fields when the recording ends.
pub const STREAMING_DATA_LEN: u32 = u32::MAX;

/// The 44-byte canonical PCM WAV header (RIFF, `fmt ` of 16 bytes, `data`). `data_len` is the
/// byte length of the samples that follow; 0 or [`STREAMING_DATA_LEN`] are the placeholders for
/// a stream whose length is not known yet (the RIFF size then saturates rather than wraps).
pub fn encode_wav_header(rate: u32, channels: u16, bits: u16, data_len: u32) -> [u8; 44] {
    let block_align = channels.saturating_mul(bits / 8);
    let byte_rate = rate.saturating_mul(u32::from(block_align));
    let riff_len = data_len.saturating_add(36);
    let mut h = [0u8; 44];
    let fields: [&[u8]; 13] = [
        b"RIFF",
        &riff_len.to_le_bytes(),
        b"WAVE",
        b"fmt ",
        &16u32.to_le_bytes(),
        &TAG_PCM.to_le_bytes(),
        &channels.to_le_bytes(),
        &rate.to_le_bytes(),
        &byte_rate.to_le_bytes(),
        &block_align.to_le_bytes(),
        &bits.to_le_bytes(),
        b"data",
        &data_len.to_le_bytes(),
    ];
    let mut at = 0;
    for f in fields {
        if let Some(dst) = h.get_mut(at..at + f.len()) {
            dst.copy_from_slice(f);
        }
        at += f.len();
    }
    h
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_through_the_parser() {
        let mut file = encode_wav_header(8_000, 1, 16, 4).to_vec();
        file.extend_from_slice(&[0x01, 0x00, 0xFF, 0x7F]);
        let pcm = decode_wav(&file).unwrap();
        assert_eq!(pcm.rate, 8_000);
        assert_eq!(pcm.samples, vec![1, i16::MAX]);
    }

    #[test]
    fn streaming_placeholder_saturates_riff_size() {
        let h = encode_wav_header(16_000, 1, 16, STREAMING_DATA_LEN);
        assert_eq!(&h[4..8], &u32::MAX.to_le_bytes());
        assert_eq!(&h[40..44], &u32::MAX.to_le_bytes());
        assert_eq!(&h[28..32], &32_000u32.to_le_bytes());
    }
}
