//! What a finished operation reports: status, completion reason, resultInfo and the timeline.
//! `end_state` is the one place that maps why an operation ended to what the API says.

use std::time::Duration;

use media::Digit;

use crate::ids::OperationId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationKind {
    Record,
    PlayPrompt,
}

/// `commsOperation.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperationStatus {
    NotStarted,
    Running,
    Completed,
    Failed,
}

impl OperationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OperationStatus::NotStarted => "notStarted",
            OperationStatus::Running => "running",
            OperationStatus::Completed => "completed",
            OperationStatus::Failed => "failed",
        }
    }
}

/// `completionReason`: the first nine belong to `recordOperation`, the last three to
/// `playPromptOperation` (API_CONTRACT.md, "record" and "playPrompt").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompletionReason {
    OperationCanceled,
    StopToneDetected,
    MaxRecordDurationReached,
    InitialSilenceTimeout,
    MaxSilenceTimeout,
    PlayPromptFailed,
    PlayBeepFailed,
    MediaReceiveTimeout,
    UnspecifiedError,
    CompletedSuccessfully,
    MediaOperationCanceled,
    Unknown,
}

impl CompletionReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CompletionReason::OperationCanceled => "operationCanceled",
            CompletionReason::StopToneDetected => "stopToneDetected",
            CompletionReason::MaxRecordDurationReached => "maxRecordDurationReached",
            CompletionReason::InitialSilenceTimeout => "initialSilenceTimeout",
            CompletionReason::MaxSilenceTimeout => "maxSilenceTimeout",
            CompletionReason::PlayPromptFailed => "playPromptFailed",
            CompletionReason::PlayBeepFailed => "playBeepFailed",
            CompletionReason::MediaReceiveTimeout => "mediaReceiveTimeout",
            CompletionReason::UnspecifiedError => "unspecifiedError",
            CompletionReason::CompletedSuccessfully => "completedSuccessfully",
            CompletionReason::MediaOperationCanceled => "mediaOperationCanceled",
            CompletionReason::Unknown => "unknown",
        }
    }
}

/// Graph `resultInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultInfo {
    pub code: u16,
    pub subcode: u32,
    pub message: String,
}

/// The finished recording: the file holds exactly `samples` samples at `rate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordingSummary {
    pub samples: u64,
    pub rate: u32,
    pub duration: Duration,
}

/// When each phase happened, on the runtime's monotonic epoch (`now` / media `at` values).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timeline {
    pub queued: Duration,
    /// When the operation became `running`; `None` if it ended while still queued.
    pub started: Option<Duration>,
    /// First `handle_prompt_ready` (playout of the first prompt began).
    pub prompt_started: Option<Duration>,
    pub prompt_ended: Option<Duration>,
    /// A listed stop tone cut the prompt short.
    pub prompt_skipped: bool,
    pub beep_started: Option<Duration>,
    pub beep_ended: Option<Duration>,
    /// The instant the file starts at (end of prompt and beep).
    pub recording_started: Option<Duration>,
    pub speech_started: Option<Duration>,
    /// End of the last speech burst.
    pub speech_ended: Option<Duration>,
    /// The stop tone and when it started; the file ends there.
    pub stop_tone: Option<(Digit, Duration)>,
    /// Audio written but cut at the end (trailing silence, a stop tone and its detection delay).
    pub trimmed: Duration,
    pub ended: Duration,
}

/// The single completion of an operation (`changeType: deleted` notification).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationOutcome {
    pub op: OperationId,
    pub kind: OperationKind,
    /// `Completed` or `Failed`.
    pub status: OperationStatus,
    pub completion_reason: CompletionReason,
    pub result_info: ResultInfo,
    pub client_context: Option<String>,
    /// `Some` when a file was started and finished (`FinishRecording` was emitted).
    pub recording: Option<RecordingSummary>,
    pub timeline: Timeline,
}

/// Why an operation ended, before it is mapped to the API's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cause {
    /// cancelMediaProcessing or barge-in.
    Canceled,
    CallEnded,
    StopTone,
    MaxRecordDuration,
    InitialSilence,
    MaxSilence,
    PromptFailed(String),
    BeepFailed(String),
    MediaReceiveTimeout {
        speech_heard: bool,
    },
    RecordingFailed(String),
    PlayedAll,
}

/// Subcodes are Graph's where the contract names them (8508, 8515); the rest are callclip's own,
/// in the same 85xx range, one per cause:
///
/// | cause | record | playPrompt |
/// |---|---|---|
/// | cancel / barge-in | failed 400/8508 | failed 400/8508 |
/// | caller hung up | completed 200/8509 (audio kept) | failed 400/8509 |
/// | initial silence | failed 400/8510 | — |
/// | max silence | completed 200/8511 | — |
/// | stop tone | completed 200/8512 | — |
/// | max duration | completed 200/8515 | — |
/// | prompt fetch/decode/playout | failed 400/8516 | failed 400/8516 (`unknown`) |
/// | beep playout | failed 500/8517 | — |
/// | no RTP | completed 200/8518 if speech was heard, else failed 408/8518 | — |
/// | recording file failed | failed 500/8500 | — |
/// | all prompts played | — | completed 200/0 |
pub(crate) fn end_state(
    kind: OperationKind,
    cause: Cause,
    captured: Option<Duration>,
) -> (OperationStatus, CompletionReason, ResultInfo) {
    use CompletionReason as R;
    use OperationStatus::{Completed, Failed};
    let info = |code: u16, subcode: u32, message: String| ResultInfo {
        code,
        subcode,
        message,
    };
    let record = kind == OperationKind::Record;
    match cause {
        Cause::Canceled if record => (
            Failed,
            R::OperationCanceled,
            info(400, 8508, "Operation canceled.".into()),
        ),
        Cause::Canceled => (
            Failed,
            R::MediaOperationCanceled,
            info(400, 8508, "Operation canceled.".into()),
        ),
        Cause::CallEnded if record => {
            let message = match captured {
                Some(d) => format!(
                    "The call ended; {}.{:03} s of audio captured.",
                    d.as_secs(),
                    d.subsec_millis()
                ),
                None => "The call ended before recording started; no audio captured.".into(),
            };
            (Completed, R::OperationCanceled, info(200, 8509, message))
        }
        Cause::CallEnded => (
            Failed,
            R::MediaOperationCanceled,
            info(400, 8509, "The call ended.".into()),
        ),
        Cause::InitialSilence => (
            Failed,
            R::InitialSilenceTimeout,
            info(
                400,
                8510,
                "No speech before the initial silence timeout.".into(),
            ),
        ),
        Cause::MaxSilence => (
            Completed,
            R::MaxSilenceTimeout,
            info(200, 8511, "Action completed, max silence timeout.".into()),
        ),
        Cause::StopTone => (
            Completed,
            R::StopToneDetected,
            info(200, 8512, "Action completed, stop tone detected.".into()),
        ),
        Cause::MaxRecordDuration => (
            Completed,
            R::MaxRecordDurationReached,
            info(
                200,
                8515,
                "Action completed, max record duration reached.".into(),
            ),
        ),
        Cause::PromptFailed(why) if record => (
            Failed,
            R::PlayPromptFailed,
            info(400, 8516, format!("The prompt could not be played: {why}")),
        ),
        Cause::PromptFailed(why) => (
            Failed,
            R::Unknown,
            info(400, 8516, format!("The prompt could not be played: {why}")),
        ),
        Cause::BeepFailed(why) => (
            Failed,
            R::PlayBeepFailed,
            info(500, 8517, format!("The beep could not be played: {why}")),
        ),
        Cause::MediaReceiveTimeout { speech_heard: true } => (
            Completed,
            R::MediaReceiveTimeout,
            info(
                200,
                8518,
                "No media received from the caller; audio kept.".into(),
            ),
        ),
        Cause::MediaReceiveTimeout {
            speech_heard: false,
        } => (
            Failed,
            R::MediaReceiveTimeout,
            info(408, 8518, "No media received from the caller.".into()),
        ),
        Cause::RecordingFailed(why) => (
            Failed,
            R::UnspecifiedError,
            info(
                500,
                8500,
                format!("The recording could not be written: {why}"),
            ),
        ),
        Cause::PlayedAll => (
            Completed,
            R::CompletedSuccessfully,
            info(200, 0, "Action completed successfully.".into()),
        ),
    }
}
