//! Tenant side: collectors that read Graph into a `TenantSnapshot`.

mod conditional_access;
mod devices;
mod serde_helpers;
pub mod snapshot;
mod snapshot_io;
mod users_groups;

pub use snapshot::{MissingReason, Source, TenantSnapshot};
pub mod assignment_filters;
pub mod autopilot;
pub mod collect;
pub mod device_groups;
pub mod device_records;
pub mod filter_rule;
pub mod index;
pub mod precedence;
mod source_de;
pub mod tables;
pub mod tenants_file;
pub mod users_file;
