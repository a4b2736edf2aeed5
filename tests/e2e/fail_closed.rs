//! Fail closed, explain well (issue 12): a token Graph rejects ends every command with exit 2
//! and a sentence naming the sign-in method (never a report of permission skips, never exit 0);
//! an unknown audited tenant is no tenant mismatch; identity-platform errors say what to do;
//! conflicting user selections are usage errors; the example config changes nothing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use mock_graph::{BlockingMockGraph, Fault, MockConfig, MockGraph};
use serde_json::Value;

use super::common::isolated;
use super::tenant::{Auth, command, fixture, output, run};

/// Environment variables that select a sign-in method, on top of what `isolated` clears.
const METHOD_ENV: &[&str] = &[
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "RUST_LOG",
];

/// The binary in DIR pointed at MOCK's endpoints only: no tenant, no client, no method (what a
/// new user runs with one environment variable set).
pub(super) fn bare(mock: &BlockingMockGraph, dir: &Path, args: &[&str]) -> assert_cmd::Command {
    let base = mock.base_url();
    let mut c = isolated(dir);
    for k in METHOD_ENV {
        c.env_remove(k);
    }
    c.args(args)
        .args([
            "--cloud",
            "custom",
            "--graph-url",
            &base,
            "--login-url",
            &base,
        ])
        .env("ENROLL_DOCTOR_TOKEN_CACHE", dir.join("token-cache.json"))
        .env("ENROLL_DOCTOR_NO_BROWSER", "1")
        .timeout(Duration::from_secs(60));
    c
}

pub(super) fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("mocks/devices")
        .join(name)
}

/// What a rejected-token run must never print: a report (of permission skips or otherwise).
fn assert_no_report(what: &str, out: &str, err: &str) {
    assert!(
        out.trim().is_empty(),
        "{what}: printed a report:\n{out}\n{err}"
    );
    for never in [
        "insufficient permission",
        "SKIP",
        "not to the audited tenant",
    ] {
        assert!(!err.contains(never), "{what}: {never}:\n{err}");
    }
}

#[test]
fn a_token_graph_rejects_ends_every_command_with_exit_2() {
    let mock = fixture("contoso");
    let other = MockGraph::spawn_blocking(MockConfig::fixture("contoso")).expect("second mock");
    // Not a token at all, and a real token of another identity platform (Invalid signature).
    let foreign = other.token_for("auditor").expect("fixture app");
    let dir = tempfile::tempdir().expect("tempdir");
    let snap = dir.path().join("snap.json");
    let device = sample("failed-8018002b");
    let device = device.to_str().expect("utf-8 path");
    let commands: Vec<Vec<&str>> = vec![
        vec!["audit"],
        vec![
            "audit",
            "--save-snapshot",
            snap.to_str().expect("utf-8 path"),
        ],
        vec!["check", "--user", "jdoe@contoso.com"],
        vec!["check", "--all-users", "-f", "json"],
        vec!["diagnose", "-d", device],
        vec![
            "diagnose",
            "-d",
            device,
            "--user",
            "tlee@contoso.com",
            "-f",
            "json",
        ],
        vec!["auth", "status"],
    ];
    for token in ["garbage", foreign.as_str()] {
        for args in &commands {
            let what = format!("{} with {}", args.join(" "), &token[..7]);
            let mut c = bare(&mock, dir.path(), args);
            c.env("ENROLL_DOCTOR_ACCESS_TOKEN", token);
            let (code, out, err) = output(c);
            assert_eq!(code, 2, "{what}:\n{out}\n{err}");
            assert!(err.contains("Graph rejected the token: "), "{what}:\n{err}");
            assert!(
                err.contains("(signed in with --auth access-token); a token from ENROLL_DOCTOR_ACCESS_TOKEN(_FILE) cannot be renewed"),
                "{what}:\n{err}"
            );
            assert!(err.contains("auth login --auth browser"), "{what}:\n{err}");
            assert!(err.contains("request-id "), "{what}:\n{err}");
            assert_no_report(&what, &out, &err);
            assert!(!err.contains(token), "{what}: the token is echoed");
        }
    }
    assert!(!snap.exists(), "a snapshot of nothing was saved");
}

/// A token that can be renewed (client credentials) and is refused again after the renewal: the
/// run ends after the one renewal, with the method and what to check for it.
#[test]
fn a_token_refused_after_its_renewal_is_exit_2_naming_the_method() {
    let mock = fixture("contoso");
    mock.inject(Fault::ExpiredToken);
    let (code, out, err) = run(&mock, Auth::App("auditor"), &["audit"]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(
        err.contains(
            "Graph rejected the token: Lifetime validation failed, the token is expired. (signed in with --auth client-secret); a new app-only token was refused as well: check that --cloud"
        ),
        "{err}"
    );
    assert!(err.contains("--auth client-secret`"), "{err}");
    assert_no_report("audit", &out, &err);
    let stats = mock.stats();
    // Signed in, renewed once (a few concurrent requests may share the renewal); not once per
    // request.
    assert!(
        (2..=4).contains(&stats.token_requests),
        "token requests: {}",
        stats.token_requests
    );
    // Once refused, the other requests are not sent: far fewer than a collection makes.
    assert!(stats.requests < 40, "requests: {}", stats.requests);
}

/// The MDM/MAM policies answer app-only tokens with 401 `Unauthorized`: that stays a skip (the
/// token is fine), and the run goes on.
#[test]
fn app_only_401_on_the_scope_policies_is_still_a_skip() {
    let mock = fixture("contoso");
    let (code, out, err) = run(&mock, Auth::App("auditor"), &["audit", "-f", "json"]);
    assert_ne!(code, 2, "{out}\n{err}");
    assert!(!err.contains("Graph rejected the token"), "{err}");
    let report: Value = serde_json::from_str(&out).expect("JSON report");
    let ten003 = report["findings"]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["check"] == "TEN003"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(ten003["status"], "skip", "{ten003}");
}

/// An identity-platform refusal during a run is exit 2 with what to do, decoded from AADSTS.
#[test]
fn identity_platform_errors_are_exit_2_and_say_what_to_do() {
    let mock = fixture("contoso");
    let dir = tempfile::tempdir().expect("tempdir");
    let app = mock.app("auditor").expect("fixture app");
    let tenant = mock.tenant_id();
    // (arguments, environment, what the message must say)
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        // A wrong secret (7000215).
        (
            vec!["audit", "--tenant", &tenant, "--client-id", &app.client_id],
            vec![("AZURE_CLIENT_SECRET", "not-the-secret")],
            "What to do: AZURE_CLIENT_SECRET is not a secret of this app: use the secret's Value (not its Secret ID)",
        ),
        // A tenant that is not there (90002).
        (
            vec![
                "audit",
                "--tenant",
                "nosuchtenant.example",
                "--client-id",
                &app.client_id,
            ],
            vec![("AZURE_CLIENT_SECRET", &app.client_secret)],
            "What to do: check --tenant (the tenant id or a verified domain) and --cloud",
        ),
        // An app that is not there (700016).
        (
            vec![
                "audit",
                "--tenant",
                &tenant,
                "--client-id",
                "00000000-0000-0000-0000-00000000beef",
            ],
            vec![("AZURE_CLIENT_SECRET", "x")],
            "What to do: check the client id (--client-id or AZURE_CLIENT_ID) and the tenant (--tenant)",
        ),
        // A confidential app (step 1's AZURE_CLIENT_ID still exported) in a device code sign-in
        // (7000218).
        (
            vec![
                "auth",
                "login",
                "--auth",
                "device-code",
                "--tenant",
                &tenant,
            ],
            vec![("AZURE_CLIENT_ID", &app.client_id)],
            "is a confidential client; for a user sign-in unset AZURE_CLIENT_ID (and --client-id) to use Microsoft's public client, or enable 'Allow public client flows'",
        ),
    ];
    for (args, env, expect) in cases {
        let mut c = bare(&mock, dir.path(), &args);
        for (k, v) in &env {
            c.env(k, v);
        }
        let (code, out, err) = output(c);
        let what = args.join(" ");
        assert_eq!(code, 2, "{what}:\n{out}\n{err}");
        assert!(err.contains("sign-in refused ("), "{what}:\n{err}");
        assert!(err.contains(expect), "{what}:\n{err}");
        assert!(out.trim().is_empty(), "{what}:\n{out}");
        assert!(!err.contains(&app.client_secret), "{what}: secret echoed");
    }
}

/// `diagnose` against a tenant whose id is not known (no organization, no tenant id in the
/// snapshot) does not blame the device with COR001 nor advise `dsregcmd /leave`.
#[test]
fn an_unknown_audited_tenant_is_no_tenant_mismatch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/correlate/contoso-snapshot.json");
    let mut snap: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture).expect("fixture")).expect("JSON");
    snap["tenant_id"] = Value::String(String::new());
    snap["sources"]["organization"] = serde_json::json!({
        "status": "missing",
        "reason": {"kind": "insufficient-permission", "needed": ["User.Read"]}
    });
    let path = dir.path().join("unknown-tenant.json");
    std::fs::write(&path, snap.to_string()).expect("write snapshot");
    let device = sample("failed-8018002b");
    let mut c = isolated(dir.path());
    c.args(["diagnose", "--as-of", "2026-11-26", "-d"])
        .arg(&device)
        .arg("--snapshot")
        .arg(&path);
    let (_, table, err) = output(c);
    // COR001's advice; DEV007's generic fix ("If dsregcmd shows another tenant, …") may stay.
    assert!(
        !table.contains(
            "If the device belongs to the audited tenant: as an administrator run `dsregcmd /leave`"
        ),
        "{table}\n{err}"
    );
    assert!(!table.contains("not to the audited tenant"), "{table}");
    assert!(!table.contains("COR001 →"), "{table}");
    let mut c = isolated(dir.path());
    c.args(["diagnose", "--as-of", "2026-11-26", "-f", "json", "-d"])
        .arg(&device)
        .arg("--snapshot")
        .arg(&path);
    let (_, out, err) = output(c);
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    let cor001: Vec<&Value> = report["diagnoses"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|d| d["findings"].as_array().into_iter().flatten())
        .chain(report["findings"].as_array().into_iter().flatten())
        .filter(|f| f["check"] == "COR001")
        .collect();
    assert!(!cor001.is_empty(), "{out}");
    for f in &cor001 {
        assert_eq!(f["status"], "skip", "{f}");
    }
    for d in report["diagnoses"].as_array().into_iter().flatten() {
        let causes = d["causes"].to_string();
        assert!(!causes.contains("COR001"), "{causes}");
    }
    // The same device with the tenant known: COR001 passes (it is joined to contoso).
    let mut c = isolated(dir.path());
    c.args(["diagnose", "--as-of", "2026-11-26", "-f", "json", "-d"])
        .arg(&device)
        .arg("--snapshot")
        .arg(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/correlate/contoso-snapshot.json"),
        );
    let (_, out, _) = output(c);
    assert!(out.contains("\"COR001\""), "{out}");
}

#[test]
fn conflicting_user_selections_are_usage_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let users = dir.path().join("users.txt");
    std::fs::write(&users, "jdoe@contoso.com\n").expect("write users file");
    let users = users.to_str().expect("utf-8 path");
    for args in [
        vec!["check", "--user", "a@contoso.com", "--group", "G"],
        vec!["check", "--user", "a@contoso.com", "--all-users"],
        vec!["check", "--group", "G", "--all-users"],
        vec!["check", "--users-file", users, "--group", "G"],
        vec!["check", "--users-file", users, "--all-users"],
        vec!["check", "--all-users", "--user", "a@contoso.com"],
    ] {
        let mut c = isolated(dir.path());
        c.args(&args).args(["--snapshot", "none.json"]);
        let (code, out, err) = output(c);
        let what = args.join(" ");
        assert_eq!(code, 2, "{what}:\n{out}\n{err}");
        assert!(err.contains("cannot be used with"), "{what}:\n{err}");
        assert!(out.is_empty(), "{what}:\n{out}");
    }
    // --user and --users-file together are one selection.
    let mut c = isolated(dir.path());
    c.args(["check", "--user", "a@contoso.com", "--users-file", users])
        .args(["--snapshot", "none.json"]);
    let (code, _, err) = output(c);
    assert_eq!(code, 2, "{err}");
    assert!(!err.contains("cannot be used with"), "{err}");
    assert!(err.contains("none.json"), "{err}");
    // --help says so.
    let mut c = isolated(dir.path());
    c.args(["check", "--help"]);
    let (_, help, _) = output(c);
    assert!(help.contains("Not with --user, --users-file or"), "{help}");
}

#[test]
fn a_group_that_is_not_there_is_a_sentence() {
    let mock = fixture("contoso");
    for (group, expect) in [
        (
            "No Such Group",
            "no group named \"No Such Group\" in the tenant; check the name or pass its object id",
        ),
        (
            "00000000-0000-0000-0000-000000000001",
            "no group with the id 00000000-0000-0000-0000-000000000001 in the tenant; check the id or pass the group's display name",
        ),
    ] {
        let (code, out, err) = run(&mock, Auth::App("auditor"), &["check", "--group", group]);
        assert_eq!(code, 2, "{out}\n{err}");
        assert!(
            err.contains(&format!("cannot list the users to check: {expect}")),
            "{err}"
        );
        assert!(!err.contains("Graph 404"), "{err}");
        assert!(!err.contains("GraphError"), "{err}");
    }
}

/// The example config, used as is, changes nothing: offline `diagnose` runs as without it, and
/// `audit` says what to configure instead of signing in to a made-up tenant.
#[test]
fn the_example_config_is_harmless() {
    let dir = tempfile::tempdir().expect("tempdir");
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    let device = sample("failed-8018002b");
    let mut with = isolated(dir.path());
    with.args([
        "diagnose",
        "--as-of",
        "2026-11-26",
        "--fail-on",
        "never",
        "-f",
        "json",
    ])
    .arg("--config")
    .arg(&example)
    .arg("--device-report")
    .arg(&device);
    let (code, out, err) = output(with);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(err.trim().is_empty(), "{err}");
    let mut without = isolated(dir.path());
    without
        .args([
            "diagnose",
            "--as-of",
            "2026-11-26",
            "--fail-on",
            "never",
            "-f",
            "json",
        ])
        .arg("--device-report")
        .arg(&device);
    let (_, plain, _) = output(without);
    let json =
        |s: &str| -> Value { serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}")) };
    assert_eq!(json(&out), json(&plain));
    // Copied as its header says: ./enroll-doctor.toml.
    std::fs::copy(&example, dir.path().join("enroll-doctor.toml")).expect("copy");
    let mut audit = isolated(dir.path());
    audit.arg("audit");
    let (code, out, err) = output(audit);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(err.contains("no tenant to read"), "{err}");
}

/// The first step (`audit` app-only) then the delegated hint: it names `--auth`.
#[test]
fn the_app_only_note_names_the_delegated_method() {
    let mock = fixture("contoso");
    let (_, out, err) = run(&mock, Auth::App("auditor"), &["audit"]);
    assert!(
        out.contains("enroll-doctor auth login --auth browser"),
        "{out}\n{err}"
    );
    let cmd = command(&mock, Auth::App("auditor"), &["auth", "status"]);
    let (_, out, _) = output(cmd);
    assert!(out.contains("auth login --auth browser"), "{out}");
}
