//! G.711 µ-law (PCMU) and A-law (PCMA), ITU-T G.711 (11/88) §3–§4.
//!
//! Decoding uses 256-entry tables; encoding uses a 16 K-entry (µ-law, 14-bit input) or 8 K-entry
//! (A-law, 13-bit input) table indexed by the top bits of the sample, all built at compile time
//! from the segment formulas, so a 20 ms frame costs 160 loads either way.

use super::{CodecKind, Decoder, Encoder};
use crate::Error;

/// µ-law bias added before the segment search (G.711 Table 2a: 33 in 14-bit units, ×4).
const ULAW_BIAS: i32 = 0x84;
/// Even-bit inversion applied to every A-law code (G.711 §4, note to Table 1a).
const ALAW_AMI: u8 = 0x55;

const fn ulaw_decode_one(code: u8) -> i16 {
    let u = !code;
    let mut t = (((u & 0x0F) as i32) << 3) + ULAW_BIAS;
    t <<= ((u & 0x70) >> 4) as i32;
    if u & 0x80 != 0 {
        (ULAW_BIAS - t) as i16
    } else {
        (t - ULAW_BIAS) as i16
    }
}

const fn alaw_decode_one(code: u8) -> i16 {
    let a = code ^ ALAW_AMI;
    let mut t = ((a & 0x0F) as i32) << 4;
    let seg = ((a & 0x70) >> 4) as i32;
    if seg == 0 {
        t += 8;
    } else {
        t = (t + 0x108) << (seg - 1);
    }
    if a & 0x80 != 0 {
        t as i16
    } else {
        -t as i16
    }
}

/// Index of the highest set bit (`x` > 0).
const fn top_bit(x: i32) -> i32 {
    31 - x.leading_zeros() as i32
}

const fn ulaw_encode_formula(linear: i32) -> u8 {
    let (mag, mask) = if linear < 0 {
        (ULAW_BIAS - linear - 1, 0x7Fu8)
    } else {
        (ULAW_BIAS + linear, 0xFFu8)
    };
    let seg = top_bit(mag | 0xFF) - 7;
    if seg >= 8 {
        0x7F ^ mask
    } else {
        (((seg << 4) | ((mag >> (seg + 3)) & 0x0F)) as u8) ^ mask
    }
}

const fn alaw_encode_formula(linear: i32) -> u8 {
    let (mag, mask) = if linear >= 0 {
        (linear, ALAW_AMI | 0x80)
    } else {
        (-linear - 1, ALAW_AMI)
    };
    let seg = top_bit(mag | 0xFF) - 7;
    if seg >= 8 {
        0x7F ^ mask
    } else {
        let shift = if seg == 0 { 4 } else { seg + 3 };
        (((seg << 4) | ((mag >> shift) & 0x0F)) as u8) ^ mask
    }
}

const fn build_decode(alaw: bool) -> [i16; 256] {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = if alaw {
            alaw_decode_one(i as u8)
        } else {
            ulaw_decode_one(i as u8)
        };
        i += 1;
    }
    t
}

/// µ-law quantises 14-bit input: every sample in `[4k, 4k+3]` encodes alike.
const fn build_ulaw_encode() -> [u8; 16_384] {
    let mut t = [0u8; 16_384];
    let mut i = 0;
    while i < 16_384 {
        let linear = ((i as i32) - 8_192) << 2;
        t[i] = ulaw_encode_formula(linear);
        i += 1;
    }
    t
}

/// A-law quantises 13-bit input: every sample in `[8k, 8k+7]` encodes alike.
const fn build_alaw_encode() -> [u8; 8_192] {
    let mut t = [0u8; 8_192];
    let mut i = 0;
    while i < 8_192 {
        let linear = ((i as i32) - 4_096) << 3;
        t[i] = alaw_encode_formula(linear);
        i += 1;
    }
    t
}

static ULAW_DECODE: [i16; 256] = build_decode(false);
static ALAW_DECODE: [i16; 256] = build_decode(true);
static ULAW_ENCODE: [u8; 16_384] = build_ulaw_encode();
static ALAW_ENCODE: [u8; 8_192] = build_alaw_encode();

/// Decodes one µ-law code.
pub fn ulaw_to_linear(code: u8) -> i16 {
    ULAW_DECODE[usize::from(code)]
}

/// Decodes one A-law code.
pub fn alaw_to_linear(code: u8) -> i16 {
    ALAW_DECODE[usize::from(code)]
}

/// Encodes one sample as µ-law.
pub fn linear_to_ulaw(sample: i16) -> u8 {
    // (sample >> 2) + 8192 is in 0..16384 for every i16.
    ULAW_ENCODE[((i32::from(sample) >> 2) + 8_192) as usize]
}

/// Encodes one sample as A-law.
pub fn linear_to_alaw(sample: i16) -> u8 {
    // (sample >> 3) + 4096 is in 0..8192 for every i16.
    ALAW_ENCODE[((i32::from(sample) >> 3) + 4_096) as usize]
}

/// PCMU or PCMA, which are stateless in both directions.
#[derive(Debug, Clone, Copy)]
pub struct G711 {
    alaw: bool,
}

impl G711 {
    pub fn ulaw() -> G711 {
        G711 { alaw: false }
    }

    pub fn alaw() -> G711 {
        G711 { alaw: true }
    }
}

impl Decoder for G711 {
    fn kind(&self) -> CodecKind {
        if self.alaw {
            CodecKind::Pcma
        } else {
            CodecKind::Pcmu
        }
    }

    fn decode(&mut self, payload: &[u8], out: &mut Vec<i16>) -> Result<(), Error> {
        let table = if self.alaw {
            &ALAW_DECODE
        } else {
            &ULAW_DECODE
        };
        out.extend(payload.iter().map(|&c| table[usize::from(c)]));
        Ok(())
    }

    fn conceal(&mut self, samples: usize, out: &mut Vec<i16>) {
        out.resize(out.len() + samples, 0);
    }
}

impl Encoder for G711 {
    fn kind(&self) -> CodecKind {
        Decoder::kind(self)
    }

    fn encode(&mut self, pcm: &[i16], out: &mut Vec<u8>) -> Result<(), Error> {
        if self.alaw {
            out.extend(pcm.iter().map(|&s| linear_to_alaw(s)));
        } else {
            out.extend(pcm.iter().map(|&s| linear_to_ulaw(s)));
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn tables_match_the_formulas_for_every_sample() {
        for s in i16::MIN..=i16::MAX {
            assert_eq!(linear_to_ulaw(s), ulaw_encode_formula(i32::from(s)), "{s}");
            assert_eq!(linear_to_alaw(s), alaw_encode_formula(i32::from(s)), "{s}");
        }
    }
}
