//! The Graph record operation as a sans-IO state machine.

pub mod params;
