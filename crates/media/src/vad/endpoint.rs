//! Endpointing: turns per-frame speech decisions into start and end events.
//!
//! Speech starts after a run of `MIN_SPEECH` (a click, a cough or a burst of background chatter
//! is shorter) and is dated back to the run's first frame; it ends after `HANGOVER` without
//! speech (longer than the pauses inside a sentence) and is dated at the end of the last speech
//! frame.
//!
//! Within `RESUME_WINDOW` of an end, a run of `RESUME_MIN_SPEECH` is enough: a caller who
//! paused is likely to go on. The recorder's `maxSilenceTimeout` runs from the end, and a
//! caller who resumes just before it is only reported once the run is confirmed, so the timer
//! waits `confirmation_after(timeout)` longer; the short resume run keeps that wait (and every
//! silence completion) at 40 ms.

use std::time::Duration;

pub const MIN_SPEECH: Duration = Duration::from_millis(100);
pub const HANGOVER: Duration = Duration::from_millis(260);
pub const RESUME_MIN_SPEECH: Duration = Duration::from_millis(40);
pub const RESUME_WINDOW: Duration = Duration::from_secs(2);

/// How long after a silence of `silence` a SpeechStarted can come for speech that resumed just
/// before the silence reached it: the confirmation run the endpointer waits for. A timer that
/// ends a recording after `silence` waits this much longer, so a caller who resumed in time is
/// not cut off while the endpointer makes sure it is speech.
pub fn confirmation_after(silence: Duration) -> Duration {
    if silence <= RESUME_WINDOW {
        RESUME_MIN_SPEECH
    } else {
        MIN_SPEECH
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    SpeechStarted { at: Duration },
    SpeechEnded { at: Duration },
}

#[derive(Debug, Clone, Default)]
pub struct Endpointer {
    in_speech: bool,
    run_start: Option<Duration>,
    last_speech_end: Option<Duration>,
    /// When the last SpeechEnded was dated.
    ended_at: Option<Duration>,
}

impl Endpointer {
    pub fn in_speech(&self) -> bool {
        self.in_speech
    }

    /// One frame starting at `at`, lasting `len`.
    pub fn process(&mut self, at: Duration, len: Duration, speech: bool) -> Option<Endpoint> {
        let end = at + len;
        if speech {
            self.last_speech_end = Some(end);
            let start = *self.run_start.get_or_insert(at);
            let resuming = self
                .ended_at
                .is_some_and(|e| start.saturating_sub(e) < RESUME_WINDOW);
            let needed = if resuming {
                RESUME_MIN_SPEECH
            } else {
                MIN_SPEECH
            };
            if !self.in_speech && end.saturating_sub(start) >= needed {
                self.in_speech = true;
                return Some(Endpoint::SpeechStarted { at: start });
            }
            return None;
        }
        self.run_start = None;
        match self.last_speech_end {
            Some(last) if self.in_speech && end.saturating_sub(last) >= HANGOVER => {
                self.in_speech = false;
                self.ended_at = Some(last);
                Some(Endpoint::SpeechEnded { at: last })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    fn run(pattern: &str) -> Vec<Endpoint> {
        let mut e = Endpointer::default();
        let f = Duration::from_millis(20);
        pattern
            .chars()
            .enumerate()
            .filter_map(|(i, c)| e.process(f * i as u32, f, c == 'x'))
            .collect()
    }

    #[test]
    fn short_bursts_do_not_start_speech() {
        assert!(run("...xxx...x.xx......xxxx......").is_empty());
    }

    #[test]
    fn start_is_backdated_and_end_waits_for_hangover() {
        let ms = Duration::from_millis;
        let ev = run("..xxxxxx.....xxxx...............");
        assert_eq!(
            ev,
            vec![
                Endpoint::SpeechStarted { at: ms(40) },
                Endpoint::SpeechEnded { at: ms(340) }
            ]
        );
    }

    #[test]
    fn speech_resumes_on_a_short_run_soon_after_an_end() {
        let ms = Duration::from_millis;
        // Ends at 160 ms; 40 ms of speech 0.7 s later is a restart.
        let ev = run(&format!("xxxxxxxx{}xx....", ".".repeat(35)));
        assert_eq!(
            ev,
            vec![
                Endpoint::SpeechStarted { at: ms(0) },
                Endpoint::SpeechEnded { at: ms(160) },
                Endpoint::SpeechStarted { at: ms(860) },
            ]
        );
        // 2 s after the end it takes a full `MIN_SPEECH` again.
        let ev = run(&format!("xxxxxxxx{}xx....xxxx....", ".".repeat(100)));
        assert_eq!(ev.len(), 2, "{ev:?}");
    }
}
