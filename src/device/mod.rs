//! Device side: detect each artifact by content, parse it, and assemble a [`report::DeviceReport`].
//!
//! `load_path` is the entry point: bytes → [`text::decode`] → [`sniff::sniff`] → one parser per
//! artifact ([`dsregcmd`], [`events`], [`registry`], [`schtasks`], [`bundle`]) → `DeviceReport`.

mod archive;
pub mod autopilot;
pub mod autopilot_files;
pub mod bundle;
mod cab;
mod classify;
pub mod dsregcmd;
pub mod event_xml;
pub mod events;
pub mod evtx;
pub mod host;
mod host_files;
pub mod load;
pub mod mdmdiag;
mod mdmdiag_bundle;
mod member;
pub mod netsh;
pub mod registry;
pub mod report;
pub mod schtasks;
pub mod sniff;
pub mod sources;
pub mod text;
pub mod w32tm;
pub(crate) mod xml;

pub use bundle::COLLECTOR_SCRIPT;
pub use load::{DeviceInputError, MAX_FILE_BYTES, report_from_memory};
pub use sources::load_path;
