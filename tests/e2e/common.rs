//! Helpers shared by the end-to-end tests.

use std::path::PathBuf;

/// The shared sample device folders (../shared/samples from the repo root).
#[allow(dead_code)]
pub fn shared_samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/samples")
}

#[allow(dead_code)]
pub fn bin() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("enroll-doctor").expect("binary built by cargo")
}
