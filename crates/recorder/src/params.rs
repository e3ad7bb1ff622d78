//! The record request: defaults, ranges and the one validation shared with the HTTP API
//! (../shared/docs/API_CONTRACT.md, "record").

use std::time::Duration;

use media::Digit;

/// A prompt to play before recording: where to fetch it and the cache key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptRef {
    pub uri: String,
    pub resource_id: Option<String>,
    pub looped: bool,
}

/// The request as it arrives, every field optional (JSON `null` or absent = default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawRecordParams {
    pub prompts: Option<Vec<PromptRef>>,
    pub barge_in_allowed: Option<bool>,
    pub initial_silence_timeout_in_seconds: Option<i64>,
    pub max_silence_timeout_in_seconds: Option<i64>,
    pub max_record_duration_in_seconds: Option<i64>,
    pub play_beep: Option<bool>,
    pub stop_tones: Option<Vec<String>>,
    pub client_context: Option<String>,
    pub stream_while_recording: Option<bool>,
}

/// Operator limits; the contract's range is 1..=300 s and config may only lower the cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_seconds: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_seconds: MAX_SECONDS,
        }
    }
}

pub const MAX_SECONDS: u32 = 300;
pub const DEFAULT_SECONDS: u32 = 5;
pub const MAX_CLIENT_CONTEXT_CHARS: usize = 256;

/// A validated record request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordParams {
    pub prompt: Option<PromptRef>,
    pub barge_in_allowed: bool,
    pub initial_silence_timeout: Duration,
    pub max_silence_timeout: Duration,
    pub max_record_duration: Duration,
    pub play_beep: bool,
    pub stop_tones: Vec<Digit>,
    pub client_context: Option<String>,
    pub stream_while_recording: bool,
}

impl Default for RecordParams {
    fn default() -> Self {
        let five = Duration::from_secs(u64::from(DEFAULT_SECONDS));
        RecordParams {
            prompt: None,
            barge_in_allowed: false,
            initial_silence_timeout: five,
            max_silence_timeout: five,
            max_record_duration: five,
            play_beep: true,
            stop_tones: Vec::new(),
            client_context: None,
            stream_while_recording: false,
        }
    }
}

/// A field that failed validation; `field` is the JSON name, for the Graph error message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {problem}")]
pub struct ParamError {
    pub field: &'static str,
    pub problem: String,
}

fn seconds(field: &'static str, v: Option<i64>, limits: Limits) -> Result<Duration, ParamError> {
    let max = i64::from(limits.max_seconds.clamp(1, MAX_SECONDS));
    match v {
        None => Ok(Duration::from_secs(u64::from(
            DEFAULT_SECONDS.min(max as u32),
        ))),
        Some(s) if (1..=max).contains(&s) => Ok(Duration::from_secs(s as u64)),
        Some(_) => Err(ParamError {
            field,
            problem: format!("must be between 1 and {max}"),
        }),
    }
}

/// Validates a client context (also used by playPrompt and the other media operations).
pub fn validate_client_context(ctx: Option<String>) -> Result<Option<String>, ParamError> {
    match ctx {
        Some(c) if c.chars().count() > MAX_CLIENT_CONTEXT_CHARS => Err(ParamError {
            field: "clientContext",
            problem: format!("must be at most {MAX_CLIENT_CONTEXT_CHARS} characters"),
        }),
        other => Ok(other),
    }
}

/// Applies defaults and checks every range; the first bad field is reported.
pub fn validate(raw: RawRecordParams, limits: Limits) -> Result<RecordParams, ParamError> {
    let mut prompts = raw.prompts.unwrap_or_default();
    if prompts.len() > 1 {
        return Err(ParamError {
            field: "prompts",
            problem: "may hold at most one prompt".into(),
        });
    }
    if prompts.first().is_some_and(|p| p.uri.trim().is_empty()) {
        return Err(ParamError {
            field: "prompts",
            problem: "mediaInfo.uri is required".into(),
        });
    }
    let stop_tones = raw
        .stop_tones
        .unwrap_or_default()
        .iter()
        .map(|t| {
            Digit::from_graph_name(t.trim())
                .filter(|d| *d != Digit::Flash)
                .ok_or_else(|| ParamError {
                    field: "stopTones",
                    problem: format!("has unknown tone {t:?}; allowed are 0-9 * # A-D"),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RecordParams {
        prompt: prompts.pop(),
        barge_in_allowed: raw.barge_in_allowed.unwrap_or(false),
        initial_silence_timeout: seconds(
            "initialSilenceTimeoutInSeconds",
            raw.initial_silence_timeout_in_seconds,
            limits,
        )?,
        max_silence_timeout: seconds(
            "maxSilenceTimeoutInSeconds",
            raw.max_silence_timeout_in_seconds,
            limits,
        )?,
        max_record_duration: seconds(
            "maxRecordDurationInSeconds",
            raw.max_record_duration_in_seconds,
            limits,
        )?,
        play_beep: raw.play_beep.unwrap_or(true),
        stop_tones,
        client_context: validate_client_context(raw.client_context)?,
        stream_while_recording: raw.stream_while_recording.unwrap_or(false),
    })
}

pub const MAX_PLAY_PROMPTS: usize = 20;

/// A validated playPrompt request (API_CONTRACT.md, "playPrompt").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayPromptParams {
    pub prompts: Vec<PromptRef>,
    /// Replay the whole list until canceled.
    pub looped: bool,
    pub client_context: Option<String>,
}

impl PlayPromptParams {
    /// Checks 1..=20 prompts, each with a URI, and the client context.
    pub fn new(
        prompts: Vec<PromptRef>,
        looped: bool,
        client_context: Option<String>,
    ) -> Result<Self, ParamError> {
        if prompts.is_empty() || prompts.len() > MAX_PLAY_PROMPTS {
            return Err(ParamError {
                field: "prompts",
                problem: format!("must hold between 1 and {MAX_PLAY_PROMPTS} prompts"),
            });
        }
        if prompts.iter().any(|p| p.uri.trim().is_empty()) {
            return Err(ParamError {
                field: "prompts",
                problem: "mediaInfo.uri is required".into(),
            });
        }
        Ok(PlayPromptParams {
            prompts,
            looped,
            client_context: validate_client_context(client_context)?,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    fn prompt() -> PromptRef {
        PromptRef {
            uri: "file:///p.wav".into(),
            resource_id: None,
            looped: false,
        }
    }

    #[test]
    fn empty_request_gets_the_documented_defaults() {
        let p = validate(RawRecordParams::default(), Limits::default()).unwrap();
        assert_eq!(p, RecordParams::default());
        assert!(p.play_beep);
        assert_eq!(p.max_record_duration, Duration::from_secs(5));
    }

    #[test]
    fn ranges_are_inclusive_1_to_300() {
        for (v, ok) in [
            (0, false),
            (1, true),
            (300, true),
            (301, false),
            (-1, false),
        ] {
            let raw = RawRecordParams {
                max_record_duration_in_seconds: Some(v),
                ..Default::default()
            };
            let r = validate(raw, Limits::default());
            assert_eq!(r.is_ok(), ok, "{v}");
            if let Err(e) = r {
                assert_eq!(e.field, "maxRecordDurationInSeconds");
            }
        }
    }

    #[test]
    fn operator_cap_lowers_the_range() {
        let raw = RawRecordParams {
            initial_silence_timeout_in_seconds: Some(61),
            ..Default::default()
        };
        let e = validate(raw, Limits { max_seconds: 60 }).unwrap_err();
        assert_eq!(
            e.to_string(),
            "initialSilenceTimeoutInSeconds must be between 1 and 60"
        );
    }

    #[test]
    fn prompts_zero_or_one() {
        let one = RawRecordParams {
            prompts: Some(vec![prompt()]),
            ..Default::default()
        };
        assert_eq!(
            validate(one, Limits::default()).unwrap().prompt,
            Some(prompt())
        );
        let two = RawRecordParams {
            prompts: Some(vec![prompt(), prompt()]),
            ..Default::default()
        };
        assert_eq!(
            validate(two, Limits::default()).unwrap_err().field,
            "prompts"
        );
    }

    #[test]
    fn client_context_256_ok_257_refused() {
        let ok = RawRecordParams {
            client_context: Some("é".repeat(256)),
            ..Default::default()
        };
        assert!(validate(ok, Limits::default()).is_ok());
        let bad = RawRecordParams {
            client_context: Some("x".repeat(257)),
            ..Default::default()
        };
        assert_eq!(
            validate(bad, Limits::default()).unwrap_err().field,
            "clientContext"
        );
    }

    #[test]
    fn stop_tones_accept_digits_and_names() {
        let raw = RawRecordParams {
            stop_tones: Some(vec![
                "#".into(),
                "1".into(),
                "*".into(),
                "a".into(),
                "tone9".into(),
            ]),
            ..Default::default()
        };
        let p = validate(raw, Limits::default()).unwrap();
        assert_eq!(
            p.stop_tones,
            vec![Digit::Pound, Digit::D1, Digit::Star, Digit::A, Digit::D9]
        );
        for bad in ["E", "flash", "!", "12", ""] {
            let raw = RawRecordParams {
                stop_tones: Some(vec![bad.into()]),
                ..Default::default()
            };
            assert_eq!(
                validate(raw, Limits::default()).unwrap_err().field,
                "stopTones",
                "{bad}"
            );
        }
    }

    #[test]
    fn play_prompt_takes_1_to_20_prompts() {
        assert!(PlayPromptParams::new(vec![], false, None).is_err());
        assert!(PlayPromptParams::new(vec![prompt(); 1], false, None).is_ok());
        assert!(PlayPromptParams::new(vec![prompt(); 20], true, None).is_ok());
        let e = PlayPromptParams::new(vec![prompt(); 21], false, None).unwrap_err();
        assert_eq!(e.field, "prompts");
        let e = PlayPromptParams::new(vec![prompt()], false, Some("x".repeat(257))).unwrap_err();
        assert_eq!(e.field, "clientContext");
    }
}
