//! Helpers shared by the end-to-end tests.

#[allow(dead_code)]
pub fn bin() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("enroll-doctor").expect("binary built by cargo")
}
