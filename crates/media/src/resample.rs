//! Sample-rate conversion for prompts. A prompt is converted once, when it is loaded, to the
//! PCM rate of the call's codec, so quality wins over speed: a 256-tap windowed-sinc resampler
//! (rubato), with its filter delay removed so the output lines up with the input.

use rubato::{
    Resampler, SincFixedIn, SincInterpolationParameters, SincInterpolationType, WindowFunction,
};

use crate::wav::Pcm;
use crate::Error;

/// Input frames per processing call.
const CHUNK: usize = 1_024;
/// Rates a prompt or codec can have: anything outside is refused rather than guessed at.
const RATES: std::ops::RangeInclusive<u32> = 8_000..=192_000;

/// The prompt resampler's filter: 256-tap windowed sinc, cubic interpolation.
pub fn sinc_params() -> SincInterpolationParameters {
    SincInterpolationParameters {
        sinc_len: 256,
        f_cutoff: 0.95,
        oversampling_factor: 256,
        interpolation: SincInterpolationType::Cubic,
        window: WindowFunction::BlackmanHarris2,
    }
}

/// Converts `pcm` to `to_rate`; the same rate is a copy.
pub fn resample(pcm: &Pcm, to_rate: u32) -> Result<Pcm, Error> {
    let fail = |reason: String| Error::Resample {
        from: pcm.rate,
        to: to_rate,
        reason,
    };
    if !RATES.contains(&pcm.rate) || !RATES.contains(&to_rate) {
        return Err(fail("rate outside 8–192 kHz".into()));
    }
    if pcm.rate == to_rate || pcm.samples.is_empty() {
        return Ok(Pcm {
            rate: to_rate,
            samples: pcm.samples.clone(),
        });
    }
    let ratio = f64::from(to_rate) / f64::from(pcm.rate);
    let mut r = SincFixedIn::<f32>::new(ratio, 1.0, sinc_params(), CHUNK, 1)
        .map_err(|e| fail(e.to_string()))?;
    let want = (pcm.samples.len() as f64 * ratio).round() as usize;
    let delay = r.output_delay();
    let input: Vec<f32> = pcm
        .samples
        .iter()
        .map(|&s| f32::from(s) / 32768.0)
        .collect();
    let mut out: Vec<f32> = Vec::with_capacity(want + delay + CHUNK);
    let mut buf = r.output_buffer_allocate(true);
    let mut chunks = input.chunks_exact(CHUNK);
    for chunk in chunks.by_ref() {
        let (_, n) = r
            .process_into_buffer(&[chunk], &mut buf, None)
            .map_err(|e| fail(e.to_string()))?;
        out.extend_from_slice(buf[0].get(..n).unwrap_or(&[]));
    }
    let rest = chunks.remainder();
    let (_, n) = r
        .process_partial_into_buffer(Some(&[rest]), &mut buf, None)
        .map_err(|e| fail(e.to_string()))?;
    out.extend_from_slice(buf[0].get(..n).unwrap_or(&[]));
    // Flush the filter's tail; each call yields at least one frame, so this ends.
    while out.len() < want + delay {
        let (_, n) = r
            .process_partial_into_buffer(None::<&[&[f32]]>, &mut buf, None)
            .map_err(|e| fail(e.to_string()))?;
        if n == 0 {
            break;
        }
        out.extend_from_slice(buf[0].get(..n).unwrap_or(&[]));
    }
    let samples = out
        .iter()
        .skip(delay)
        .take(want)
        .map(|&v| (v * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
        .collect();
    Ok(Pcm {
        rate: to_rate,
        samples,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn same_rate_is_a_copy_and_bad_rates_are_refused() {
        let pcm = Pcm {
            rate: 8_000,
            samples: vec![1, 2, 3],
        };
        assert_eq!(resample(&pcm, 8_000).unwrap(), pcm);
        assert!(resample(&pcm, 0).is_err());
        assert!(resample(
            &Pcm {
                rate: 0,
                samples: vec![1]
            },
            8_000
        )
        .is_err());
    }

    #[test]
    fn short_input_keeps_its_length() {
        let pcm = Pcm {
            rate: 16_000,
            samples: vec![1_000; 7],
        };
        let out = resample(&pcm, 8_000).unwrap();
        assert_eq!(out.samples.len(), 4);
    }
}
