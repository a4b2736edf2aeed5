//! `--auth certificate` with the files admins have (PFX, encrypted PKCS#8), through the binary
//! against the mock identity platform and Graph. The fixtures are OpenSSL's
//! (tests/fixtures/certs, see its README).

use std::path::PathBuf;
use std::time::Duration;

use mock_graph::{BlockingMockGraph, MockConfig, MockGraph};

use super::common::bin;

/// The fixtures' password (test-only).
const PASSWORD: &str = "test-only-Pfx-9";
const PASSWORD_VAR: &str = "AZURE_CLIENT_CERTIFICATE_PASSWORD";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/certs")
        .join(name)
}

/// The contoso mock with app.crt registered for the `cert-only` app; its client id.
fn mock_with_app_cert() -> (BlockingMockGraph, String) {
    let mock = match MockGraph::spawn_blocking(MockConfig::fixture("contoso")) {
        Ok(m) => m,
        Err(e) => panic!("mock Graph did not start: {e}"),
    };
    let app = mock.app("cert-only").expect("fixture app cert-only");
    let cert = std::fs::read_to_string(fixture("app.crt")).unwrap();
    assert!(mock.register_certificate(&app.client_id, &cert));
    (mock, app.client_id)
}

/// Runs the binary signed in with `--auth certificate` and the certificate file `cert`
/// (a flag, or AZURE_CLIENT_CERTIFICATE_PATH when `by_env`), with `password` (or none).
fn run(
    mock: &BlockingMockGraph,
    client_id: &str,
    cert: &std::path::Path,
    by_env: bool,
    password: Option<&str>,
    args: &[&str],
) -> (i32, String, String) {
    let base = mock.base_url();
    let mut cmd = bin();
    cmd.args(args)
        .args([
            "--cloud",
            "custom",
            "--graph-url",
            &base,
            "--login-url",
            &base,
        ])
        .args(["--tenant", &mock.tenant_id(), "--client-id", client_id])
        .args(["--auth", "certificate"])
        .env_remove("AZURE_CLIENT_SECRET")
        .env_remove("AZURE_CLIENT_CERTIFICATE_PATH")
        .env_remove(PASSWORD_VAR)
        .env_remove("ENROLL_DOCTOR_ACCESS_TOKEN")
        .env_remove("ENROLL_DOCTOR_CONFIG")
        .env_remove("RUST_LOG")
        .env(
            "ENROLL_DOCTOR_TOKEN_CACHE",
            std::env::temp_dir().join("enroll-doctor-e2e-no-cache"),
        )
        .timeout(Duration::from_secs(120));
    if by_env {
        cmd.env("AZURE_CLIENT_CERTIFICATE_PATH", cert);
    } else {
        cmd.arg("--certificate").arg(cert);
    }
    if let Some(p) = password {
        cmd.env(PASSWORD_VAR, p);
    }
    let out = cmd.output().expect("run enroll-doctor");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// No password, no key material, no assertion (a JWT starts `eyJ`) in anything printed.
fn assert_clean(what: &str, text: &str, password: &str) {
    assert!(
        !text.contains(password),
        "{what} shows the password:\n{text}"
    );
    assert!(!text.contains("PRIVATE KEY"), "{what} shows a key:\n{text}");
    assert!(!text.contains("eyJ"), "{what} shows a JWT:\n{text}");
}

#[test]
fn audit_signs_in_with_a_pfx_and_its_password() {
    let (mock, client_id) = mock_with_app_cert();
    let (code, out, err) = run(
        &mock,
        &client_id,
        &fixture("app-aes.pfx"),
        false,
        Some(PASSWORD),
        &[
            "audit",
            "-f",
            "json",
            "--fail-on",
            "never",
            "-vv",
            "--trace-http",
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let report: serde_json::Value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{out}\n{err}"));
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    assert!(!findings.is_empty(), "{out}");
    // App-only: the tenant checks ran with Graph data, none stopped at the sign-in.
    assert!(err.contains("/oauth2/v2.0/token -> 200"), "{err}");
    assert_clean("audit output", &format!("{out}{err}"), PASSWORD);
}

#[test]
fn every_admin_format_signs_in() {
    let (mock, client_id) = mock_with_app_cert();
    let dir = tempfile::tempdir().unwrap();
    // Encrypted PKCS#8 key and its certificate in one PEM file.
    let pem = dir.path().join("app.pem");
    let mut text = std::fs::read(fixture("app-enc.key")).unwrap();
    text.extend(std::fs::read(fixture("app.crt")).unwrap());
    std::fs::write(&pem, text).unwrap();
    for (file, by_env, password) in [
        (fixture("app-legacy.pfx"), true, Some(PASSWORD)),
        (fixture("app-3des.pfx"), false, Some(PASSWORD)),
        (fixture("app-nopass.pfx"), false, None),
        (pem.clone(), true, Some(PASSWORD)),
    ] {
        let (code, out, err) = run(
            &mock,
            &client_id,
            &file,
            by_env,
            password,
            &["auth", "status", "-vv"],
        );
        assert_eq!(code, 0, "{}:\n{out}\n{err}", file.display());
        assert!(out.contains("signed in with certificate"), "{out}");
        assert_clean("auth status", &format!("{out}{err}"), PASSWORD);
    }
}

#[test]
fn wrong_or_missing_password_exits_2_naming_the_file_and_the_variable() {
    let (mock, client_id) = mock_with_app_cert();
    let wrong = "Wrong-Pfx-Pass-4";
    let pfx = fixture("app-aes.pfx");
    let (code, out, err) = run(
        &mock,
        &client_id,
        &pfx,
        false,
        Some(wrong),
        &["audit", "-vv", "--trace-http"],
    );
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(err.contains("app-aes.pfx"), "{err}");
    assert!(
        err.contains("the password in AZURE_CLIENT_CERTIFICATE_PASSWORD does not open this PFX"),
        "{err}"
    );
    assert_clean("wrong password", &format!("{out}{err}"), wrong);
    // It failed before any request: nothing went to the identity platform.
    assert!(!err.contains("/oauth2/v2.0/token"), "{err}");

    let (code, out, err) = run(&mock, &client_id, &pfx, false, None, &["audit"]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(
        err.contains("protected by a password: set AZURE_CLIENT_CERTIFICATE_PASSWORD"),
        "{err}"
    );

    // An encrypted PKCS#8 key with the wrong password.
    let (code, out, err) = run(
        &mock,
        &client_id,
        &fixture("app-enc.key"),
        false,
        Some(wrong),
        &["auth", "status"],
    );
    assert_eq!(code, 2, "{out}\n{err}");
    assert_clean("wrong key password", &format!("{out}{err}"), wrong);
}

#[test]
fn keys_entra_cannot_use_exit_2_with_what_to_do() {
    let (mock, client_id) = mock_with_app_cert();
    let (code, out, err) = run(
        &mock,
        &client_id,
        &fixture("ec.pfx"),
        false,
        Some(PASSWORD),
        &["audit"],
    );
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(err.contains("ec.pfx"), "{err}");
    assert!(err.contains("not RSA"), "{err}");
    assert!(err.contains("-KeyAlgorithm RSA"), "{err}");
    let (code, _, err) = run(
        &mock,
        &client_id,
        &fixture("cert-only.pfx"),
        false,
        Some(PASSWORD),
        &["audit"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("holds no private key"), "{err}");
    // A PFX whose certificate the app does not have: the identity platform refuses it.
    let (code, _, err) = run(
        &mock,
        &client_id,
        &fixture("app-chain.pfx"),
        false,
        Some(PASSWORD),
        &["auth", "status"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("invalid_client"), "{err}");
    assert_clean("unknown certificate", &err, PASSWORD);
}
