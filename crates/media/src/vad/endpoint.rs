//! Endpointing: turns per-frame speech decisions into start and end events.
//!
//! Speech starts after a run of `MIN_SPEECH` (a click or a cough is shorter) and is dated back
//! to the run's first frame; it ends after `HANGOVER` without speech (longer than the pauses
//! inside a sentence) and is dated at the end of the last speech frame.

use std::time::Duration;

pub const MIN_SPEECH: Duration = Duration::from_millis(80);
pub const HANGOVER: Duration = Duration::from_millis(260);

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
            if !self.in_speech && end.saturating_sub(start) >= MIN_SPEECH {
                self.in_speech = true;
                return Some(Endpoint::SpeechStarted { at: start });
            }
            return None;
        }
        self.run_start = None;
        match self.last_speech_end {
            Some(last) if self.in_speech && end.saturating_sub(last) >= HANGOVER => {
                self.in_speech = false;
                Some(Endpoint::SpeechEnded { at: last })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
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
        assert!(run("...xxx...x.xx......").is_empty());
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
}
