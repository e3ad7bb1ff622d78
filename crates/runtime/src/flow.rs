//! The built-in flow (`calls.incoming_mode = "flow"`): answer, record with the configured
//! parameters, hang up — a voicemail box that needs no bot. Its parameters go through the same
//! validation as an API request.

use recorder::params::{validate, Limits, ParamError, PromptRef, RawRecordParams, RecordParams};

use crate::config::FlowConfig;

pub fn record_params(flow: &FlowConfig, max_seconds: u32) -> Result<RecordParams, ParamError> {
    let prompts = (!flow.prompt.is_empty()).then(|| {
        vec![PromptRef {
            uri: flow.prompt.clone(),
            resource_id: None,
            looped: false,
        }]
    });
    validate(
        RawRecordParams {
            prompts,
            play_beep: Some(flow.play_beep),
            initial_silence_timeout_in_seconds: Some(flow.initial_silence_seconds),
            max_silence_timeout_in_seconds: Some(flow.max_silence_seconds),
            max_record_duration_in_seconds: Some(flow.max_record_seconds),
            stop_tones: Some(flow.stop_tones.clone()),
            ..RawRecordParams::default()
        },
        Limits { max_seconds },
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn default_flow_is_valid() {
        let c = Config::load(None, |_| None).unwrap();
        let p = record_params(&c.calls.flow, 300).unwrap();
        assert_eq!(p.max_record_duration.as_secs(), 60);
        assert_eq!(p.stop_tones, vec![media::Digit::Pound]);
    }
}
