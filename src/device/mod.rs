//! Device side: detect each artifact by content, parse it, and assemble a [`report::DeviceReport`].

pub mod report;
