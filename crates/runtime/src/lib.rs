//! The tokio glue of callclip: sockets, the clock, files and shutdown. The protocol cores
//! (signaling, media, recorder) are sans-IO; this crate feeds them time and packets and carries
//! out what they ask for.

pub mod call_task;
pub mod clock;
pub mod config;
pub mod convert;
pub mod embedded;
pub mod flow;
pub mod gateway;
pub mod prompts;
pub mod recording_file;
pub mod registration;
pub mod rtp_ports;
pub mod sip_loop;
pub mod sip_transport;
pub mod soundcard;
