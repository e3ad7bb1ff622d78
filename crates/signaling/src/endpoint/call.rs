//! One call's state as the user agent tracks it.

use std::time::Duration;

use bytes::Bytes;

use crate::dialog::Dialog;
use crate::message::{Request, Response};
use crate::transaction::{Target, TransactionId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum CallTimer {
    /// §13.3.1.4: retransmit our 2xx, T1 doubling to T2, until the ACK.
    OkRetransmit,
    /// §13.3.1.4: 64·T1 without an ACK ends the call with a BYE.
    OkTimeout,
    /// §9.1: our CANCEL got no final response for the INVITE within 64·T1.
    CancelGuard,
    /// Forget an ended call once stray retransmissions have died out.
    Reap,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// UAS: INVITE received, no final response yet.
    Offered,
    /// UAS: 2xx sent, waiting for the ACK.
    Answered,
    /// UAC: INVITE sent, no final response yet.
    Calling,
    Established,
}

/// A 2xx we keep sending until the ACK arrives (§13.3.1.4).
#[derive(Debug)]
pub(crate) struct PendingOk {
    pub response: Response,
    pub seq: u32,
    pub interval: Duration,
    pub to: Target,
}

#[derive(Debug)]
pub(crate) struct Call {
    pub phase: Phase,
    pub ended: bool,
    pub call_id: String,
    pub local_tag: String,
    /// The INVITE that created the call (ours as UAC, theirs as UAS).
    pub invite: Request,
    pub invite_txn: TransactionId,
    /// UAS: where responses to the INVITE go. UAC: where the INVITE went.
    pub peer: Target,
    pub dialog: Option<Dialog>,
    pub local_sdp: Bytes,
    pub ok: Option<PendingOk>,
    /// A re-INVITE or UPDATE waiting for `answer_reoffer`.
    pub reoffer: Option<(TransactionId, Request, Target)>,
    /// UAC: the ACK sent for the 2xx, repeated for each 2xx retransmission.
    pub ack: Option<(Request, Target)>,
    pub got_provisional: bool,
    pub cancel_requested: bool,
    /// UAC: the INVITE was already re-sent with credentials once.
    pub authenticated: bool,
    /// UAS: hang up as soon as the ACK arrives (§15: no BYE before the ACK).
    pub bye_after_ack: bool,
}

impl Call {
    pub fn new(
        phase: Phase,
        call_id: String,
        local_tag: String,
        invite: Request,
        invite_txn: TransactionId,
        peer: Target,
    ) -> Self {
        Self {
            phase,
            ended: false,
            call_id,
            local_tag,
            invite,
            invite_txn,
            peer,
            dialog: None,
            local_sdp: Bytes::new(),
            ok: None,
            reoffer: None,
            ack: None,
            got_provisional: false,
            cancel_requested: false,
            authenticated: false,
            bye_after_ack: false,
        }
    }
}
