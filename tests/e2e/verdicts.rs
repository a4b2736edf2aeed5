//! Tenant verdicts as data: every fixture tenant under `mocks/tenants/` is audited and every
//! one of its users checked (`check --all-users`, delegated sign-in so every check runs), and
//! each finding is recorded one line per fact in an insta snapshot per tenant. A changed
//! verdict, summary or evidence line of any tenant check or user check shows up as a snapshot
//! diff (`INSTA_UPDATE=always cargo test --test e2e verdicts`, then read the `git diff`).

use std::fmt::Write as _;
use std::path::Path;

use mock_graph::MockConfig;
use serde_json::Value;

use super::tenant::{Auth, json_of, run, start};

const AS_OF: &str = "2026-11-26";

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn render(report: &Value) -> String {
    let mut out = String::new();
    for f in report["findings"].as_array().into_iter().flatten() {
        let subject = match f["subject"]["id"].as_str() {
            Some(id) => format!("{} {id}", text(&f["subject"]["kind"])),
            None => text(&f["subject"]["kind"]).to_string(),
        };
        let _ = writeln!(
            out,
            "{} {} {} {}: {}",
            text(&f["check"]),
            text(&f["status"]),
            text(&f["severity"]),
            subject,
            text(&f["summary"])
        );
        for e in f["evidence"].as_array().into_iter().flatten() {
            let _ = writeln!(out, "  - {} | {}", text(&e["source"]), text(&e["detail"]));
        }
    }
    out
}

fn record(path: &Path) {
    if !path.join("organization.json").is_file() {
        return;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mock = start(MockConfig::dir(path));
    let (code, out, err) = run(
        &mock,
        Auth::Delegated("cli"),
        &[
            "check",
            "--all-users",
            "--as-of",
            AS_OF,
            "-f",
            "jsonl",
            "--fail-on",
            "never",
        ],
    );
    assert_eq!(code, 0, "{name}: check --all-users exit {code}\n{err}");
    let report = json_of(&out, &err);
    insta::assert_snapshot!(format!("tenant_{name}"), render(&report));
}

#[test]
fn fixture_tenants() {
    insta::glob!("../../mocks/tenants", "*", record);
}
