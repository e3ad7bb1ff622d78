//! The run loop of `callclip record`: one thread owns the `MediaQueue`, the VAD, the in-band
//! DTMF detector and the recording file, exactly as a call task does for a network call; the
//! microphone stands in for the caller's RTP and the keyboard for the keypad.

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use media::dtmf::inband::{ToneDetector, ToneUpdate};
use media::vad::{frame_dbfs, Endpoint, Endpointer, Vad};
use media::Digit;
use recorder::{
    Action, MediaQueue, OperationId, OperationOutcome, PlayWhat, PlaybackId, PromptRef,
    RecordParams, RecorderConfig,
};
use tracing::{debug, warn};

use super::capture::{Framer, Microphone};
use super::devices::{self, Direction};
use super::keys::{self, Control};
use super::speaker::Speaker;
use super::SoundcardError;
use crate::clock::Clock;
use crate::recording_file::{FinishedRecording, RecordingWriter};

/// How long the input device may take to deliver its first audio.
const FIRST_AUDIO: Duration = Duration::from_secs(5);
/// The loop wakes at least this often (keys, new audio, the meter).
const TICK: Duration = Duration::from_millis(10);
/// Audio taken from the callback ahead of the clock; past this the callback is held back.
const MAX_BUFFERED: Duration = Duration::from_millis(500);
const PROGRESS_EVERY: Duration = Duration::from_millis(100);
const OP: OperationId = OperationId(1);

/// What to record and where.
#[derive(Debug, Clone)]
pub struct RecordOptions {
    /// Input device name (`None`: the default device).
    pub input: Option<String>,
    /// Output device for prompt and beep (`None`: the default device, opened only if needed).
    pub output: Option<String>,
    /// Validated with `recorder::params::validate`, as the API does; a prompt's `uri` is a path.
    pub params: RecordParams,
    pub out: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Prompt,
    Beep,
    Recording,
}

/// A snapshot for the level meter, every 100 ms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Since the operation started.
    pub elapsed: Duration,
    /// Loudest 20 ms frame since the previous snapshot.
    pub level_dbfs: f32,
    pub stage: Stage,
    pub speaking: bool,
    /// Audio written to the file so far.
    pub recorded: Duration,
}

#[derive(Debug, Clone)]
pub struct RecordReport {
    pub outcome: OperationOutcome,
    /// The finished file, when the operation got as far as recording.
    pub file: Option<FinishedRecording>,
    /// Why the file could not be finished, if it could not.
    pub file_error: Option<String>,
    pub input: String,
    pub input_rate: u32,
}

struct Playing {
    playback: PlaybackId,
    stage: Stage,
    ends: Duration,
}

struct Run {
    clock: Clock,
    opts: RecordOptions,
    queue: MediaQueue,
    rate: u32,
    framer: Framer,
    vad: Vad,
    endpointer: Endpointer,
    tones: ToneDetector,
    tone_updates: Vec<ToneUpdate>,
    speaker: Option<Speaker>,
    events: mpsc::Sender<Control>,
    playing: Option<Playing>,
    writer: Option<RecordingWriter>,
    file: Option<FinishedRecording>,
    file_error: Option<String>,
    outcome: Option<OperationOutcome>,
    start: Duration,
    peak_db: f32,
}

/// Runs one record operation on the sound card until it completes (a timeout, a stop key or
/// tone, the duration cap, or Ctrl-C, which cancels and keeps the audio). `progress` is called
/// every 100 ms from the loop's thread.
pub fn record(
    opts: RecordOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<RecordReport, SoundcardError> {
    let clock = Clock::new();
    let (tx, rx) = mpsc::channel();
    let device = devices::find(Direction::Input, opts.input.as_deref())?;
    let mic = Microphone::open(&device, tx.clone())?;
    if let Err(e) = keys::watch_interrupt(tx.clone()) {
        warn!(error = %e, "Ctrl-C will not be caught");
    }
    let _terminal = keys::watch_keyboard(tx.clone());
    let first = mic
        .wait_chunk(FIRST_AUDIO)
        .ok_or_else(|| SoundcardError::NoAudio {
            device: mic.name.clone(),
            waited: FIRST_AUDIO,
        })?;
    let start = clock.now();
    let mut framer = Framer::new(mic.rate);
    framer.push(start, &first);
    let mut queue = MediaQueue::new(RecorderConfig {
        audio_rate: Some(mic.rate),
        ..RecorderConfig::default()
    });
    queue.record(start, OP, opts.params.clone())?;
    let mut run = Run {
        clock,
        opts,
        queue,
        rate: mic.rate,
        framer,
        vad: Vad::default(),
        endpointer: Endpointer::default(),
        tones: ToneDetector::new(mic.rate),
        tone_updates: Vec::new(),
        speaker: None,
        events: tx,
        playing: None,
        writer: None,
        file: None,
        file_error: None,
        outcome: None,
        start,
        peak_db: -120.0,
    };
    run.pump(start);
    let mut next_progress = start;
    let outcome = loop {
        let now = run.clock.now();
        run.step(now, &mic, &rx);
        if let Some(outcome) = run.outcome.take() {
            break outcome;
        }
        if now >= next_progress {
            progress(&run.progress(now));
            next_progress = now + PROGRESS_EVERY;
        }
        let wake = [
            run.framer.next_due(),
            run.queue.poll_timeout(),
            run.playing.as_ref().map(|p| p.ends),
            Some(next_progress),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(now + TICK);
        sleep(wake.saturating_sub(run.clock.now()).min(TICK));
    };
    Ok(RecordReport {
        outcome,
        file: run.file,
        file_error: run.file_error,
        input: mic.name.clone(),
        input_rate: mic.rate,
    })
}

// The I/O layer waits in real time: it paces a source faster than real time and idles between
// ticks. The machines themselves never sleep.
#[allow(clippy::disallowed_methods)]
fn sleep(d: Duration) {
    if !d.is_zero() {
        std::thread::sleep(d);
    }
}

impl Run {
    fn step(&mut self, now: Duration, mic: &Microphone, rx: &Receiver<Control>) {
        while let Ok(c) = rx.try_recv() {
            match c {
                Control::Key(ch) => {
                    if let Some(d) = Digit::from_char(ch).filter(|d| *d != Digit::Flash) {
                        debug!(digit = %d, "key");
                        self.queue.handle_digit(now, d, now, None);
                    }
                }
                Control::Interrupt => {
                    self.queue.cancel_all(now);
                }
                Control::DeviceError(e) => warn!(error = %e, "sound device"),
            }
        }
        while self.framer.buffered() < MAX_BUFFERED {
            match mic.try_chunk() {
                Some(chunk) => self.framer.push(now, &chunk),
                None => break,
            }
        }
        while let Some((at, frame)) = self.framer.pop_due(now) {
            self.on_frame(now, at, &frame);
        }
        let finished = match (&self.playing, &self.speaker) {
            (Some(p), Some(s)) => now >= p.ends && s.drained(),
            _ => false,
        };
        if finished {
            if let Some(p) = self.playing.take() {
                let _ = self.queue.handle_playout_finished(now, p.playback);
            }
        }
        self.queue.handle_timeout(now);
        self.pump(now);
    }

    fn on_frame(&mut self, now: Duration, at: Duration, frame: &[i16]) {
        self.queue.handle_rtp_seen(now);
        let db = frame_dbfs(frame);
        self.peak_db = self.peak_db.max(db);
        let speech = self.vad.process(frame);
        let mut updates = std::mem::take(&mut self.tone_updates);
        self.tones.process(at, frame, &mut updates);
        for u in updates.drain(..) {
            if let ToneUpdate::Started { digit, at } = u {
                debug!(digit = %digit, "in-band tone");
                self.queue.handle_digit(now, digit, at, None);
            }
        }
        self.tone_updates = updates;
        self.queue.handle_frame(now, at, frame, self.rate);
        match self
            .endpointer
            .process(at, self.framer.frame_duration(), speech)
        {
            Some(Endpoint::SpeechStarted { at }) => self.queue.handle_speech_started(now, at),
            Some(Endpoint::SpeechEnded { at }) => self.queue.handle_speech_ended(now, at),
            None => {}
        }
    }

    fn progress(&mut self, now: Duration) -> Progress {
        let level_dbfs = std::mem::replace(&mut self.peak_db, -120.0);
        Progress {
            elapsed: now.saturating_sub(self.start),
            level_dbfs,
            stage: self.playing.as_ref().map_or(Stage::Recording, |p| p.stage),
            speaking: self.endpointer.in_speech(),
            recorded: self.writer.as_ref().map_or(Duration::ZERO, |w| {
                Duration::from_secs_f64(w.samples() as f64 / f64::from(w.rate().max(1)))
            }),
        }
    }

    fn pump(&mut self, now: Duration) {
        while let Some(action) = self.queue.poll_action() {
            self.on_action(now, action);
        }
    }

    fn speaker(&mut self) -> Result<&Speaker, SoundcardError> {
        if self.speaker.is_none() {
            let device = devices::find(Direction::Output, self.opts.output.as_deref())?;
            self.speaker = Some(Speaker::open(&device, self.events.clone())?);
        }
        // Set just above when it was missing.
        self.speaker
            .as_ref()
            .ok_or(SoundcardError::NoDefault { kind: "output" })
    }

    fn on_action(&mut self, now: Duration, action: Action) {
        match action {
            Action::Play { op, playback, what } => self.play(now, op, playback, what),
            Action::StopPlayout { playback } => {
                if self
                    .playing
                    .as_ref()
                    .is_some_and(|p| p.playback == playback)
                {
                    self.playing = None;
                    if let Some(s) = &self.speaker {
                        s.stop();
                    }
                }
            }
            Action::StartRecording { op, rate } => {
                match RecordingWriter::create(&self.opts.out, rate) {
                    Ok(w) => self.writer = Some(w),
                    Err(e) => {
                        let _ = self.queue.handle_recording_failed(
                            now,
                            op,
                            format!("cannot create {}: {e}", self.opts.out.display()),
                        );
                    }
                }
            }
            Action::WriteSamples { op, samples } => {
                let failed = self.writer.as_mut().and_then(|w| w.write(&samples).err());
                if let Some(e) = failed {
                    let _ = self.queue.handle_recording_failed(
                        now,
                        op,
                        format!("recording write failed: {e}"),
                    );
                }
            }
            Action::FinishRecording { keep_samples, .. } => {
                if let Some(w) = self.writer.take() {
                    match w.finish(Some(keep_samples)) {
                        Ok(f) => self.file = Some(f),
                        Err(e) => self.file_error = Some(e.to_string()),
                    }
                }
            }
            Action::StatusChanged { .. } => {}
            Action::Completed(outcome) => self.outcome = Some(*outcome),
        }
    }

    fn play(&mut self, now: Duration, op: OperationId, playback: PlaybackId, what: PlayWhat) {
        let rate = match self.speaker() {
            Ok(s) => s.rate,
            Err(e) => {
                let _ = match what {
                    PlayWhat::Prompt(_) => self.queue.handle_prompt_failed(now, op, e.to_string()),
                    PlayWhat::Beep => {
                        self.queue
                            .handle_playout_failed(now, playback, e.to_string())
                    }
                };
                return;
            }
        };
        let (stage, clip) = match what {
            PlayWhat::Beep => (Stage::Beep, media::beep::BeepConfig::default().render(rate)),
            PlayWhat::Prompt(prompt) => match load_prompt(&prompt, rate) {
                Ok(pcm) => {
                    let _ = self.queue.handle_prompt_ready(now, op);
                    (Stage::Prompt, pcm)
                }
                Err(e) => {
                    let _ = self.queue.handle_prompt_failed(now, op, e);
                    return;
                }
            },
        };
        let len = Duration::from_secs_f64(clip.samples.len() as f64 / f64::from(rate.max(1)));
        if let Some(s) = &self.speaker {
            s.play(clip.samples);
        }
        // A sink that takes samples faster than real time (ALSA `null`) still lasts the clip's
        // length: the clip is over when the device took it all and its duration has passed.
        self.playing = Some(Playing {
            playback,
            stage,
            ends: now + len,
        });
    }
}

/// A prompt file (a local path) as 16-bit mono at the speaker's rate.
fn load_prompt(prompt: &PromptRef, rate: u32) -> Result<media::wav::Pcm, String> {
    let bytes = std::fs::read(&prompt.uri).map_err(|e| format!("{}: {e}", prompt.uri))?;
    let pcm = media::wav::decode_wav(&bytes).map_err(|e| format!("{}: {e}", prompt.uri))?;
    media::resample::resample(&pcm, rate).map_err(|e| format!("{}: {e}", prompt.uri))
}
