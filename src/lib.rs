//! enroll-doctor: explains why a Windows device does not auto-enroll into Intune MDM.
//!
//! Collect → facts → evaluate → render: I/O (Graph, device files) produces plain serde facts,
//! checks are pure functions over them, renderers only format.

pub mod catalog;
pub mod checks;
pub mod config;
pub mod device;
pub mod diagnose;
pub mod diff;
pub mod fsio;
pub mod graph;
pub mod model;
pub mod ordered;
pub mod preflight;
pub mod redact;
pub mod report;
pub mod tenant;
pub mod text_safety;
