//! The recording as text: a peak envelope drawn in ASCII, the speech span found by RMS windows,
//! and where the stop tone ended the file.

use std::fmt::Write;
use std::time::Duration;

use media::wav::Pcm;

/// RMS window for the speech span.
const WINDOW: Duration = Duration::from_millis(20);
/// A window is speech when its RMS is above this (about -45 dBFS) and within 30 dB of the
/// loudest window: quiet line noise stays out, soft syllables stay in.
const FLOOR_RMS: f64 = 180.0;
const BELOW_LOUDEST: f64 = 0.0316;

/// `[start, end)` of the speech in `pcm`, `None` when nothing is above the threshold.
pub fn speech_span(pcm: &Pcm) -> Option<(Duration, Duration)> {
    let win = (u64::from(pcm.rate) * WINDOW.as_millis() as u64 / 1_000).max(1) as usize;
    let rms: Vec<f64> = pcm
        .samples
        .chunks(win)
        .map(|c| {
            let sum: f64 = c.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
            (sum / c.len().max(1) as f64).sqrt()
        })
        .collect();
    let loudest = rms.iter().copied().fold(0.0, f64::max);
    let threshold = FLOOR_RMS.max(loudest * BELOW_LOUDEST);
    let first = rms.iter().position(|&r| r > threshold)?;
    let last = rms.iter().rposition(|&r| r > threshold)?;
    let at = |w: usize| {
        let sample = (w * win).min(pcm.samples.len());
        Duration::from_secs_f64(sample as f64 / f64::from(pcm.rate.max(1)))
    };
    Some((at(first), at(last + 1)))
}

/// A `cols` × `rows` mirrored peak envelope (scaled to the loudest column), an axis, and a line
/// marking `speech` with `[===]` and the stop tone with `#` just past the end of the audio (the
/// tone itself is cut from the file).
pub fn render(
    pcm: &Pcm,
    cols: usize,
    rows: usize,
    speech: Option<(Duration, Duration)>,
    stop_tone: bool,
) -> String {
    let cols = cols.max(1);
    let half = (rows / 2).max(1);
    let len = pcm.samples.len();
    let peaks: Vec<f64> = (0..cols)
        .map(|c| {
            let (a, b) = (
                c * len / cols,
                ((c + 1) * len / cols).max(c * len / cols + 1),
            );
            pcm.samples
                .get(a..b.min(len))
                .unwrap_or_default()
                .iter()
                .map(|s| f64::from(s.saturating_abs()))
                .fold(0.0, f64::max)
        })
        .collect();
    let loudest = peaks.iter().copied().fold(1.0, f64::max);
    let heights: Vec<usize> = peaks
        .iter()
        .map(|&p| {
            let h = (p / loudest * half as f64).round() as usize;
            // Anything audible shows at least one cell.
            if p > FLOOR_RMS { h.max(1) } else { h }.min(half)
        })
        .collect();
    let mut out = String::new();
    for r in 0..half * 2 {
        out.push_str("  |");
        for &h in &heights {
            let filled = if r < half {
                half - r <= h
            } else {
                r - half < h
            };
            out.push(if filled { '|' } else { ' ' });
        }
        out.push_str("|\n");
    }
    let total = Duration::from_secs_f64(len as f64 / f64::from(pcm.rate.max(1)));
    let _ = writeln!(out, "  +{}+", "-".repeat(cols));
    let end_label = format!("{:.2} s", total.as_secs_f64());
    let _ = writeln!(
        out,
        "  0 s{}{}",
        " ".repeat((cols + 2).saturating_sub(3 + end_label.len())),
        end_label
    );
    let mut marks = vec![' '; cols + 2];
    if let Some((start, end)) = speech {
        let col = |t: Duration| {
            let c = t.as_secs_f64() / total.as_secs_f64().max(f64::EPSILON) * cols as f64;
            (c as usize).min(cols.saturating_sub(1))
        };
        // `end` is exclusive: the bracket closes on the column of the last speech sample.
        let (a, b) = (
            col(start) + 1,
            col(end.saturating_sub(Duration::from_millis(1))) + 1,
        );
        for m in marks.iter_mut().take(b + 1).skip(a) {
            *m = '=';
        }
        set(&mut marks, a, '[');
        set(&mut marks, b.max(a), ']');
    }
    if stop_tone {
        set(&mut marks, cols + 1, '#');
    }
    let _ = writeln!(out, "  {}", marks.iter().collect::<String>().trim_end());
    out
}

fn set(marks: &mut [char], at: usize, c: char) {
    if let Some(m) = marks.get_mut(at) {
        *m = c;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    fn tone_between(rate: u32, secs: f64, from: f64, to: f64) -> Pcm {
        let n = (f64::from(rate) * secs) as usize;
        let samples = (0..n)
            .map(|i| {
                let t = i as f64 / f64::from(rate);
                if (from..to).contains(&t) {
                    (8_000.0 * (t * 2.0 * std::f64::consts::PI * 300.0).sin()) as i16
                } else {
                    0
                }
            })
            .collect();
        Pcm { rate, samples }
    }

    #[test]
    fn speech_span_brackets_the_loud_part() {
        let pcm = tone_between(8_000, 4.0, 1.0, 3.0);
        let (a, b) = speech_span(&pcm).unwrap();
        assert!((a.as_secs_f64() - 1.0).abs() < 0.03, "{a:?}");
        assert!((b.as_secs_f64() - 3.0).abs() < 0.03, "{b:?}");
        assert!(speech_span(&tone_between(8_000, 1.0, 2.0, 3.0)).is_none());
    }

    #[test]
    fn render_marks_speech_and_tone_under_the_envelope() {
        let pcm = tone_between(8_000, 4.0, 1.0, 3.0);
        let text = render(&pcm, 40, 8, speech_span(&pcm), true);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 8 + 3);
        // Silent first quarter, loud middle.
        assert_eq!(&lines[0][3..13], "          ");
        assert_eq!(&lines[0][13..33], "|".repeat(20));
        assert_eq!(&lines[0][33..43], "          ");
        let marks = lines[10];
        assert_eq!(marks.find('['), Some(13), "{text}");
        assert_eq!(marks.find(']'), Some(32), "{text}");
        assert_eq!(marks.find('#'), Some(43), "{text}");
    }
}
