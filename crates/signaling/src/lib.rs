//! SIP signaling for callclip: messages, transactions, dialogs, registration and SDP offer/answer,
//! as sans-IO state machines.

pub mod error;
pub mod message;
pub mod dialog;
pub mod endpoint;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod timer;
pub mod transaction;
pub mod sdp;
pub mod auth;
pub mod registration;

pub use error::Error;
