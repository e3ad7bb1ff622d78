//! G.722 sub-band ADPCM at 64 kbit/s (ITU-T G.722 (09/2012) §3–§4, mode 1).
//!
//! 16 kHz PCM is split by a 24-tap QMF into two 8 kHz sub-bands; the lower band is coded with
//! 6-bit ADPCM, the upper with 2-bit ADPCM, one octet per pair of input samples. Block numbers in
//! the comments are those of the Recommendation's figures. The RTP clock is 8 kHz
//! (RFC 3551 §4.5.2) although the audio is 16 kHz.

use super::{CodecKind, Decoder, Encoder};
use crate::Error;

/// QMF coefficients (Table 11), one half of the symmetric 24-tap filter, in the interleaved
/// order that the even/odd accumulators walk.
const QMF: [i32; 12] = [3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11];
/// Lower-band decision levels (Table 14, ×det >> 12).
const Q6: [i32; 32] = [
    0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940,
    1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919, 0, 0,
];
const ILN: [u8; 32] = [
    0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11,
    10, 9, 8, 7, 6, 5, 4, 0,
];
const ILP: [u8; 32] = [
    0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39,
    38, 37, 36, 35, 34, 33, 32, 0,
];
/// Lower-band log scale-factor multipliers (Table 17) and 4-bit code mapping.
const WL: [i32; 8] = [-60, -30, 58, 172, 334, 538, 1198, 3042];
const RL42: [usize; 16] = [0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0];
/// Inverse log table for the scale factor (Table 18).
const ILB: [i32; 32] = [
    2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
    2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
];
/// Upper-band multipliers and code mapping (Tables 16, 19).
const WH: [i32; 3] = [0, -214, 798];
const RH2: [usize; 4] = [2, 1, 2, 1];
const IHN: [u8; 3] = [0, 1, 0];
const IHP: [u8; 3] = [0, 3, 2];
/// Inverse quantisers: 2-bit upper band, 4-bit lower band (adaptation), 6-bit lower band
/// (reconstruction) (Tables 15, 16).
const QM2: [i32; 4] = [-7408, -1616, 7408, 1616];
const QM4: [i32; 16] = [
    0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584,
    1200, 0,
];
const QM6: [i32; 64] = [
    -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232,
    -9360, -8576, -7856, -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776,
    -2400, -2032, -1688, -1360, -1040, -728, 24808, 21904, 19008, 16704, 14984, 13512, 12280,
    11192, 10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456, 4944, 4464, 4008, 3576, 3168, 2776,
    2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432, -136,
];

fn sat(x: i32) -> i32 {
    x.clamp(i32::from(i16::MIN), i32::from(i16::MAX))
}

/// Adaptive predictor and scale factor of one sub-band (Blocks 3 and 4).
#[derive(Debug, Clone)]
struct Band {
    s: i32,
    sp: i32,
    sz: i32,
    r: [i32; 3],
    a: [i32; 3],
    p: [i32; 3],
    d: [i32; 7],
    b: [i32; 7],
    nb: i32,
    det: i32,
}

impl Band {
    fn new(det: i32) -> Band {
        Band {
            s: 0,
            sp: 0,
            sz: 0,
            r: [0; 3],
            a: [0; 3],
            p: [0; 3],
            d: [0; 7],
            b: [0; 7],
            nb: 0,
            det,
        }
    }

    /// Blocks 3L/3H LOGSCL + SCALEL: `wl` is the log multiplier, `limit` the nabla ceiling and
    /// `shift_base` 8 (lower) or 10 (upper).
    fn scale(&mut self, wl: i32, limit: i32, shift_base: i32) {
        self.nb = (((self.nb * 127) >> 7) + wl).clamp(0, limit);
        let mant = ILB[((self.nb >> 6) & 31) as usize];
        let shift = shift_base - (self.nb >> 11);
        let det = if shift < 0 {
            mant << -shift
        } else {
            mant >> shift
        };
        self.det = det << 2;
    }

    /// Block 4: reconstruction, pole/zero predictor adaptation and the next prediction.
    fn adapt(&mut self, d: i32) {
        self.d[0] = d;
        self.r[0] = sat(self.s + d);
        self.p[0] = sat(self.sz + d);

        // UPPOL2
        let sg0 = self.p[0] >> 15;
        let sg1 = self.p[1] >> 15;
        let sg2 = self.p[2] >> 15;
        let wd1 = sat(self.a[1] << 2);
        let wd2 = if sg0 == sg1 { -wd1 } else { wd1 }.min(32767);
        let wd3 = (wd2 >> 7) + if sg0 == sg2 { 128 } else { -128 } + ((self.a[2] * 32512) >> 15);
        let ap2 = wd3.clamp(-12288, 12288);

        // UPPOL1
        let wd1 = if sg0 == sg1 { 192 } else { -192 };
        let lim = sat(15360 - ap2);
        let ap1 = sat(wd1 + ((self.a[1] * 32640) >> 15)).clamp(-lim, lim);

        // UPZERO
        let step = if d == 0 { 0 } else { 128 };
        let sgd = d >> 15;
        let mut bp = [0i32; 7];
        for ((bp, d), b) in bp.iter_mut().zip(&self.d).zip(&self.b).skip(1) {
            let wd2 = if d >> 15 == sgd { step } else { -step };
            *bp = sat(wd2 + ((b * 32640) >> 15));
        }

        // DELAYA
        for i in (1..7).rev() {
            self.d[i] = self.d[i - 1];
            self.b[i] = bp[i];
        }
        self.r[2] = self.r[1];
        self.r[1] = self.r[0];
        self.p[2] = self.p[1];
        self.p[1] = self.p[0];
        self.a[2] = ap2;
        self.a[1] = ap1;

        // FILTEP
        let wd1 = (self.a[1] * sat(self.r[1] + self.r[1])) >> 15;
        let wd2 = (self.a[2] * sat(self.r[2] + self.r[2])) >> 15;
        self.sp = sat(wd1 + wd2);

        // FILTEZ
        let sz: i32 = (1..7)
            .map(|i| (self.b[i] * sat(self.d[i] + self.d[i])) >> 15)
            .sum();
        self.sz = sat(sz);

        // PREDIC
        self.s = sat(self.sp + self.sz);
    }
}

/// Shared codec state: the two sub-bands and the QMF delay line.
#[derive(Debug, Clone)]
struct State {
    low: Band,
    high: Band,
    x: [i32; 24],
}

impl State {
    fn new() -> State {
        State {
            low: Band::new(32),
            high: Band::new(8),
            x: [0; 24],
        }
    }

    fn push_qmf(&mut self, a: i32, b: i32) -> (i32, i32) {
        self.x.copy_within(2.., 0);
        self.x[22] = a;
        self.x[23] = b;
        let mut even = 0;
        let mut odd = 0;
        for (i, c) in QMF.iter().enumerate() {
            odd += self.x[2 * i] * c;
            even += self.x[2 * i + 1] * QMF[11 - i];
        }
        (even, odd)
    }

    fn encode_pair(&mut self, s0: i16, s1: i16) -> u8 {
        // Transmit QMF: >> 14 = DC gain 4096, two filters summed, 15-bit ADPCM input.
        let (even, odd) = self.push_qmf(i32::from(s0), i32::from(s1));
        let xlow = (even + odd) >> 14;
        let xhigh = (even - odd) >> 14;

        // Block 1L SUBTRA + QUANTL.
        let el = sat(xlow - self.low.s);
        let wd = if el >= 0 { el } else { -(el + 1) };
        let mut i = 1;
        while i < 30 && wd >= (Q6[i] * self.low.det) >> 12 {
            i += 1;
        }
        let ilow = if el < 0 { ILN[i] } else { ILP[i] };
        // Block 2L INVQAL, 3L, 4L.
        let ril = usize::from(ilow >> 2);
        let dlow = (self.low.det * QM4[ril]) >> 15;
        self.low.scale(WL[RL42[ril]], 18432, 8);
        self.low.adapt(dlow);

        // Block 1H SUBTRA + QUANTH.
        let eh = sat(xhigh - self.high.s);
        let wd = if eh >= 0 { eh } else { -(eh + 1) };
        let mih = if wd >= (564 * self.high.det) >> 12 {
            2
        } else {
            1
        };
        let ihigh = if eh < 0 { IHN[mih] } else { IHP[mih] };
        // Block 2H INVQAH, 3H, 4H.
        let dhigh = (self.high.det * QM2[usize::from(ihigh)]) >> 15;
        self.high.scale(WH[RH2[usize::from(ihigh)]], 22528, 10);
        self.high.adapt(dhigh);

        (ihigh << 6) | ilow
    }

    fn decode_octet(&mut self, code: u8) -> (i16, i16) {
        let ilow = usize::from(code & 0x3F);
        let ihigh = usize::from(code >> 6);

        // Block 5L INVQBL + RECONS + LIMIT, using the full 6-bit code.
        let rlow = (self.low.s + ((self.low.det * QM6[ilow]) >> 15)).clamp(-16384, 16383);
        // Blocks 2L–4L adapt on the 4-bit code, exactly as the encoder did.
        let ril = ilow >> 2;
        let dlowt = (self.low.det * QM4[ril]) >> 15;
        self.low.scale(WL[RL42[ril]], 18432, 8);
        self.low.adapt(dlowt);

        // Blocks 2H, 5H, 6H.
        let dhigh = (self.high.det * QM2[ihigh]) >> 15;
        let rhigh = (dhigh + self.high.s).clamp(-16384, 16383);
        self.high.scale(WH[RH2[ihigh]], 22528, 10);
        self.high.adapt(dhigh);

        // Receive QMF.
        let (even, odd) = self.push_qmf(rlow + rhigh, rlow - rhigh);
        (sat(even >> 11) as i16, sat(odd >> 11) as i16)
    }
}

/// G.722 encoder: 2 samples at 16 kHz → 1 octet.
#[derive(Debug, Clone)]
pub struct G722Encoder {
    state: State,
}

impl G722Encoder {
    pub fn new() -> G722Encoder {
        G722Encoder {
            state: State::new(),
        }
    }
}

impl Default for G722Encoder {
    fn default() -> Self {
        G722Encoder::new()
    }
}

impl Encoder for G722Encoder {
    fn kind(&self) -> CodecKind {
        CodecKind::G722
    }

    /// An odd trailing sample is dropped: frames are always an even number of 16 kHz samples.
    fn encode(&mut self, pcm: &[i16], out: &mut Vec<u8>) -> Result<(), Error> {
        out.reserve(pcm.len() / 2);
        for pair in pcm.chunks_exact(2) {
            if let [a, b] = pair {
                out.push(self.state.encode_pair(*a, *b));
            }
        }
        Ok(())
    }
}

/// G.722 decoder: 1 octet → 2 samples at 16 kHz.
#[derive(Debug, Clone)]
pub struct G722Decoder {
    state: State,
}

impl G722Decoder {
    pub fn new() -> G722Decoder {
        G722Decoder {
            state: State::new(),
        }
    }
}

impl Default for G722Decoder {
    fn default() -> Self {
        G722Decoder::new()
    }
}

impl Decoder for G722Decoder {
    fn kind(&self) -> CodecKind {
        CodecKind::G722
    }

    fn decode(&mut self, payload: &[u8], out: &mut Vec<i16>) -> Result<(), Error> {
        out.reserve(payload.len() * 2);
        for &code in payload {
            let (a, b) = self.state.decode_octet(code);
            out.push(a);
            out.push(b);
        }
        Ok(())
    }

    /// G.722 has no concealment of its own (Appendix III/IV are optional); silence keeps the
    /// predictor state untouched so the next packet decodes cleanly.
    fn conceal(&mut self, samples: usize, out: &mut Vec<i16>) {
        out.resize(out.len() + samples, 0);
    }
}
