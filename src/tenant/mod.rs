//! Tenant side: collectors that read Graph into a `TenantSnapshot`.

pub mod snapshot;

pub use snapshot::{MissingReason, Source, TenantSnapshot};
pub mod assignment_filters;
pub mod collect;
pub mod device_records;
pub mod index;
pub mod precedence;
mod source_de;
pub mod tables;
pub mod users_file;
