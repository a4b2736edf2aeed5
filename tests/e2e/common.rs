//! Helpers shared by the end-to-end tests.

#[allow(dead_code)]
pub fn bin() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("enroll-doctor").expect("binary built by cargo")
}

/// The binary in DIR with no tenant connection, config or limit from the environment.
#[allow(dead_code)]
pub fn isolated(dir: &std::path::Path) -> assert_cmd::Command {
    let mut c = bin();
    c.current_dir(dir);
    for k in [
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_CLIENT_CERTIFICATE_PATH",
        "ENROLL_DOCTOR_CONFIG",
        "ENROLL_DOCTOR_AUTH",
        "ENROLL_DOCTOR_GRAPH_URL",
        "ENROLL_DOCTOR_ACCESS_TOKEN",
        "ENROLL_DOCTOR_ACCESS_TOKEN_FILE",
        "ENROLL_DOCTOR_MAX_SNAPSHOT_MIB",
        "ENROLL_DOCTOR_MAX_USERS_FILE_MIB",
        "RUST_BACKTRACE",
    ] {
        c.env_remove(k);
    }
    c
}
