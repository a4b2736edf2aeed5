//! Checks: pure functions from facts to findings. No I/O, no clock.

pub mod device;
pub mod registry;
