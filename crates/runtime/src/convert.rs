//! The one place where the cores' words become the API's: codecs, operation outcomes, call ends.

use media::codec::CodecKind;
use signaling::endpoint::EndReason;
use signaling::sdp::AudioCodec;

pub fn codec_kind(codec: AudioCodec) -> CodecKind {
    match codec {
        AudioCodec::Pcmu => CodecKind::Pcmu,
        AudioCodec::Pcma => CodecKind::Pcma,
        AudioCodec::G722 => CodecKind::G722,
        AudioCodec::Opus => CodecKind::Opus,
    }
}

/// `rtp.codecs` names (validated at load) in preference order.
pub fn codec_prefs(names: &[String]) -> Vec<AudioCodec> {
    names
        .iter()
        .filter_map(|n| match n.to_ascii_lowercase().as_str() {
            "pcmu" => Some(AudioCodec::Pcmu),
            "pcma" => Some(AudioCodec::Pcma),
            "g722" => Some(AudioCodec::G722),
            "opus" => Some(AudioCodec::Opus),
            _ => None,
        })
        .collect()
}

fn status(s: recorder::OperationStatus) -> api::OperationStatus {
    match s {
        recorder::OperationStatus::NotStarted => api::OperationStatus::NotStarted,
        recorder::OperationStatus::Running => api::OperationStatus::Running,
        recorder::OperationStatus::Completed => api::OperationStatus::Completed,
        recorder::OperationStatus::Failed => api::OperationStatus::Failed,
    }
}

fn reason(r: recorder::CompletionReason) -> api::CompletionReason {
    use api::CompletionReason as A;
    use recorder::CompletionReason as R;
    match r {
        R::OperationCanceled => A::OperationCanceled,
        R::StopToneDetected => A::StopToneDetected,
        R::MaxRecordDurationReached => A::MaxRecordDurationReached,
        R::InitialSilenceTimeout => A::InitialSilenceTimeout,
        R::MaxSilenceTimeout => A::MaxSilenceTimeout,
        R::PlayPromptFailed => A::PlayPromptFailed,
        R::PlayBeepFailed => A::PlayBeepFailed,
        R::MediaReceiveTimeout => A::MediaReceiveTimeout,
        R::UnspecifiedError => A::UnspecifiedError,
        R::CompletedSuccessfully => A::CompletedSuccessfully,
        R::MediaOperationCanceled => A::MediaOperationCanceled,
        R::Unknown => A::Unknown,
    }
}

pub fn outcome(
    o: &recorder::OperationOutcome,
    recording: Option<api::RecordingId>,
) -> api::OperationOutcome {
    api::OperationOutcome {
        status: status(o.status),
        completion_reason: Some(reason(o.completion_reason)),
        result_info: Some(api::ResultInfo {
            code: o.result_info.code,
            subcode: o.result_info.subcode,
            message: o.result_info.message.clone(),
        }),
        recording,
    }
}

/// The call's final resultInfo (Graph uses 200 for a normal end, the SIP status otherwise).
pub fn end_result(reason: EndReason) -> api::ResultInfo {
    let (code, subcode, message) = match reason {
        EndReason::RemoteBye => (
            200,
            0,
            "The call was ended by the remote party.".to_string(),
        ),
        EndReason::LocalBye => (200, 0, "The call was ended by the application.".to_string()),
        EndReason::Cancelled => (
            487,
            0,
            "The caller cancelled before the call was answered.".to_string(),
        ),
        EndReason::Rejected(s) => (s, 0, format!("The call ended with SIP status {s}.")),
        EndReason::Timeout => (
            408,
            0,
            "The call timed out at the SIP layer (no ACK or no answer).".to_string(),
        ),
        EndReason::TransportError => (
            503,
            0,
            "The call's next hop could not be reached.".to_string(),
        ),
    };
    api::ResultInfo {
        code,
        subcode,
        message,
    }
}
