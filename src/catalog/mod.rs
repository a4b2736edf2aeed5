//! Reference data: error codes, Windows releases, service plans, well-known ids.

mod autopilot_codes;
pub mod error_codes;
pub mod service_plans;
pub mod well_known;
pub mod windows_releases;
