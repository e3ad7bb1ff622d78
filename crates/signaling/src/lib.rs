//! SIP signaling for callclip: messages, transactions, dialogs, registration and SDP offer/answer,
//! as sans-IO state machines.

pub mod message;
