//! A virtual-time call for scenario tests: 20 ms frames, prompt and beep playout, speech, digits
//! and hang-up on a schedule, and the recording file as the runtime would leave it.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::Duration;

use media::Digit;
use recorder::{
    Action, MediaQueue, OperationId, OperationOutcome, OperationStatus, PlayWhat, PlaybackId,
    PromptRef, RecordParams, RecorderConfig,
};

pub const FRAME: Duration = Duration::from_millis(20);
pub const BEEP: Duration = Duration::from_millis(500);

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

pub fn op(n: u128) -> OperationId {
    OperationId(n)
}

pub fn prompt(uri: &str) -> PromptRef {
    PromptRef {
        uri: uri.into(),
        resource_id: None,
        looped: false,
    }
}

#[derive(Debug, Clone)]
enum Event {
    PlayoutEnd(PlaybackId),
    SpeechStart(Duration),
    SpeechEnd(Duration),
    Digit(Digit, Duration),
    RtpStops,
    RtpResumes,
    HangUp,
}

pub struct Call {
    pub q: MediaQueue,
    pub now: Duration,
    pub rate: u32,
    /// Length of every prompt's playout.
    pub prompt_len: Duration,
    pub beep_fails: bool,
    rtp: bool,
    speaking: bool,
    frame_index: u64,
    schedule: Vec<(Duration, Event)>,
    pub plays: Vec<(Duration, OperationId, PlayWhat)>,
    pub stops: Vec<(Duration, PlaybackId)>,
    pub statuses: Vec<(Duration, OperationId, OperationStatus)>,
    pub files: HashMap<OperationId, Vec<i16>>,
    pub starts: Vec<(OperationId, u32)>,
    pub finishes: Vec<(OperationId, u64)>,
    pub outcomes: Vec<OperationOutcome>,
    /// Every action, in order, for ordering assertions.
    pub log: Vec<String>,
}

impl Call {
    pub fn new(rate: u32) -> Self {
        Self::with_config(rate, RecorderConfig::default())
    }

    pub fn with_config(rate: u32, config: RecorderConfig) -> Self {
        Call {
            q: MediaQueue::new(RecorderConfig {
                audio_rate: Some(rate),
                ..config
            }),
            now: Duration::ZERO,
            rate,
            prompt_len: secs(2),
            beep_fails: false,
            rtp: true,
            speaking: false,
            frame_index: 0,
            schedule: Vec::new(),
            plays: Vec::new(),
            stops: Vec::new(),
            statuses: Vec::new(),
            files: HashMap::new(),
            starts: Vec::new(),
            finishes: Vec::new(),
            outcomes: Vec::new(),
            log: Vec::new(),
        }
    }

    pub fn record(&mut self, id: OperationId, params: RecordParams) {
        self.q.record(self.now, id, params).unwrap();
        self.drain();
    }

    pub fn speech(&mut self, from: Duration, to: Duration) {
        self.schedule.push((from, Event::SpeechStart(from)));
        self.schedule.push((to, Event::SpeechEnd(to)));
    }

    /// Speech over [from, to) whose start the endpointer reports only `confirmed` after it
    /// began (its confirmation run).
    pub fn speech_confirmed_after(&mut self, from: Duration, to: Duration, confirmed: Duration) {
        self.schedule
            .push((from + confirmed, Event::SpeechStart(from)));
        self.schedule.push((to, Event::SpeechEnd(to)));
    }

    /// A digit pressed at `at`, detected `delay` later.
    pub fn digit(&mut self, d: Digit, at: Duration, delay: Duration) {
        self.schedule.push((at + delay, Event::Digit(d, at)));
    }

    pub fn rtp_stops_at(&mut self, t: Duration) {
        self.schedule.push((t, Event::RtpStops));
    }

    pub fn rtp_resumes_at(&mut self, t: Duration) {
        self.schedule.push((t, Event::RtpResumes));
    }

    pub fn hang_up_at(&mut self, t: Duration) {
        self.schedule.push((t, Event::HangUp));
    }

    /// Sample value of the frame that starts at `t` (frames carry their index, so tests can
    /// see exactly which audio the file kept).
    pub fn sample_at(t: Duration) -> i16 {
        ((t.as_millis() / 20) % 30_000) as i16 + 1
    }

    /// Advances virtual time to `until`, firing timers at their exact deadline.
    pub fn run_until(&mut self, until: Duration) {
        while self.now < until {
            let tick = self.now + FRAME;
            while let Some(d) = self.q.poll_timeout() {
                if d >= tick || d < self.now {
                    break;
                }
                self.now = d;
                self.q.handle_timeout(d);
                self.drain();
            }
            self.now = tick;
            self.fire_events();
            if self.rtp {
                let at = tick - FRAME;
                self.q.handle_rtp_seen(tick);
                let n = (self.rate / 50) as usize;
                let v = Self::sample_at(at);
                self.q.handle_frame(tick, at, &vec![v; n], self.rate);
                self.frame_index += 1;
            } else {
                self.q.handle_timeout(tick);
            }
            self.drain();
        }
    }

    /// Runs until nothing is running or queued (bounded, to catch livelocks).
    pub fn run_to_idle(&mut self) {
        let limit = self.now + secs(700);
        while !self.q.is_idle() && self.now < limit {
            self.run_until(self.now + FRAME);
        }
        assert!(self.q.is_idle(), "queue never went idle");
    }

    fn fire_events(&mut self) {
        let now = self.now;
        let mut due: Vec<(Duration, Event)> = Vec::new();
        self.schedule.retain(|(t, e)| {
            if *t <= now {
                due.push((*t, e.clone()));
                false
            } else {
                true
            }
        });
        due.sort_by_key(|(t, _)| *t);
        for (_, e) in due {
            match e {
                Event::PlayoutEnd(pb) => {
                    let _ = self.q.handle_playout_finished(now, pb);
                }
                Event::SpeechStart(at) => {
                    self.speaking = true;
                    self.q.handle_speech_started(now, at);
                }
                Event::SpeechEnd(at) => {
                    self.speaking = false;
                    self.q.handle_speech_ended(now, at);
                }
                Event::Digit(d, at) => self.q.handle_digit(now, d, at, None),
                Event::RtpStops => self.rtp = false,
                Event::RtpResumes => self.rtp = true,
                Event::HangUp => {
                    self.q.handle_call_ended(now);
                    self.drain();
                    // Where the runtime sends the call's `deleted` notification.
                    self.log.push("call deleted".into());
                }
            }
            self.drain();
        }
    }

    pub fn drain(&mut self) {
        while let Some(a) = self.q.poll_action() {
            let now = self.now;
            match a {
                Action::Play { op, playback, what } => {
                    self.log.push(format!("play {what:?}"));
                    self.plays.push((now, op, what.clone()));
                    match what {
                        PlayWhat::Prompt(p) if p.uri.contains("broken") => {
                            self.q
                                .handle_prompt_failed(now, op, "HTTP 404 from prompt URI".into())
                                .unwrap();
                        }
                        PlayWhat::Prompt(_) => {
                            self.q.handle_prompt_ready(now, op).unwrap();
                            self.schedule
                                .push((now + self.prompt_len, Event::PlayoutEnd(playback)));
                        }
                        PlayWhat::Beep if self.beep_fails => {
                            self.q
                                .handle_playout_failed(now, playback, "no beep codec".into())
                                .unwrap();
                        }
                        PlayWhat::Beep => {
                            self.schedule
                                .push((now + BEEP, Event::PlayoutEnd(playback)));
                        }
                    }
                }
                Action::StopPlayout { playback } => {
                    self.log.push("stop".into());
                    self.stops.push((now, playback));
                    self.schedule
                        .retain(|(_, e)| !matches!(e, Event::PlayoutEnd(p) if *p == playback));
                }
                Action::StartRecording { op, rate } => {
                    self.log.push(format!("start recording {}", op.0));
                    assert!(self.files.insert(op, Vec::new()).is_none(), "started twice");
                    self.starts.push((op, rate));
                }
                Action::WriteSamples { op, samples } => {
                    self.files
                        .get_mut(&op)
                        .expect("write before start")
                        .extend(samples);
                }
                Action::FinishRecording { op, keep_samples } => {
                    self.log.push(format!("finish recording {}", op.0));
                    let f = self.files.get_mut(&op).expect("finish before start");
                    assert!(keep_samples as usize <= f.len(), "keep beyond written");
                    f.truncate(keep_samples as usize);
                    self.finishes.push((op, keep_samples));
                }
                Action::StatusChanged { op, status } => {
                    self.log
                        .push(format!("status {} {}", op.0, status.as_str()));
                    self.statuses.push((now, op, status));
                }
                Action::Completed(o) => {
                    self.log.push(format!("completed {}", o.op.0));
                    assert!(
                        self.outcomes.iter().all(|x| x.op != o.op),
                        "second completion for {:?}",
                        o.op
                    );
                    self.outcomes.push(*o);
                }
            }
        }
    }

    pub fn outcome(&self, id: OperationId) -> &OperationOutcome {
        self.outcomes
            .iter()
            .find(|o| o.op == id)
            .unwrap_or_else(|| panic!("no completion for {id:?}: {:?}", self.log))
    }

    pub fn file(&self, id: OperationId) -> &[i16] {
        self.files.get(&id).map(|f| f.as_slice()).unwrap_or(&[])
    }

    /// The recording's length as a duration.
    pub fn file_len(&self, id: OperationId) -> Duration {
        Duration::from_secs_f64(self.file(id).len() as f64 / f64::from(self.rate))
    }
}

/// Asserts two instants or lengths agree within one 20 ms frame.
#[track_caller]
pub fn within_frame(actual: Duration, expected: Duration) {
    let diff = actual.abs_diff(expected);
    assert!(
        diff <= FRAME,
        "{actual:?} is not within a frame of {expected:?}"
    );
}
