//! One key press, one digit: the same digit seen by two paths (RFC 4733 and the in-band tone,
//! or SIP INFO) within the event's duration plus a margin is reported once.

use std::time::Duration;

use crate::Digit;

use super::DigitSource;

const MARGIN: Duration = Duration::from_millis(100);
/// Window used when the first report did not say how long the tone lasts.
const DEFAULT_DURATION: Duration = Duration::from_millis(300);
const MEMORY: usize = 8;

#[derive(Debug, Clone, Copy)]
struct Seen {
    digit: Digit,
    source: DigitSource,
    at: Duration,
    window: Duration,
}

#[derive(Debug, Default)]
pub struct DigitDedup {
    recent: [Option<Seen>; MEMORY],
    next: usize,
}

impl DigitDedup {
    /// Whether a digit starting at `at` is new. A repeat from the same source is always new
    /// (two presses of one key); the same digit from another source inside the window is not.
    pub fn accept(
        &mut self,
        digit: Digit,
        source: DigitSource,
        at: Duration,
        duration: Option<Duration>,
    ) -> bool {
        let window = duration.unwrap_or(DEFAULT_DURATION) + MARGIN;
        let dup = self.recent.iter().flatten().any(|s| {
            s.digit == digit
                && s.source != source
                && if at >= s.at {
                    at - s.at <= s.window
                } else {
                    s.at - at <= window
                }
        });
        if !dup {
            if let Some(slot) = self.recent.get_mut(self.next) {
                *slot = Some(Seen {
                    digit,
                    source,
                    at,
                    window,
                });
            }
            self.next = (self.next + 1) % MEMORY;
        }
        !dup
    }

    /// Widens the window of the accepted digit once its real duration is known.
    pub fn set_duration(&mut self, digit: Digit, source: DigitSource, at: Duration, d: Duration) {
        for s in self.recent.iter_mut().flatten() {
            if s.digit == digit && s.source == source && s.at == at {
                s.window = d + MARGIN;
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn same_digit_by_two_paths_counts_once() {
        let mut d = DigitDedup::default();
        let ms = Duration::from_millis;
        assert!(d.accept(Digit::D1, DigitSource::Rfc4733, ms(1000), Some(ms(160))));
        assert!(!d.accept(Digit::D1, DigitSource::InBand, ms(1010), None));
        assert!(!d.accept(Digit::D1, DigitSource::SipInfo, ms(1200), None));
        // Same source, same digit: typed twice.
        assert!(d.accept(Digit::D1, DigitSource::Rfc4733, ms(1240), Some(ms(160))));
        // Outside the window it is a new press.
        assert!(d.accept(Digit::D1, DigitSource::InBand, ms(1600), None));
        assert!(d.accept(Digit::D2, DigitSource::InBand, ms(1010), None));
    }
}
