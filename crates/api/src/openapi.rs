//! `GET /openapi.json`: OpenAPI 3.1, built from the same route table the router serves.

use serde_json::{json, Map, Value};

/// (method, path under a calls base, summary, request schema, success status).
pub const CALL_ROUTES: &[(&str, &str, &str, Option<&str>, u16)] = &[
    (
        "post",
        "/calls",
        "Create an outgoing call",
        Some("call"),
        201,
    ),
    ("get", "/calls/{id}", "Read a call", None, 200),
    ("delete", "/calls/{id}", "Hang up", None, 204),
    (
        "post",
        "/calls/{id}/answer",
        "Answer an incoming call",
        Some("answer"),
        202,
    ),
    (
        "post",
        "/calls/{id}/reject",
        "Reject an incoming call",
        Some("reject"),
        202,
    ),
    (
        "post",
        "/calls/{id}/redirect",
        "Redirect an incoming call",
        Some("redirect"),
        202,
    ),
    (
        "post",
        "/calls/{id}/keepAlive",
        "Keep the call alive",
        None,
        200,
    ),
    (
        "post",
        "/calls/{id}/record",
        "Record a voice response",
        Some("record"),
        200,
    ),
    (
        "post",
        "/calls/{id}/recordResponse",
        "Record a voice response",
        Some("record"),
        200,
    ),
    (
        "post",
        "/calls/{id}/playPrompt",
        "Play prompts",
        Some("playPrompt"),
        200,
    ),
    (
        "post",
        "/calls/{id}/subscribeToTone",
        "Report DTMF digits",
        Some("clientContext"),
        200,
    ),
    (
        "post",
        "/calls/{id}/cancelMediaProcessing",
        "Cancel media operations",
        Some("clientContext"),
        200,
    ),
    (
        "get",
        "/calls/{id}/operations/{opId}",
        "Read an operation",
        None,
        200,
    ),
];

/// Every prefix the calls routes are served under.
pub const BASES: &[&str] = &[
    "/communications",
    "/beta/communications",
    "/v1.0/communications",
    "/app",
    "/beta/app",
];

fn error_responses() -> Value {
    let env = json!({"content": {"application/json": {"schema": {"$ref": "#/components/schemas/error"}}}});
    let mut m = Map::new();
    for (code, what) in [
        ("400", "invalidRequest"),
        ("401", "unauthenticated"),
        ("403", "accessDenied"),
        ("404", "8522 (call) or itemNotFound"),
        ("409", "notAllowed"),
        ("413", "body too large"),
        ("415", "not application/json"),
        ("429", "tooManyRequests; Retry-After"),
        ("500", "generalException"),
        ("503", "unavailable; Retry-After"),
    ] {
        let mut r = env.clone();
        if let Some(o) = r.as_object_mut() {
            o.insert("description".into(), what.into());
        }
        m.insert(code.into(), r);
    }
    Value::Object(m)
}

pub fn document(public_url: &str) -> Value {
    let mut paths = Map::new();
    for base in BASES {
        for (method, path, summary, schema, status) in CALL_ROUTES {
            let mut responses = error_responses();
            if let Some(r) = responses.as_object_mut() {
                r.insert(status.to_string(), json!({"description": "success"}));
            }
            let mut op =
                json!({"summary": summary, "responses": responses, "security": [{"bearer": []}]});
            if let (Some(s), Some(o)) = (schema, op.as_object_mut()) {
                o.insert(
                    "requestBody".into(),
                    json!({"content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{s}")}}}}),
                );
            }
            let full = format!("{base}{path}");
            let entry = paths.entry(full).or_insert_with(|| json!({}));
            if let Some(e) = entry.as_object_mut() {
                e.insert((*method).into(), op);
            }
        }
    }
    let recording = json!({
        "get": {"summary": "Download a recording (Range supported)", "security": [{"recordingToken": []}],
                "responses": {"200": {"description": "WAV", "content": {"application/octet-stream": {}}},
                              "206": {"description": "partial"}, "401": {"description": "wrong token"},
                              "404": {"description": "unknown or deleted"}, "416": {"description": "bad range"}}},
        "delete": {"summary": "Delete a recording", "security": [{"recordingToken": []}],
                   "responses": {"204": {"description": "deleted"}, "401": {"description": "wrong token"},
                                 "404": {"description": "unknown or deleted"}}}
    });
    paths.insert("/recordings/{recId}".into(), recording);
    paths.insert("/events".into(), json!({"get": {"summary": "Notifications as Server-Sent Events (when no callback is configured)", "security": [{"bearer": []}], "responses": {"200": {"description": "text/event-stream"}}}}));
    paths.insert(
        "/healthz".into(),
        json!({"get": {"summary": "Liveness", "responses": {"200": {"description": "ok"}}}}),
    );
    paths.insert("/metrics".into(), json!({"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "text/plain"}}}}));
    paths.insert("/openapi.json".into(), json!({"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1"}}}}));
    json!({
        "openapi": "3.1.0",
        "info": {"title": "callclip", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Microsoft Graph cloud-communications calls API (record a voice response) on a SIP PBX"},
        "servers": [{"url": public_url}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "recordingToken": {"type": "http", "scheme": "bearer", "description": "the operation's recordingAccessToken"}
            },
            "schemas": schemas(),
        }
    })
}

fn schemas() -> Value {
    let prompt = json!({"type": "object", "properties": {
        "mediaInfo": {"type": "object", "required": ["uri"], "properties": {"uri": {"type": "string"}, "resourceId": {"type": ["string", "null"]}}},
        "loop": {"type": ["boolean", "null"]}}});
    let seconds = json!({"type": ["integer", "null"], "minimum": 1, "maximum": 300, "default": 5});
    let ctx = json!({"type": ["string", "null"], "maxLength": 256});
    let targets = json!({"type": "array", "items": {"type": "object", "properties": {"identity": {"type": "object",
        "description": "identitySet: user.id a sip: URI, or phone.id"}}}});
    json!({
        "error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
            "code": {"type": "string"}, "message": {"type": "string"},
            "innerError": {"type": "object", "properties": {"request-id": {"type": "string"}, "date": {"type": "string"}}}}}}},
        "call": {"type": "object", "required": ["targets"], "properties": {
            "callbackUri": {"type": "string"}, "targets": targets, "source": {"type": "object"},
            "requestedModalities": {"type": "array", "items": {"enum": ["audio"]}},
            "mediaConfig": {"type": "object", "properties": {"preFetchMedia": {"type": "array"}}}}},
        "answer": {"type": "object", "properties": {"callbackUri": {"type": "string"},
            "acceptedModalities": {"type": "array"}, "mediaConfig": {"type": "object"}}},
        "reject": {"type": "object", "properties": {"reason": {"enum": ["none", "busy", "forbidden"]}}},
        "redirect": {"type": "object", "required": ["targets"], "properties": {"targets": targets}},
        "record": {"type": "object", "properties": {
            "prompts": {"type": "array", "maxItems": 1, "items": prompt},
            "bargeInAllowed": {"type": ["boolean", "null"]},
            "initialSilenceTimeoutInSeconds": seconds, "maxSilenceTimeoutInSeconds": seconds,
            "maxRecordDurationInSeconds": seconds, "playBeep": {"type": ["boolean", "null"], "default": true},
            "stopTones": {"type": "array", "items": {"type": "string"}}, "clientContext": ctx,
            "streamWhileRecording": {"type": ["boolean", "null"]}}},
        "playPrompt": {"type": "object", "required": ["prompts"], "properties": {
            "prompts": {"type": "array", "minItems": 1, "maxItems": 20, "items": prompt},
            "loop": {"type": ["boolean", "null"]}, "clientContext": ctx}},
        "clientContext": {"type": "object", "properties": {"clientContext": ctx}},
    })
}
