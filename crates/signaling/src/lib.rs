//! SIP signaling for callclip: messages, transactions, dialogs, registration and SDP offer/answer,
//! as sans-IO state machines.

pub mod auth;
pub mod dialog;
pub mod endpoint;
pub mod error;
pub mod message;
pub mod registration;
pub mod sdp;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod timer;
pub mod transaction;

pub use error::Error;
