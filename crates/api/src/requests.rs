//! Request bodies of every action, parsed and validated into engine terms. Field names are
//! Graph's camelCase; enum values are matched case-insensitively.

use recorder::params::{self, Limits, PromptRef, RawRecordParams, RecordParams};

use crate::engine::{MediaConfig, Party, PartyKind, RejectReason};
use crate::error::Error;
use crate::fields::{parse_object, Obj};

/// `POST /communications/calls`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateCall {
    pub callback_uri: Option<String>,
    pub targets: Vec<Party>,
    pub source: Option<Party>,
    pub media: MediaConfig,
}

/// `POST .../answer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub callback_uri: Option<String>,
    pub media: MediaConfig,
}

/// `POST .../playPrompt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayPrompt {
    pub prompts: Vec<PromptRef>,
    pub looped: bool,
    pub client_context: Option<String>,
}

pub const MAX_PLAY_PROMPTS: usize = 20;

pub fn create_call(body: &[u8]) -> Result<CreateCall, Error> {
    let map = parse_object(body)?;
    let o = Obj::root(&map);
    let targets = targets(&o)?;
    if targets.len() != 1 {
        return Err(Error::field("targets", "must hold exactly one target"));
    }
    modalities(&o, "requestedModalities")?;
    let source = o
        .child("source")?
        .map(|s| s.child("identity"))
        .transpose()?
        .flatten()
        .map(|id| party(&id))
        .transpose()?;
    Ok(CreateCall {
        callback_uri: callback_uri(&o)?,
        targets,
        source,
        media: media_config(&o)?,
    })
}

pub fn answer(body: &[u8]) -> Result<Answer, Error> {
    let map = parse_object(body)?;
    let o = Obj::root(&map);
    modalities(&o, "acceptedModalities")?;
    Ok(Answer {
        callback_uri: callback_uri(&o)?,
        media: media_config(&o)?,
    })
}

pub fn reject(body: &[u8]) -> Result<RejectReason, Error> {
    let map = parse_object(body)?;
    let o = Obj::root(&map);
    match o.opt_str("reason")? {
        None => Ok(RejectReason::None),
        Some(r) if r.eq_ignore_ascii_case("none") => Ok(RejectReason::None),
        Some(r) if r.eq_ignore_ascii_case("busy") => Ok(RejectReason::Busy),
        Some(r) if r.eq_ignore_ascii_case("forbidden") => Ok(RejectReason::Forbidden),
        Some(_) => Err(Error::field(
            "reason",
            "must be one of none, busy, forbidden",
        )),
    }
}

pub fn redirect(body: &[u8]) -> Result<Vec<Party>, Error> {
    let map = parse_object(body)?;
    let targets = targets(&Obj::root(&map))?;
    if targets.is_empty() {
        return Err(Error::field("targets", "must hold at least one target"));
    }
    Ok(targets)
}

/// The record action; ranges and tones are checked by the recorder's own validation.
pub fn record(body: &[u8], limits: Limits) -> Result<RecordParams, Error> {
    let map = parse_object(body)?;
    let o = Obj::root(&map);
    let raw = RawRecordParams {
        prompts: prompts(&o)?,
        barge_in_allowed: o.opt_bool("bargeInAllowed")?,
        initial_silence_timeout_in_seconds: o.opt_i64("initialSilenceTimeoutInSeconds")?,
        max_silence_timeout_in_seconds: o.opt_i64("maxSilenceTimeoutInSeconds")?,
        max_record_duration_in_seconds: o.opt_i64("maxRecordDurationInSeconds")?,
        play_beep: o.opt_bool("playBeep")?,
        stop_tones: o.opt_strings("stopTones")?,
        client_context: o.opt_str("clientContext")?.map(str::to_string),
        stream_while_recording: o.opt_bool("streamWhileRecording")?,
    };
    Ok(params::validate(raw, limits)?)
}

pub fn play_prompt(body: &[u8]) -> Result<PlayPrompt, Error> {
    let map = parse_object(body)?;
    let o = Obj::root(&map);
    let prompts = prompts(&o)?.unwrap_or_default();
    if prompts.is_empty() || prompts.len() > MAX_PLAY_PROMPTS {
        return Err(Error::field(
            "prompts",
            format!("must hold 1 to {MAX_PLAY_PROMPTS} prompts"),
        ));
    }
    if let Some(i) = prompts.iter().position(|p| p.uri.trim().is_empty()) {
        return Err(Error::field(
            format!("prompts[{i}].mediaInfo.uri"),
            "is required",
        ));
    }
    Ok(PlayPrompt {
        prompts,
        looped: o.opt_bool("loop")?.unwrap_or(false),
        client_context: client_context_of(&o)?,
    })
}

/// subscribeToTone and cancelMediaProcessing carry only `clientContext`.
pub fn client_context(body: &[u8]) -> Result<Option<String>, Error> {
    let map = parse_object(body)?;
    client_context_of(&Obj::root(&map))
}

fn client_context_of(o: &Obj<'_>) -> Result<Option<String>, Error> {
    let ctx = o.opt_str("clientContext")?.map(str::to_string);
    Ok(params::validate_client_context(ctx)?)
}

fn callback_uri(o: &Obj<'_>) -> Result<Option<String>, Error> {
    match o.opt_str("callbackUri")? {
        None => Ok(None),
        Some(u) => {
            let lower = u.to_ascii_lowercase();
            if lower.starts_with("https://") || lower.starts_with("http://") {
                Ok(Some(u.to_string()))
            } else {
                Err(Error::field("callbackUri", "must be an http or https URL"))
            }
        }
    }
}

fn modalities(o: &Obj<'_>, name: &str) -> Result<(), Error> {
    let Some(list) = o.opt_strings(name)? else {
        return Ok(());
    };
    if list.iter().all(|m| m.eq_ignore_ascii_case("audio")) {
        Ok(())
    } else {
        Err(Error::field(o.path(name), "supports only audio"))
    }
}

fn media_config(o: &Obj<'_>) -> Result<MediaConfig, Error> {
    let Some(mc) = o.child("mediaConfig")? else {
        return Ok(MediaConfig::default());
    };
    if let Some(t) = mc.opt_str("@odata.type")? {
        let name = t
            .trim_start_matches('#')
            .trim_start_matches("microsoft.graph.");
        if !name.eq_ignore_ascii_case("serviceHostedMediaConfig") {
            return Err(Error::field(
                "mediaConfig",
                "supports only serviceHostedMediaConfig",
            ));
        }
    }
    let pre_fetch = mc
        .children("preFetchMedia")?
        .unwrap_or_default()
        .iter()
        .map(|m| media_info(m, false))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(MediaConfig { pre_fetch })
}

fn prompts(o: &Obj<'_>) -> Result<Option<Vec<PromptRef>>, Error> {
    let Some(list) = o.children("prompts")? else {
        return Ok(None);
    };
    list.iter()
        .map(|p| {
            let looped = p.opt_bool("loop")?.unwrap_or(false);
            match p.child("mediaInfo")? {
                Some(mi) => media_info(&mi, looped),
                None => Err(Error::field(p.path("mediaInfo"), "is required")),
            }
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn media_info(mi: &Obj<'_>, looped: bool) -> Result<PromptRef, Error> {
    Ok(PromptRef {
        uri: mi.req_str("uri")?.to_string(),
        resource_id: mi.opt_str("resourceId")?.map(str::to_string),
        looped,
    })
}

fn targets(o: &Obj<'_>) -> Result<Vec<Party>, Error> {
    let Some(list) = o.children("targets")? else {
        return Err(Error::field("targets", "is required"));
    };
    list.iter()
        .map(|t| match t.child("identity")? {
            Some(id) => party(&id),
            None => Err(Error::field(t.path("identity"), "is required")),
        })
        .collect()
}

/// An `identitySet`: the first of `user`, `phone`, `application` that is present.
fn party(identity_set: &Obj<'_>) -> Result<Party, Error> {
    for (slot, kind) in [
        ("user", PartyKind::User),
        ("phone", PartyKind::Phone),
        ("application", PartyKind::Application),
    ] {
        let Some(ident) = identity_set.child(slot)? else {
            continue;
        };
        let id = ident.req_str("id")?.trim().to_string();
        let lower = id.to_ascii_lowercase();
        let ok = match kind {
            PartyKind::User => lower.starts_with("sip:") || lower.starts_with("sips:"),
            PartyKind::Phone | PartyKind::Application => !id.is_empty(),
        };
        if !ok {
            let problem = match kind {
                PartyKind::User => "must be a sip: or sips: URI",
                _ => "must not be empty",
            };
            return Err(Error::field(ident.path("id"), problem));
        }
        return Ok(Party {
            kind,
            id,
            display_name: ident.opt_str("displayName")?.map(str::to_string),
        });
    }
    Err(Error::field(
        identity_set.path("user"),
        "is required (or phone)",
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn create_call_takes_a_sip_user_or_a_phone() {
        let c = create_call(
            br##"{"callbackUri":"https://bot/cb","targets":[{"identity":{"user":{"id":"sip:bob@pbx","displayName":"Bob"}}}],
                 "requestedModalities":["Audio"],"mediaConfig":{"@odata.type":"#microsoft.graph.serviceHostedMediaConfig","preFetchMedia":[{"uri":"https://p/a.wav","resourceId":"a"}]}}"##,
        )
        .unwrap();
        assert_eq!(c.targets[0].id, "sip:bob@pbx");
        assert_eq!(c.media.pre_fetch[0].resource_id.as_deref(), Some("a"));
        let p = create_call(br#"{"targets":[{"identity":{"phone":{"id":"+4930123"}}}]}"#).unwrap();
        assert_eq!(p.targets[0].kind, PartyKind::Phone);
        let e = create_call(br#"{"targets":[{"identity":{"user":{"id":"bob"}}}]}"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "targets[0].identity.user.id must be a sip: or sips: URI"
        );
        let e = create_call(
            br#"{"targets":[{"identity":{"phone":{"id":"1"}}}],"requestedModalities":["video"]}"#,
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "requestedModalities supports only audio");
    }

    #[test]
    fn reject_reason_is_case_insensitive() {
        assert_eq!(reject(br#"{"reason":"BUSY"}"#), Ok(RejectReason::Busy));
        assert_eq!(reject(b""), Ok(RejectReason::None));
        assert!(reject(br#"{"reason":"later"}"#).is_err());
    }

    #[test]
    fn record_errors_name_the_field() {
        let e = record(
            br#"{"maxRecordDurationInSeconds":"ten"}"#,
            Limits::default(),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "maxRecordDurationInSeconds must be an integer"
        );
        let e = record(br#"{"maxRecordDurationInSeconds":301}"#, Limits::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "maxRecordDurationInSeconds must be between 1 and 300"
        );
        let e = record(br#"{"stopTones":["E"]}"#, Limits::default()).unwrap_err();
        assert!(e.to_string().starts_with("stopTones"));
        let e = record(
            br#"{"prompts":[{"mediaInfo":{"uri":5}}]}"#,
            Limits::default(),
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "prompts[0].mediaInfo.uri must be a string");
    }

    #[test]
    fn play_prompt_needs_one_to_twenty_prompts() {
        assert!(play_prompt(br#"{"prompts":[]}"#).is_err());
        let one = br#"{"prompts":[{"mediaInfo":{"uri":"https://p/a.wav"}}],"loop":true}"#;
        let p = play_prompt(one).unwrap();
        assert!(p.looped);
        let many = format!(
            r#"{{"prompts":[{}]}}"#,
            vec![r#"{"mediaInfo":{"uri":"u"}}"#; 21].join(",")
        );
        assert!(play_prompt(many.as_bytes()).is_err());
    }

    #[test]
    fn truncated_and_mutated_bodies_never_panic() {
        let seed = include_bytes!("../tests/data/graph_record_request.json");
        let all = |b: &[u8]| {
            let _ = create_call(b);
            let _ = answer(b);
            let _ = reject(b);
            let _ = redirect(b);
            let _ = record(b, Limits { max_seconds: 1 });
            let _ = play_prompt(b);
            let _ = client_context(b);
        };
        for cut in 0..seed.len() {
            all(&seed[..cut]);
            let mut m = seed.to_vec();
            for x in [b'"', b'[', b'{', b'1', 0xff] {
                m[cut] = x;
                all(&m);
            }
        }
    }
}
