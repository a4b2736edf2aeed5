//! Device side: detect each artifact by content, parse it, and assemble a [`report::DeviceReport`].

pub mod dsregcmd;
pub mod events;
pub mod load;
pub mod registry;
pub mod report;
pub mod schtasks;
pub mod sniff;
pub mod text;

pub use load::{DeviceInputError, load_path};
