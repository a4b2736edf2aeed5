//! Many tenants: `audit|check --tenants-file` against several mock tenants behind one address
//! (`mock_graph::MultiTenantMock`, one multi-tenant app), per-tenant report files, and the
//! sign-in cache across tenants (`auth status` lists, `auth logout [--all]` removes).

use std::path::Path;
use std::time::Duration;

use mock_graph::{Fault, MockConfig, MultiTenantMock, RetryAfter};
use serde_json::Value;

use super::common::bin;
use super::graph::assert_no_secrets;
use super::tenant::output;

/// contoso (home: its apps are the multi-tenant apps), fabrikam and northwind.
fn three_tenants(pending_polls: u32) -> MultiTenantMock {
    let cfg = |name: &str| MockConfig {
        device_code_pending_polls: pending_polls,
        ..MockConfig::fixture(name)
    };
    MultiTenantMock::spawn_blocking(vec![cfg("contoso"), cfg("fabrikam"), cfg("northwind")])
        .unwrap_or_else(|e| panic!("mock did not start: {e}"))
}

/// The binary pointed at MOCK, with no tenant, secret or config from the environment and the
/// sign-in cache at CACHE.
fn command(mock: &MultiTenantMock, cache: &Path, args: &[&str]) -> assert_cmd::Command {
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
        .env_remove("AZURE_TENANT_ID")
        .env_remove("AZURE_CLIENT_ID")
        .env_remove("AZURE_CLIENT_SECRET")
        .env_remove("AZURE_FEDERATED_TOKEN_FILE")
        .env_remove("ENROLL_DOCTOR_ACCESS_TOKEN")
        .env_remove("ENROLL_DOCTOR_AUTH")
        .env_remove("ENROLL_DOCTOR_CONFIG")
        .env_remove("RUST_LOG")
        .env("ENROLL_DOCTOR_TOKEN_CACHE", cache)
        .timeout(Duration::from_secs(60));
    cmd
}

/// The run signed in with the home tenant's `auditor` app (client secret) in every tenant.
fn as_auditor(mock: &MultiTenantMock, cache: &Path, args: &[&str]) -> (i32, String, String) {
    let app = mock.tenant(0).app("auditor").expect("fixture app");
    let mut cmd = command(mock, cache, args);
    cmd.args(["--client-id", &app.client_id, "--auth", "client-secret"])
        .env("AZURE_CLIENT_SECRET", &app.client_secret);
    let (code, out, err) = output(cmd);
    assert_no_secrets("stdout", &out, &[&app.client_secret]);
    assert_no_secrets("stderr", &err, &[&app.client_secret]);
    (code, out, err)
}

/// A tenants file: contoso by domain, fabrikam by id (twice, in another case), a tenant no
/// one has, comments and blank lines, CRLF and a BOM.
fn tenants_file(dir: &Path, mock: &MultiTenantMock) -> std::path::PathBuf {
    let fabrikam = mock.tenant(1).tenant_id();
    let path = dir.join("customers.txt");
    std::fs::write(
        &path,
        format!(
            "\u{feff}# customers\r\ncontoso.onmicrosoft.com   # Contoso\r\n\r\n{fabrikam}\r\n\
             nosuch.example\r\n{}\r\n",
            fabrikam.to_uppercase()
        ),
    )
    .unwrap();
    path
}

fn row<'a>(summary: &'a Value, tenant: &str) -> &'a Value {
    summary["tenants"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["tenant"] == tenant))
        .unwrap_or_else(|| panic!("no row for {tenant}: {summary}"))
}

#[test]
fn audit_runs_every_tenant_and_an_unknown_one_is_an_error_row() {
    let mock = three_tenants(1);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("tokens.json");
    let file = tenants_file(dir.path(), &mock);
    let file = file.to_str().unwrap();
    let (code, out, err) = as_auditor(
        &mock,
        &cache,
        &["audit", "--tenants-file", file, "--format", "json"],
    );
    assert_eq!(
        code, 2,
        "an unknown tenant makes the run incomplete\n{out}\n{err}"
    );
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["schema"], "enroll-doctor/tenants@1");
    assert_eq!(v["command"], "audit");
    assert_eq!(v["auth_method"], "client-secret");
    assert_eq!(v["exit_code"], 2);
    // Three tenants: the duplicate id is read once.
    assert_eq!(v["summary"]["tenants"], 3, "{v}");
    assert_eq!(v["summary"]["error"], 1, "{v}");

    let unknown = row(&v, "nosuch.example");
    assert_eq!(unknown["status"], "error");
    assert_eq!(unknown["exit_code"], 2);
    let reason = unknown["reason"].as_str().unwrap();
    assert!(
        reason.contains("90002") || reason.contains("not found"),
        "{reason}"
    );
    // Worst first.
    assert_eq!(v["tenants"][0]["tenant"], "nosuch.example", "{v}");

    let contoso = row(&v, "contoso.onmicrosoft.com");
    assert_eq!(contoso["tenant_id"], mock.tenant(0).tenant_id());
    assert_eq!(contoso["name"], "Contoso");
    assert_ne!(contoso["status"], "error", "{contoso}");
    assert!(contoso["pass"].as_u64().unwrap() > 0, "{contoso}");
    let fabrikam = row(&v, &mock.tenant(1).tenant_id());
    assert_eq!(fabrikam["name"], "Fabrikam");
    assert_eq!(fabrikam["status"], "findings", "{fabrikam}");
    assert_eq!(fabrikam["exit_code"], 1);
    assert!(fabrikam["fail"].as_u64().unwrap() > 0, "{fabrikam}");
    let top = fabrikam["top_blocking"]["check"].as_str().unwrap();
    assert!(top.starts_with("TEN"), "{fabrikam}");
    assert!(
        fabrikam["failing"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == top)
    );
    // Each tenant signed in through its own token endpoint and read its own Graph (the home
    // tenant also answered the unknown tenant's sign-in); northwind, not in the file, was never
    // asked.
    for (i, sign_ins) in [(0, 2), (1, 1)] {
        let t = mock.tenant(i);
        assert_eq!(t.stats().token_requests, sign_ins, "tenant {i}");
        assert!(
            t.requests()
                .iter()
                .any(|r| r.path_and_query.starts_with("/v1.0/organization")),
            "tenant {i}"
        );
    }
    assert_eq!(mock.tenant(2).stats().requests, 0);
    // One line per tenant on stderr as it finishes.
    assert_eq!(err.matches("enroll-doctor: [").count(), 3, "{err}");

    // The first screen for people: the summary table, the checks failing across tenants, and
    // how to get each tenant's findings.
    let (code, table, _) = as_auditor(&mock, &cache, &["audit", "--tenants-file", file]);
    assert_eq!(code, 2);
    assert!(
        table.starts_with("audit over 3 tenants: 1 ok, 1 with findings, 1 error")
            || table.starts_with("audit over 3 tenants: 0 ok, 2 with findings, 1 error"),
        "{table}"
    );
    assert!(table.contains("signed in with client-secret"), "{table}");
    assert!(
        table.contains("nosuch.example") && table.contains("Fabrikam"),
        "{table}"
    );
    assert!(table.contains("Checks that fail, by tenants"), "{table}");
    assert!(table.contains("--output-dir DIR"), "{table}");
    assert!(table.contains("app-only token"), "{table}");

    // `--fail-on never`: the findings no longer count. A tenant named by a domain and by its id
    // is read twice, and the summary says so.
    let known = dir.path().join("known.txt");
    let contoso_id = mock.tenant(0).tenant_id();
    std::fs::write(&known, format!("contoso.com\nfabrikam.com\n{contoso_id}\n")).unwrap();
    let known = known.to_str().unwrap();
    let (code, table, err) = as_auditor(
        &mock,
        &cache,
        &["audit", "--tenants-file", known, "--fail-on", "never"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        table.contains(&format!("contoso.com and {contoso_id} are the same tenant")),
        "{table}"
    );
    let (code, csv, _) = as_auditor(
        &mock,
        &cache,
        &["audit", "--tenants-file", known, "--format", "csv"],
    );
    assert_eq!(code, 1, "fabrikam has failing checks");
    assert!(
        csv.starts_with("\u{feff}tenant,tenant_id,name,status"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 4, "{csv}");
}

#[test]
fn per_tenant_report_files_are_what_a_single_tenant_run_prints() {
    let mock = three_tenants(1);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("tokens.json");
    let file = tenants_file(dir.path(), &mock);
    let reports = dir.path().join("reports");
    let (code, out, err) = as_auditor(
        &mock,
        &cache,
        &[
            "audit",
            "--tenants-file",
            file.to_str().unwrap(),
            "--output-dir",
            reports.to_str().unwrap(),
            "--format",
            "json",
            "--as-of",
            "2026-11-26",
            "--tenant-concurrency",
            "2",
        ],
    );
    assert_eq!(code, 2, "{err}");
    let summary: Value = serde_json::from_str(&out).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&reports)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let fabrikam_file = format!("{}.json", mock.tenant(1).tenant_id());
    let mut expected = vec![
        "contoso.onmicrosoft.com.json".to_string(),
        fabrikam_file.clone(),
        "summary.json".to_string(),
    ];
    expected.sort();
    // No file for the tenant that could not be read, and no temporary file left.
    assert_eq!(names, expected);
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(saved, summary);
    assert_eq!(
        row(&summary, "contoso.onmicrosoft.com")["report_file"],
        reports
            .join("contoso.onmicrosoft.com.json")
            .display()
            .to_string()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(reports.join(&fabrikam_file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // The file holds the report `audit --tenant` prints for that tenant.
    let app = mock.tenant(0).app("auditor").unwrap();
    let mut one = command(
        &mock,
        &cache,
        &[
            "audit",
            "--tenant",
            &mock.tenant(1).tenant_id(),
            "--format",
            "json",
            "--as-of",
            "2026-11-26",
            "--client-id",
            &app.client_id,
            "--auth",
            "client-secret",
        ],
    );
    one.env("AZURE_CLIENT_SECRET", &app.client_secret);
    let (code, single, err) = output(one);
    assert_eq!(code, 1, "{err}");
    let single: Value = serde_json::from_str(&single).unwrap();
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join(&fabrikam_file)).unwrap())
            .unwrap();
    assert_eq!(file["schema"], "enroll-doctor/report@1");
    assert_eq!(file["findings"], single["findings"]);
    assert_eq!(file["summary"], single["summary"]);
    assert_eq!(file["notes"], single["notes"]);
    assert_eq!(
        row(&summary, &mock.tenant(1).tenant_id())["fail"],
        single["summary"]["fail"]
    );

    // Markdown reports are `.md`; a second run replaces the files.
    let (code, md, _) = as_auditor(
        &mock,
        &cache,
        &[
            "audit",
            "--tenants-file",
            file_path(dir.path(), "contoso.com\n"),
            "--output-dir",
            reports.to_str().unwrap(),
            "--format",
            "markdown",
        ],
    );
    assert!(code < 2, "{md}");
    assert!(md.starts_with("## enroll-doctor audit: 1 tenant"), "{md}");
    let report = std::fs::read_to_string(reports.join("contoso.com.md")).unwrap();
    assert!(report.contains("TEN001"), "{report}");
    assert!(reports.join("summary.md").exists());
}

/// A file in DIR holding TEXT (leaked for the `&str` argument lists; tests only).
fn file_path(dir: &Path, text: &str) -> &'static str {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let p = dir.join(format!("tenants-{n}.txt"));
    std::fs::write(&p, text).unwrap();
    Box::leak(p.to_string_lossy().into_owned().into_boxed_str())
}

#[test]
fn check_runs_the_same_users_in_every_tenant() {
    let mock = three_tenants(1);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("tokens.json");
    let file = file_path(dir.path(), "contoso.com\nfabrikam.com\n");
    let (code, out, err) = as_auditor(
        &mock,
        &cache,
        &[
            "check",
            "--tenants-file",
            file,
            "--all-users",
            "--format",
            "jsonl",
        ],
    );
    assert_eq!(code, 1, "{out}\n{err}");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(lines[0]["type"], "summary");
    assert_eq!(lines[0]["command"], "check");
    for l in &lines[1..] {
        assert_eq!(l["type"], "tenant");
        let users = &l["users"];
        assert!(users["checked"].as_u64().unwrap() > 3, "{l}");
        assert!(users["not_ready"].as_u64().unwrap() > 0, "{l}");
        assert!(l["top_blocking"]["check"].is_string(), "{l}");
    }
    // The table shows the users not ready of each tenant.
    let (_, table, _) = as_auditor(
        &mock,
        &cache,
        &["check", "--tenants-file", file, "--all-users"],
    );
    assert!(
        table.contains("Not ready") && table.contains(" of "),
        "{table}"
    );
}

#[test]
fn a_throttled_tenant_waits_alone() {
    let mock = three_tenants(1);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("tokens.json");
    // fabrikam's Graph asks for a pause twice; contoso's does not.
    mock.tenant(1).inject(
        Fault::Throttle {
            retry_after: Some(RetryAfter::Seconds(1)),
        }
        .on("/v1.0/organization")
        .times(2),
    );
    let file = file_path(dir.path(), "contoso.com\nfabrikam.com\n");
    let (code, out, err) = as_auditor(
        &mock,
        &cache,
        &["audit", "--tenants-file", file, "-v", "--format", "json"],
    );
    assert!(code < 2, "{out}\n{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["summary"]["error"], 0, "{v}");
    assert_eq!(mock.tenant(1).stats().throttled, 2);
    assert_eq!(mock.tenant(0).stats().throttled, 0);
    // Each tenant's own client counted its own throttling.
    let line = |t: &str| {
        err.lines()
            .find(|l| l.starts_with(&format!("enroll-doctor:   {t}: Graph:")))
            .unwrap_or_else(|| panic!("no counters for {t}:\n{err}"))
            .to_string()
    };
    assert!(line("fabrikam.com").contains(" 2 throttled (429)"), "{err}");
    assert!(line("contoso.com").contains(" 0 throttled (429)"), "{err}");
    // contoso was not held up by fabrikam's pauses.
    let secs = |t: &str| row(&v, t)["seconds"].as_f64().unwrap();
    assert!(secs("fabrikam.com") >= 1.0, "{v}");
    assert!(secs("contoso.com") < secs("fabrikam.com"), "{v}");
}

#[test]
fn wrong_input_is_refused_before_any_sign_in() {
    let mock = three_tenants(1);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("tokens.json");
    let file = file_path(dir.path(), "contoso.com\n");
    // --tenant and --tenants-file: a usage error.
    let (code, _, err) = as_auditor(
        &mock,
        &cache,
        &["audit", "--tenants-file", file, "--tenant", "contoso.com"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("cannot be used with"), "{err}");
    // A line that is no tenant names the file and the line.
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, "contoso.com\n# ok\ncontoso.com/../x\n").unwrap();
    let (code, _, err) = as_auditor(
        &mock,
        &cache,
        &[
            "check",
            "--tenants-file",
            bad.to_str().unwrap(),
            "--all-users",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!(
            "tenants file {}:3: \"contoso.com/../x\"",
            bad.display()
        )),
        "{err}"
    );
    // A method that is one tenant's.
    let mut cmd = command(
        &mock,
        &cache,
        &["audit", "--tenants-file", file, "--auth", "access-token"],
    );
    cmd.env(
        "ENROLL_DOCTOR_ACCESS_TOKEN",
        mock.tenant(0).token_for("auditor").unwrap(),
    );
    let (code, out, err) = output(cmd);
    assert_eq!(code, 2);
    assert!(err.contains("cannot use --auth access-token"), "{err}");
    assert_no_secrets("refusal", &format!("{out}{err}"), &[]);
    assert_eq!(mock.tenant(0).stats().requests, 0);
}

#[test]
fn sign_ins_to_two_tenants_are_cached_listed_used_and_removed_one_by_one() {
    // The mock approves each device code at the first poll: no 5 s wait.
    let mock = three_tenants(0);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("tokens.json");
    let cli = mock.tenant(0).app("cli").unwrap();
    let (contoso, fabrikam) = ("contoso.com", "fabrikam.com");
    let run = |args: &[&str]| {
        let mut cmd = command(&mock, &cache, args);
        cmd.env("AZURE_CLIENT_ID", &cli.client_id);
        output(cmd)
    };
    for t in [contoso, fabrikam] {
        let (code, out, err) = run(&["auth", "login", "--auth", "device-code", "--tenant", t]);
        assert_eq!(code, 0, "{out}\n{err}");
        assert!(err.contains("enter the code"), "{err}");
    }
    let refresh: Vec<String> = {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&cache).unwrap()).unwrap();
        v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["refresh_token"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(refresh.len(), 2);
    let secrets: Vec<&str> = refresh.iter().map(String::as_str).collect();

    // Listed without a sign-in or a network call.
    let before = mock
        .tenants()
        .iter()
        .map(|t| t.stats().requests)
        .sum::<u64>();
    let (code, out, err) = run(&["auth", "status", "--cached", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    assert_no_secrets("cached list", &format!("{out}{err}"), &secrets);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["cache"], cache.display().to_string());
    let listed = v["sign_ins"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "{v}");
    for (t, id) in [(contoso, 0), (fabrikam, 1)] {
        let e = listed.iter().find(|e| e["tenant"] == t).expect(t);
        assert_eq!(e["tenant_id"], mock.tenant(id).tenant_id());
        assert_eq!(e["method"], "device-code");
        assert_eq!(e["client_id"], cli.client_id);
        assert_eq!(e["login_url"], mock.base_url());
        assert!(e["account"].as_str().unwrap().contains('@'), "{e}");
        assert_eq!(e["has_refresh_token"], true);
    }
    let after = mock
        .tenants()
        .iter()
        .map(|t| t.stats().requests)
        .sum::<u64>();
    assert_eq!(before, after, "--cached made a request");

    // The full status: who, which tenant, which method first; then the cached sign-ins.
    let (code, out, err) = run(&[
        "auth",
        "status",
        "--auth",
        "device-code",
        "--tenant",
        fabrikam,
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_no_secrets("status", &format!("{out}{err}"), &secrets);
    let first: Vec<&str> = out.lines().take(4).collect();
    assert!(
        first[0].starts_with("Identity:    it-admin@contoso.com"),
        "{out}"
    );
    assert!(
        first[1].starts_with(&format!(
            "Tenant:      {} (Fabrikam), asked for as fabrikam.com",
            mock.tenant(1).tenant_id()
        )),
        "{out}"
    );
    assert!(first[2].contains("signed in with device-code"), "{out}");
    assert!(
        first[3].starts_with("Can run:     ") && first[3].contains("checks"),
        "{out}"
    );
    assert!(out.contains("Cached sign-ins (2) in"), "{out}");
    assert!(
        !err.contains("enter the code"),
        "the cached sign-in was not used: {err}"
    );

    // A delegated run over both tenants uses each tenant's cached sign-in: no prompt.
    let file = file_path(dir.path(), "contoso.com\nfabrikam.com\n");
    let (code, out, err) = run(&[
        "audit",
        "--tenants-file",
        file,
        "--auth",
        "device-code",
        "--format",
        "json",
    ]);
    assert!(code < 2, "{out}\n{err}");
    assert!(!err.contains("enter the code"), "{err}");
    assert_eq!(
        err.matches("signing in with device-code").count(),
        2,
        "{err}"
    );
    assert_no_secrets("delegated run", &format!("{out}{err}"), &secrets);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["auth_method"], "device-code");
    assert_eq!(row(&v, fabrikam)["tenant_id"], mock.tenant(1).tenant_id());
    assert_eq!(row(&v, contoso)["tenant_id"], mock.tenant(0).tenant_id());

    // Logout of one tenant keeps the other.
    let (code, out, _) = run(&["auth", "logout", "--tenant", contoso]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with(
            "Removed 1 cached sign-in(s) for tenant contoso.com (it-admin@contoso.com)."
        ),
        "{out}"
    );
    assert!(out.contains("1 other cached sign-in(s) kept"), "{out}");
    let (_, out, _) = run(&["auth", "status", "--cached"]);
    assert!(
        out.contains("Cached sign-ins (1)") && out.contains(fabrikam),
        "{out}"
    );
    assert!(!out.contains("│ contoso.com "), "{out}");
    // A tenant without a sign-in: nothing removed, said so.
    let (code, out, _) = run(&["auth", "logout", "--tenant", "northwind.example"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("No cached sign-in for tenant northwind.example"),
        "{out}"
    );
    // --all removes the rest, and the file.
    let (code, out, _) = run(&["auth", "logout", "--all"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("Removed all 1 cached sign-in(s)"), "{out}");
    assert!(!cache.exists());
    let (_, out, _) = run(&["auth", "status", "--cached"]);
    assert!(out.contains("Cached sign-ins: none"), "{out}");
}

#[test]
fn html_junit_and_sarif_are_one_file_per_tenant_with_a_table_summary() {
    let mock = three_tenants(1);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("tokens.json");
    let file = tenants_file(dir.path(), &mock);
    for (format, ext) in [("html", "html"), ("junit", "xml"), ("sarif", "sarif")] {
        let reports = dir.path().join(format!("reports-{format}"));
        let (code, out, err) = as_auditor(
            &mock,
            &cache,
            &[
                "audit",
                "--tenants-file",
                file.to_str().unwrap(),
                "--output-dir",
                reports.to_str().unwrap(),
                "--format",
                format,
                "--as-of",
                "2026-11-26",
            ],
        );
        assert_eq!(code, 2, "{format}: {err}");
        // The summary over the tenants is a table (these formats lay out one report each).
        assert!(out.contains("contoso.onmicrosoft.com"), "{format}: {out}");
        assert!(
            !out.starts_with('<') && !out.starts_with('{'),
            "{format}: {out}"
        );
        let mut names: Vec<String> = std::fs::read_dir(&reports)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let mut expected = vec![
            format!("contoso.onmicrosoft.com.{ext}"),
            format!("{}.{ext}", mock.tenant(1).tenant_id()),
            "summary.txt".to_string(),
        ];
        expected.sort();
        assert_eq!(names, expected, "{format}");
        let report =
            std::fs::read_to_string(reports.join(format!("contoso.onmicrosoft.com.{ext}")))
                .unwrap();
        match format {
            "html" => {
                assert!(report.starts_with("<!DOCTYPE html>"));
                assert!(report.ends_with("</html>\n"));
            }
            "junit" => {
                assert!(report.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
                assert!(report.ends_with("</testsuites>\n"));
            }
            _ => {
                let log: Value = serde_json::from_str(&report).unwrap();
                assert_eq!(log["version"], "2.1.0");
                assert!(
                    !log["runs"][0]["tool"]["driver"]["rules"]
                        .as_array()
                        .unwrap()
                        .is_empty()
                );
            }
        }
    }
}
