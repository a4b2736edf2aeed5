//! Device side: detect each artifact by content, parse it, and assemble a [`report::DeviceReport`].

pub mod load;
pub mod report;

pub use load::{DeviceInputError, load_path};
