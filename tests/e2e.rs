//! End-to-end tests: the built binary against sample device files and the mock Graph.
//! One test crate (one link) with a module per area keeps build time down on CI.

#[path = "support/evtx_samples.rs"]
mod evtx_samples;
#[path = "support/evtx_writer.rs"]
mod evtx_writer;
#[path = "support/utf16.rs"]
mod utf16;

#[path = "support/mdmdiag_bundle.rs"]
mod bundle_support;

mod e2e {
    pub mod app_identity;
    pub mod autopilot_checks;
    pub mod autopilot_device;
    pub mod autopilot_tenant;
    pub mod browser;
    pub mod certificates;
    pub mod ci_gates;
    pub mod collector;
    pub mod collector_output;
    pub mod collector_script;
    pub mod colour;
    pub mod common;
    pub mod completions;
    pub mod correlate;
    pub mod demo;
    pub mod device_rules;
    pub mod diagnose;
    pub mod diff;
    pub mod error_paths;
    pub mod evtx;
    pub mod explain;
    pub mod fail_closed;
    pub mod formats;
    pub mod graph;
    pub mod hostile_net;
    pub mod html_browser;
    pub mod hygiene;
    pub mod markdown;
    pub mod mdmdiag_bundle;
    pub mod readiness;
    pub mod scenarios;
    pub mod special_files;
    pub mod tenant;
    pub mod tenants;
    pub mod text_detection;
    pub mod ux;
    pub mod verdicts;
    pub mod width;
}
