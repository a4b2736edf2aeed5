//! Checks: pure functions from facts to findings. No I/O, no clock.

pub mod autopilot;
pub mod causes;
pub mod codes;
mod codes_autopilot;
pub mod common;
pub mod correlate;
pub mod device;
pub mod permissions_md;
pub mod registry;
pub mod tenant;
pub mod user;

use crate::model::{CheckMeta, Finding};

/// One check of a family: its metadata and its evaluation over the family's facts `F`. A
/// family lists its rules in one slice; that slice is the order of evaluation and of output.
pub struct Rule<F: ?Sized> {
    pub meta: &'static CheckMeta,
    pub eval: fn(&F) -> Finding,
}
#[cfg(test)]
mod layout;
