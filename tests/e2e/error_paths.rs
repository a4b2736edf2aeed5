//! Every error path the binary can be driven into reads as sentences: no Rust debug formatting
//! (`GraphError { status: Some(404), … }`, `Os { code: 111, kind: … }`, `Some(…)`, `None,`)
//! reaches stdout or stderr. Bad flags, bad files, bad config, Graph answering 401 and 404,
//! Graph unreachable, a token refused or expired, the identity platform refusing, conflicting
//! flags.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::common::isolated;
use super::fail_closed::{bare, sample};
use super::tenant::{Auth, command, fixture, output};

/// Where TEXT shows Rust's `{:?}` of a struct (`Name { field: `), an `Option` (`Some(`,
/// `None,` / `None }` / `None)`), or a tuple-struct debug (`Os {`, `Custom {`): the first such
/// place, with some context.
pub(super) fn debug_shape(text: &str) -> Option<String> {
    let context = |at: usize| -> String {
        let start = text[..at]
            .char_indices()
            .rev()
            .nth(40)
            .map_or(0, |(i, _)| i);
        text[start..].chars().take(120).collect()
    };
    for marker in ["Some(", "None,", "None }", "None)"] {
        if let Some(at) = text.find(marker) {
            return Some(context(at));
        }
    }
    // `Name { field: ` — an upper-case word, ` { `, a snake_case field, `: `.
    for (at, _) in text.match_indices(" { ") {
        let before = &text[..at];
        let word: String = before
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let after = &text[at + 3..];
        let field: String = after
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        let upper_word = word.len() > 1
            && word.starts_with(|c: char| c.is_ascii_uppercase())
            && word.chars().all(|c| c.is_ascii_alphabetic());
        if upper_word && !field.is_empty() && after[field.len()..].starts_with(": ") {
            return Some(context(at));
        }
    }
    None
}

#[test]
fn the_scanner_finds_debug_shapes_and_passes_sentences() {
    for bad in [
        "error: GraphError { status: Some(404), code: None, message: \"x\" }",
        "enroll-doctor: error: Os { code: 111, kind: ConnectionRefused, message: \"refused\" }",
        "value was Some(\"a\")",
        "reason: MissingReason::GraphError { status: None, code: None }",
    ] {
        assert!(debug_shape(bad).is_some(), "{bad}");
    }
    for good in [
        "enroll-doctor: error: no group named \"G\" in the tenant; check the name or pass its object id",
        "Graph rejected the token: Invalid signature. (signed in with --auth access-token)",
        "{ \"schema\": \"report@2\", \"findings\": [] }",
        "JSON { \"a\": 1 }",
        "None of the users is ready",
    ] {
        assert_eq!(debug_shape(good), None, "{good}");
    }
}

/// A JWT that is well formed but expired (enroll-doctor refuses it before any request).
fn expired_jwt() -> String {
    let part = |json: &str| URL_SAFE_NO_PAD.encode(json.as_bytes());
    format!(
        "{}.{}.{}",
        part(r#"{"alg":"RS256","typ":"JWT"}"#),
        part(r#"{"exp":1000000000,"tid":"t","aud":"https://graph.microsoft.com"}"#),
        part("sig")
    )
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write fixture");
    p.to_str().expect("utf-8 path").to_string()
}

#[test]
fn no_error_path_prints_rust_debug_formatting() {
    let mock = fixture("contoso");
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let device = sample("failed-8018002b");
    let device = device.to_str().expect("utf-8 path").to_string();
    let bad_toml = write(d, "bad.toml", "tenant = \n");
    let secret_key = write(d, "secret.toml", "client_secret = \"s3cr3t\"\n");
    let bad_http = write(d, "http.toml", "[http]\nconcurrency = 0\n");
    let unknown = write(d, "unknown.toml", "tenat = \"x\"\n");
    let fast = write(
        d,
        "fast.toml",
        "[http]\nmax_attempts = 1\nmax_retry_wait_secs = 0\ntimeout_secs = 5\n",
    );
    let not_json = write(d, "not.json", "{ not json");
    let wrong_json = write(d, "wrong.json", "{\"schema\": 7}");
    let empty_users = write(d, "users.txt", "\n");
    let garbage_dir = d.join("garbage");
    std::fs::create_dir_all(&garbage_dir).expect("mkdir");
    std::fs::write(garbage_dir.join("x.bin"), [0u8, 159, 146, 150]).expect("write");
    let garbage_dir = garbage_dir.to_str().expect("utf-8 path").to_string();
    let missing = d.join("missing.json");
    let missing = missing.to_str().expect("utf-8 path").to_string();
    let app = mock.app("auditor").expect("fixture app");
    let tenant = mock.tenant_id();
    let expired = expired_jwt();

    // (what, command, expect a non-zero exit)
    let mut runs: Vec<(String, assert_cmd::Command)> = Vec::new();
    let mut offline = |what: &str, args: &[&str]| {
        let mut c = isolated(d);
        c.args(args);
        runs.push((what.to_string(), c));
    };
    // Bad flags.
    offline("unknown flag", &["check", "--bogus"]);
    offline("bad format value", &["audit", "--format", "nope"]);
    offline("missing device report", &["diagnose"]);
    offline("missing explain code", &["explain"]);
    offline("bad --as-of", &["audit", "--as-of", "2025-13-01"]);
    offline("unknown explain code", &["explain", "NOPE42"]);
    offline("unknown AADSTS code", &["explain", "AADSTS1"]);
    offline("no user named", &["check", "--snapshot", &missing]);
    offline(
        "conflicting --user --group",
        &["check", "--user", "a@b.c", "--group", "G"],
    );
    offline(
        "conflicting --group --all-users",
        &["check", "--group", "G", "--all-users"],
    );
    offline(
        "redact key without snapshot",
        &["diagnose", "-d", &device, "--redact-key-file", &missing],
    );
    // Bad files.
    offline("missing device path", &["diagnose", "-d", &missing]);
    offline(
        "device folder of garbage",
        &["diagnose", "-d", &garbage_dir],
    );
    offline("missing snapshot", &["audit", "--snapshot", &missing]);
    offline("snapshot not JSON", &["audit", "--snapshot", &not_json]);
    offline(
        "snapshot of another shape",
        &["audit", "--snapshot", &wrong_json],
    );
    offline(
        "missing users file",
        &["check", "--users-file", &missing, "--snapshot", &not_json],
    );
    offline(
        "empty users file",
        &[
            "check",
            "--users-file",
            &empty_users,
            "--snapshot",
            &not_json,
        ],
    );
    offline(
        "missing redaction key",
        &[
            "diagnose",
            "-d",
            &device,
            "--snapshot",
            &not_json,
            "--redact-key-file",
            &missing,
        ],
    );
    // Bad config.
    offline("config not TOML", &["audit", "--config", &bad_toml]);
    offline("config with a secret", &["audit", "--config", &secret_key]);
    offline("config out of range", &["audit", "--config", &bad_http]);
    offline(
        "config with an unknown key",
        &["audit", "--config", &unknown],
    );
    offline("missing config", &["audit", "--config", &missing]);
    offline("no tenant configured", &["audit"]);
    offline(
        "login with an app-only method",
        &["auth", "login", "--auth", "client-secret"],
    );

    // Against the mock: Graph and the identity platform refusing.
    let mut live = |what: &str, args: &[&str], env: &[(&str, &str)]| {
        let mut c = bare(&mock, d, args);
        for (k, v) in env {
            c.env(k, v);
        }
        runs.push((what.to_string(), c));
    };
    live(
        "garbage token: audit",
        &["audit"],
        &[("ENROLL_DOCTOR_ACCESS_TOKEN", "garbage")],
    );
    live(
        "garbage token: check",
        &["check", "--user", "jdoe@contoso.com"],
        &[("ENROLL_DOCTOR_ACCESS_TOKEN", "garbage")],
    );
    live(
        "garbage token: diagnose",
        &["diagnose", "-d", &device],
        &[("ENROLL_DOCTOR_ACCESS_TOKEN", "garbage")],
    );
    live(
        "garbage token: auth status",
        &["auth", "status"],
        &[("ENROLL_DOCTOR_ACCESS_TOKEN", "garbage")],
    );
    live(
        "expired token",
        &["audit"],
        &[("ENROLL_DOCTOR_ACCESS_TOKEN", &expired)],
    );
    live(
        "token with spaces",
        &["audit"],
        &[("ENROLL_DOCTOR_ACCESS_TOKEN", "two words")],
    );
    live(
        "token file missing",
        &["audit"],
        &[("ENROLL_DOCTOR_ACCESS_TOKEN_FILE", &missing)],
    );
    live(
        "wrong secret",
        &["audit", "--tenant", &tenant, "--client-id", &app.client_id],
        &[("AZURE_CLIENT_SECRET", "wrong")],
    );
    live(
        "unknown tenant",
        &[
            "audit",
            "--tenant",
            "nosuch.example",
            "--client-id",
            &app.client_id,
        ],
        &[("AZURE_CLIENT_SECRET", &app.client_secret)],
    );
    live(
        "confidential app in device code",
        &[
            "auth",
            "login",
            "--auth",
            "device-code",
            "--tenant",
            &tenant,
        ],
        &[("AZURE_CLIENT_ID", &app.client_id)],
    );
    live(
        "certificate file missing",
        &[
            "audit",
            "--tenant",
            &tenant,
            "--client-id",
            &app.client_id,
            "--auth",
            "certificate",
            "--certificate",
            &missing,
        ],
        &[],
    );
    live(
        "certificate file not PEM",
        &[
            "audit",
            "--tenant",
            &tenant,
            "--client-id",
            &app.client_id,
            "--auth",
            "certificate",
            "--certificate",
            &not_json,
        ],
        &[],
    );
    // Graph 404 on a group, by name and by id.
    for group in ["No Such Group", "00000000-0000-0000-0000-000000000001"] {
        let c = command(&mock, Auth::App("auditor"), &["check", "--group", group]);
        runs.push((format!("group {group}"), c));
    }
    // A delegated token without the scope permissions (403s: skips, not an error path of the
    // binary, but their texts are shown).
    runs.push((
        "limited app".into(),
        command(
            &mock,
            Auth::App("limited"),
            &["check", "--user", "jdoe@contoso.com"],
        ),
    ));
    // Graph unreachable (one attempt, no wait).
    let mut c = isolated(d);
    c.args(["audit", "--config", &fast, "--cloud", "custom"])
        .args([
            "--graph-url",
            "http://127.0.0.1:9",
            "--login-url",
            "http://127.0.0.1:9",
        ])
        .env("ENROLL_DOCTOR_ACCESS_TOKEN", "garbage");
    runs.push(("graph unreachable".into(), c));
    let mut c = isolated(d);
    c.args([
        "audit", "--config", &fast, "--cloud", "custom", "--tenant", &tenant,
    ])
    .args([
        "--graph-url",
        "http://127.0.0.1:9",
        "--login-url",
        "http://127.0.0.1:9",
    ])
    .env("AZURE_CLIENT_ID", &app.client_id)
    .env("AZURE_CLIENT_SECRET", "x");
    runs.push(("identity platform unreachable".into(), c));
    let mut c = isolated(d);
    c.args([
        "audit",
        "--cloud",
        "custom",
        "--graph-url",
        "ftp://example.com",
    ])
    .env("ENROLL_DOCTOR_ACCESS_TOKEN", "garbage");
    runs.push(("graph URL not http".into(), c));

    let mut found = Vec::new();
    let count = runs.len();
    for (what, cmd) in runs {
        let (code, out, err) = output(cmd);
        if what != "limited app" {
            assert_ne!(code, 0, "{what}: exit 0\n{out}\n{err}");
        }
        if let Some(at) = debug_shape(&out) {
            found.push(format!("{what} (stdout): …{at}…"));
        }
        if let Some(at) = debug_shape(&err) {
            found.push(format!("{what} (stderr): …{at}…"));
        }
        assert!(!err.contains("panicked"), "{what}: {err}");
    }
    assert!(count > 40, "{count} runs");
    assert!(
        found.is_empty(),
        "Rust debug formatting reached the user:\n{}",
        found.join("\n")
    );
}
