//! Graph JSON for the resources: camelCase, `@odata.type` on every complex value, `null` unset.

use serde_json::{json, Value};

use crate::engine::{
    CallId, CompletionReason, OperationId, OperationStatus, Party, PartyKind, ResultInfo,
};
use crate::store::{Call, Direction, OpKind, Operation};

/// The path Graph uses in `resourceUrl` and `@odata.id`.
pub fn call_path(call: &CallId) -> String {
    format!("/communications/calls/{call}")
}

pub fn operation_path(call: &CallId, op: &OperationId) -> String {
    format!("/communications/calls/{call}/operations/{op}")
}

pub fn result_info(r: &ResultInfo) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.resultInfo",
        "code": r.code,
        "subcode": r.subcode,
        "message": r.message,
    })
}

fn opt_result_info(r: Option<&ResultInfo>) -> Value {
    r.map(result_info).unwrap_or(Value::Null)
}

fn identity_set(p: &Party) -> Value {
    let ident = json!({
        "@odata.type": "#microsoft.graph.identity",
        "id": p.id,
        "displayName": p.display_name,
    });
    let slot = |k: PartyKind| {
        if p.kind == k {
            ident.clone()
        } else {
            Value::Null
        }
    };
    json!({
        "@odata.type": "#microsoft.graph.identitySet",
        "user": slot(PartyKind::User),
        "phone": slot(PartyKind::Phone),
        "application": slot(PartyKind::Application),
    })
}

fn participant(p: &Party, odata_type: &str) -> Value {
    json!({"@odata.type": odata_type, "identity": identity_set(p)})
}

fn media_info(uri: &str, resource_id: Option<&str>) -> Value {
    json!({"@odata.type": "#microsoft.graph.mediaInfo", "uri": uri, "resourceId": resource_id})
}

pub fn call(c: &Call) -> Value {
    let direction = match c.direction {
        Direction::Incoming => "incoming",
        Direction::Outgoing => "outgoing",
    };
    let audio = if c.state == crate::engine::CallState::Established {
        "active"
    } else {
        "inactive"
    };
    let call_routes: Vec<Value> = match (&c.request_uri, c.targets.first()) {
        (Some(uri), Some(to)) => vec![json!({
            "@odata.type": "#microsoft.graph.callRoute",
            "routingType": "lookup",
            "original": identity_set(to),
            "final": identity_set(&Party { kind: PartyKind::User, id: uri.clone(), display_name: None }),
        })],
        _ => Vec::new(),
    };
    json!({
        "@odata.type": "#microsoft.graph.call",
        "id": c.id.0,
        "state": c.state.graph_name(),
        "direction": direction,
        "callbackUri": c.callback_uri,
        "source": c.source.as_ref().map(|p| participant(p, "#microsoft.graph.participantInfo")),
        "targets": c.targets.iter()
            .map(|p| participant(p, "#microsoft.graph.invitationParticipantInfo"))
            .collect::<Vec<_>>(),
        "requestedModalities": ["audio"],
        "mediaConfig": {
            "@odata.type": "#microsoft.graph.serviceHostedMediaConfig",
            "preFetchMedia": c.media.pre_fetch.iter()
                .map(|p| media_info(&p.uri, p.resource_id.as_deref()))
                .collect::<Vec<_>>(),
        },
        "mediaState": {"@odata.type": "#microsoft.graph.callMediaState", "audio": audio},
        "resultInfo": opt_result_info(c.result_info.as_ref()),
        "toneInfo": c.tone.map(|(seq, d)| json!({
            "@odata.type": "#microsoft.graph.toneInfo",
            "sequenceId": seq,
            "tone": d.graph_name(),
        })),
        "callChainId": c.call_chain_id,
        "myParticipantId": c.my_participant_id,
        "callRoutes": call_routes,
        "subject": null,
        "tenantId": null,
    })
}

pub fn status_name(s: OperationStatus) -> &'static str {
    s.as_str()
}

pub fn completion_reason_name(r: CompletionReason) -> &'static str {
    r.as_str()
}

pub fn operation_type(kind: OpKind) -> &'static str {
    match kind {
        OpKind::Record => "#microsoft.graph.recordOperation",
        OpKind::PlayPrompt => "#microsoft.graph.playPromptOperation",
        OpKind::SubscribeToTone => "#microsoft.graph.subscribeToToneOperation",
        OpKind::CancelMediaProcessing => "#microsoft.graph.cancelMediaProcessingOperation",
    }
}

/// The operation as served by GET and in action responses; `odata_id` adds `@odata.id` (for
/// notifications).
pub fn operation(call: &CallId, op: &Operation, odata_id: bool) -> Value {
    let mut v = json!({
        "@odata.type": operation_type(op.kind),
        "id": op.id.0,
        "status": status_name(op.status),
        "clientContext": op.client_context,
        "resultInfo": opt_result_info(op.result_info.as_ref()),
    });
    let Some(obj) = v.as_object_mut() else {
        return v;
    };
    if odata_id {
        obj.insert("@odata.id".into(), operation_path(call, &op.id).into());
    }
    if matches!(op.kind, OpKind::Record | OpKind::PlayPrompt) {
        obj.insert(
            "completionReason".into(),
            op.completion_reason.map(completion_reason_name).into(),
        );
    }
    if op.kind == OpKind::Record {
        let link = op.recording.as_ref();
        obj.insert(
            "recordingLocation".into(),
            link.map(|l| l.location.clone()).into(),
        );
        obj.insert(
            "recordingAccessToken".into(),
            link.map(|l| l.token.clone()).into(),
        );
    }
    v
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn fresh_record_operation_has_graph_nulls() {
        let op = Operation::new(OpKind::Record, OperationStatus::Running, Some("ctx".into()));
        let v = operation(&CallId("c".into()), &op, false);
        assert_eq!(v["@odata.type"], "#microsoft.graph.recordOperation");
        assert_eq!(v["status"], "running");
        for k in ["completionReason", "resultInfo", "recordingLocation"] {
            assert!(v[k].is_null(), "{k}");
            assert!(v.as_object().unwrap().contains_key(k), "{k}");
        }
        assert_eq!(v["clientContext"], "ctx");
    }
}
