//! Checks: pure functions from facts to findings. No I/O, no clock.

pub mod device;
pub mod permissions_md;
pub mod registry;
pub mod tenant;
pub mod user;
