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

pub fn outcome(
    o: &recorder::OperationOutcome,
    recording: Option<api::RecordingId>,
) -> api::OperationOutcome {
    api::OperationOutcome {
        status: o.status,
        completion_reason: Some(o.completion_reason),
        result_info: Some(o.result_info.clone()),
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
