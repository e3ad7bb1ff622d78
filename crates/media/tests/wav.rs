//! Prompt files as operators upload them: every common WAV flavour decodes to the same mono
//! audio, broken files are refused with a reason, and nothing panics.
#![allow(clippy::unwrap_used)] // Tests unwrap freely (STYLE.md).

use media::resample::resample;
use media::wav::{decode_wav, decode_wav_with, encode_wav_header, Pcm, WavError, WavLimits};
use media::Error;

/// A WAV file with a `fmt ` chunk of `fmt` and the given extra chunks before `data`.
fn wav(fmt: &[u8], extra: &[(&[u8; 4], &[u8])], data: &[u8]) -> Vec<u8> {
    let mut body = b"WAVE".to_vec();
    let mut chunk = |id: &[u8; 4], bytes: &[u8]| {
        body.extend_from_slice(id);
        body.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        body.extend_from_slice(bytes);
        if bytes.len() % 2 == 1 {
            body.push(0);
        }
    };
    chunk(b"fmt ", fmt);
    for (id, bytes) in extra {
        chunk(id, bytes);
    }
    chunk(b"data", data);
    let mut file = b"RIFF".to_vec();
    file.extend_from_slice(&(body.len() as u32).to_le_bytes());
    file.extend_from_slice(&body);
    file
}

fn fmt(tag: u16, channels: u16, rate: u32, bits: u16) -> Vec<u8> {
    let align = channels * bits / 8;
    let mut f = Vec::new();
    f.extend_from_slice(&tag.to_le_bytes());
    f.extend_from_slice(&channels.to_le_bytes());
    f.extend_from_slice(&rate.to_le_bytes());
    f.extend_from_slice(&(rate * u32::from(align)).to_le_bytes());
    f.extend_from_slice(&align.to_le_bytes());
    f.extend_from_slice(&bits.to_le_bytes());
    f
}

/// WAVE_FORMAT_EXTENSIBLE around `sub_tag` (the first two bytes of the SubFormat GUID).
fn fmt_extensible(sub_tag: u16, channels: u16, rate: u32, bits: u16) -> Vec<u8> {
    let mut f = fmt(0xFFFE, channels, rate, bits);
    f.extend_from_slice(&22u16.to_le_bytes());
    f.extend_from_slice(&bits.to_le_bytes());
    f.extend_from_slice(&0u32.to_le_bytes());
    f.extend_from_slice(&sub_tag.to_le_bytes());
    f.extend_from_slice(&[
        0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
    ]);
    f
}

fn reason(e: Error) -> WavError {
    match e {
        Error::Wav { reason } => reason,
        other => panic!("not a WAV error: {other:?}"),
    }
}

const REFERENCE: [i16; 4] = [0, 16_384, -16_384, 32_767];

#[test]
fn every_sample_encoding_decodes_to_the_same_audio() {
    let pcm16: Vec<u8> = REFERENCE.iter().flat_map(|s| s.to_le_bytes()).collect();
    let pcm8: Vec<u8> = REFERENCE.iter().map(|&s| ((s >> 8) + 128) as u8).collect();
    let pcm24: Vec<u8> = REFERENCE
        .iter()
        .flat_map(|s| {
            let b = s.to_le_bytes();
            [0x7F, b[0], b[1]]
        })
        .collect();
    let pcm32: Vec<u8> = REFERENCE
        .iter()
        .flat_map(|&s| (i32::from(s) << 16).to_le_bytes())
        .collect();
    let f32s: Vec<u8> = REFERENCE
        .iter()
        .flat_map(|&s| (f32::from(s) / 32767.0).to_le_bytes())
        .collect();
    let f64s: Vec<u8> = REFERENCE
        .iter()
        .flat_map(|&s| (f64::from(s) / 32767.0).to_le_bytes())
        .collect();
    let cases: Vec<(&str, Vec<u8>, Vec<u8>, i16)> = vec![
        ("pcm16", fmt(1, 1, 8_000, 16), pcm16.clone(), 0),
        ("pcm8", fmt(1, 1, 8_000, 8), pcm8, 256),
        ("pcm24", fmt(1, 1, 8_000, 24), pcm24.clone(), 0),
        ("pcm32", fmt(1, 1, 8_000, 32), pcm32, 0),
        ("float32", fmt(3, 1, 8_000, 32), f32s, 1),
        ("float64", fmt(3, 1, 8_000, 64), f64s.clone(), 1),
        (
            "extensible pcm24",
            fmt_extensible(1, 1, 8_000, 24),
            pcm24,
            0,
        ),
        (
            "extensible float64",
            fmt_extensible(3, 1, 8_000, 64),
            f64s,
            1,
        ),
    ];
    for (name, f, data, tolerance) in cases {
        let pcm = decode_wav(&wav(&f, &[], &data)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(pcm.rate, 8_000, "{name}");
        assert_eq!(pcm.samples.len(), 4, "{name}");
        for (got, want) in pcm.samples.iter().zip(REFERENCE) {
            assert!((got - want).abs() <= tolerance, "{name}: {got} vs {want}");
        }
    }
}

#[test]
fn companded_files_decode_through_g711() {
    let ulaw = decode_wav(&wav(&fmt(7, 1, 8_000, 8), &[], &[0x00, 0x80, 0xFF])).unwrap();
    assert_eq!(ulaw.samples, vec![-32_124, 32_124, 0]);
    let alaw = decode_wav(&wav(&fmt(6, 1, 8_000, 8), &[], &[0xD5, 0x55])).unwrap();
    assert_eq!(alaw.samples, vec![8, -8]);
    let ext = decode_wav(&wav(&fmt_extensible(7, 1, 8_000, 8), &[], &[0x80])).unwrap();
    assert_eq!(ext.samples, vec![32_124]);
}

#[test]
fn stereo_is_averaged_to_mono() {
    let data: Vec<u8> = [1_000i16, 3_000, -2_000, 2_000]
        .iter()
        .flat_map(|s| s.to_le_bytes())
        .collect();
    let pcm = decode_wav(&wav(&fmt(1, 2, 44_100, 16), &[], &data)).unwrap();
    assert_eq!(
        pcm,
        Pcm {
            rate: 44_100,
            samples: vec![2_000, 0]
        }
    );
}

#[test]
fn unknown_and_odd_sized_chunks_are_skipped() {
    let data = [0x10, 0x00, 0x20, 0x00];
    let file = wav(
        &fmt(1, 1, 16_000, 16),
        &[(b"LIST", b"odd"), (b"fact", &[0; 4])],
        &data,
    );
    assert_eq!(decode_wav(&file).unwrap().samples, vec![16, 32]);
}

#[test]
fn a_cut_download_keeps_the_audio_that_arrived() {
    let mut file = encode_wav_header(8_000, 1, 16, 1_000_000).to_vec();
    file.extend_from_slice(&[1, 0, 2, 0, 3]);
    assert_eq!(decode_wav(&file).unwrap().samples, vec![1, 2]);
    // The streaming placeholder reads the same way.
    let mut file = encode_wav_header(8_000, 1, 16, u32::MAX).to_vec();
    file.extend_from_slice(&[1, 0]);
    assert_eq!(decode_wav(&file).unwrap().samples, vec![1]);
}

#[test]
fn malformed_files_are_refused_with_a_reason() {
    let good_fmt = fmt(1, 1, 8_000, 16);
    let cases: Vec<(Vec<u8>, WavError)> = vec![
        (Vec::new(), WavError::NotWave),
        (b"RIFX\0\0\0\0WAVE".to_vec(), WavError::NotWave),
        (b"RIFF\x04\0\0\0WAVE".to_vec(), WavError::MissingFormat),
        (
            wav(&good_fmt, &[], &[])[..36].to_vec(),
            WavError::MissingData,
        ),
        (
            wav(&good_fmt[..10], &[], &[0, 0]),
            WavError::FormatTooShort { len: 10 },
        ),
        (
            wav(&fmt(2, 1, 8_000, 4), &[], &[0]),
            WavError::UnsupportedFormat { tag: 2 },
        ),
        (
            wav(&fmt(1, 1, 8_000, 12), &[], &[0]),
            WavError::UnsupportedBits { tag: 1, bits: 12 },
        ),
        (
            wav(&fmt(7, 1, 8_000, 16), &[], &[0]),
            WavError::UnsupportedBits { tag: 7, bits: 16 },
        ),
        (
            wav(&fmt(1, 0, 8_000, 16), &[], &[0]),
            WavError::UnsupportedChannels { channels: 0 },
        ),
        (
            wav(&fmt(1, 1, 4_000, 16), &[], &[0]),
            WavError::UnsupportedRate { rate: 4_000 },
        ),
        (
            wav(&fmt(1, 1, 96_000, 16), &[], &[0]),
            WavError::UnsupportedRate { rate: 96_000 },
        ),
    ];
    for (file, want) in cases {
        assert_eq!(reason(decode_wav(&file).unwrap_err()), want);
    }
}

#[test]
fn output_size_is_bounded() {
    let file = wav(&fmt(1, 1, 8_000, 16), &[], &[0; 2_000]);
    let limits = WavLimits {
        max_sample_bytes: 1_000,
    };
    assert_eq!(
        reason(decode_wav_with(&file, limits).unwrap_err()),
        WavError::TooLarge {
            bytes: 2_000,
            max: 1_000
        }
    );
    assert!(decode_wav(&file).is_ok());
}

#[test]
fn every_truncation_and_byte_flip_is_handled() {
    let file = wav(
        &fmt_extensible(1, 2, 22_050, 24),
        &[(b"LIST", b"abc")],
        &[7; 60],
    );
    for len in 0..file.len() {
        let _ = decode_wav(&file[..len]);
    }
    for i in 0..file.len() {
        for v in [0x00, 0x7F, 0x80, 0xFF] {
            let mut f = file.clone();
            f[i] = v;
            let _ = decode_wav(&f);
        }
    }
}

fn tone_stereo_44k(freq: f64, seconds: f64, peak: f64) -> Vec<u8> {
    let n = (44_100.0 * seconds) as usize;
    let mut data = Vec::with_capacity(n * 4);
    for i in 0..n {
        let v = (peak * (2.0 * std::f64::consts::PI * freq * i as f64 / 44_100.0).sin()) as i16;
        data.extend_from_slice(&v.to_le_bytes());
        data.extend_from_slice(&v.to_le_bytes());
    }
    wav(&fmt(1, 2, 44_100, 16), &[], &data)
}

fn rms_db(x: &[i16]) -> f64 {
    let p = x.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / x.len() as f64;
    10.0 * (p / 32768f64.powi(2)).log10()
}

#[test]
fn a_44k_stereo_prompt_becomes_an_8k_prompt_with_the_same_tone() {
    let src = decode_wav(&tone_stereo_44k(1_000.0, 2.0, 16_000.0)).unwrap();
    let out = resample(&src, 8_000).unwrap();
    assert_eq!(out.rate, 8_000);
    // Duration within one 20 ms frame.
    assert!(
        (out.samples.len() as i64 - 16_000).abs() <= 160,
        "{}",
        out.samples.len()
    );
    // Level within 0.5 dB (edges excluded: the filter rings in and out).
    let mid_in = &src.samples[4_410..src.samples.len() - 4_410];
    let mid_out = &out.samples[800..out.samples.len() - 800];
    let (a, b) = (rms_db(mid_in), rms_db(mid_out));
    assert!((a - b).abs() < 0.5, "{a:.2} dB in, {b:.2} dB out");
    // Frequency: 1 kHz is 2000 zero crossings a second.
    let crossings = mid_out
        .windows(2)
        .filter(|w| (w[0] < 0) != (w[1] < 0))
        .count();
    let secs = mid_out.len() as f64 / 8_000.0;
    let freq = crossings as f64 / 2.0 / secs;
    assert!((freq - 1_000.0).abs() < 5.0, "{freq} Hz");
}

#[test]
fn upsampling_to_16k_for_wideband_codecs_keeps_alignment() {
    let src = Pcm {
        rate: 8_000,
        samples: (0..8_000).map(|i| ((i % 80) as i16 - 40) * 200).collect(),
    };
    let out = resample(&src, 16_000).unwrap();
    assert_eq!(out.samples.len(), 16_000);
}

#[test]
fn fuzz_seeds_are_valid_prompts() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/wav");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let pcm = decode_wav(&bytes).unwrap();
        assert!(!pcm.samples.is_empty());
        seen += 1;
    }
    assert!(seen >= 5);
}
