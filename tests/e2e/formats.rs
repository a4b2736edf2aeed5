//! `--format html`, `junit` and `sarif` on the demo tenant (audit and check against the mock
//! contoso), a fleet (`diagnose -d mocks/devices` with the contoso snapshot) and a run over
//! many users (`check --all-users --snapshot`), each read back as its consumers read it: the
//! HTML with html5ever (through `scraper`), the JUnit XML with `junit-parser` (the parser of
//! JUnit reports used by CI result tooling), the SARIF validated against the OASIS 2.1.0 JSON
//! schema (`tests/fixtures/sarif/`, with `jsonschema`, formats included). Every figure is
//! compared with the JSON output of the same run: the renderers decide nothing.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use scraper::{ElementRef, Html, Selector};
use serde_json::Value;

use super::common::isolated;
use super::diagnose::copy_sample;
use super::tenant::{Auth, fixture, json_of, run};

mod junit_xsd;
mod redaction;

const AS_OF: &str = "2026-11-26";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn snapshot() -> PathBuf {
    root().join("tests/fixtures/correlate/contoso-snapshot.json")
}

/// enroll-doctor with ARGS (offline inputs): exit code, stdout, stderr.
fn offline(args: &[&str]) -> (i32, String, String) {
    let out = isolated(&root())
        .args(args)
        .args(["--as-of", AS_OF])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap_or_else(|e| panic!("cannot run enroll-doctor: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The runs every format is tested on, as argument lists without `-f`.
fn fleet_args() -> Vec<String> {
    let snap = snapshot();
    vec![
        "diagnose".into(),
        "-d".into(),
        "mocks/devices".into(),
        "--snapshot".into(),
        snap.display().to_string(),
    ]
}

fn users_args() -> Vec<String> {
    vec![
        "check".into(),
        "--all-users".into(),
        "--snapshot".into(),
        snapshot().display().to_string(),
    ]
}

fn device_args() -> Vec<String> {
    vec![
        "diagnose".into(),
        "-d".into(),
        "mocks/devices/failed-8018002b".into(),
    ]
}

fn with_format(args: &[String], format: &str) -> (i32, String, String) {
    let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
    a.extend(["-f", format]);
    offline(&a)
}

/// (subject as shown, check, status) of every finding of a JSON report (`report@1` or `@2`).
fn json_findings(doc: &Value) -> Vec<(String, String, String)> {
    doc["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    let s = &f["subject"];
                    let subject = match s["kind"].as_str().unwrap_or_default() {
                        "tenant" => "tenant".to_string(),
                        kind => format!("{kind} {}", s["id"].as_str().unwrap_or_default()),
                    };
                    (
                        subject,
                        f["check"].as_str().unwrap_or_default().to_string(),
                        f["status"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn counts(findings: &[(String, String, String)]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for (_, _, st) in findings {
        *m.entry(st.clone()).or_insert(0) += 1;
    }
    m
}

fn json_run(args: &[String]) -> Value {
    let (_, out, err) = with_format(args, "json");
    json_of(&out, &err)
}

// ---- HTML ---------------------------------------------------------------------------------

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap_or_else(|e| panic!("selector {s}: {e}"))
}

fn text_of(e: ElementRef<'_>) -> String {
    e.text().collect::<String>()
}

/// The page loads nothing from anywhere: a strict policy, no element that fetches, one inline
/// script and style sheet, no event handler attribute, and every link either an anchor of the
/// page or one of the checks' documentation links.
fn assert_self_contained(html: &str) -> Html {
    let doc = Html::parse_document(html);
    let csp: Vec<String> = doc
        .select(&sel("meta[http-equiv=\"Content-Security-Policy\"]"))
        .filter_map(|m| m.value().attr("content").map(str::to_string))
        .collect();
    assert_eq!(csp.len(), 1, "one policy: {csp:?}");
    let csp = &csp[0];
    assert!(csp.starts_with("default-src 'none';"), "{csp}");
    for forbidden in ["unsafe-inline", "unsafe-eval", "http", "*", "data:"] {
        assert!(!csp.contains(forbidden), "{forbidden} in {csp}");
    }
    assert!(csp.contains("img-src 'none'") && csp.contains("connect-src 'none'"));
    for tag in [
        "link",
        "img",
        "iframe",
        "frame",
        "object",
        "embed",
        "base",
        "audio",
        "video",
        "source",
        "picture",
        "svg",
        "math",
        "form[action]",
        "input[type=image]",
        "[src]",
        "[srcset]",
        "[style]",
        "[background]",
        "[poster]",
    ] {
        let n = doc.select(&sel(tag)).count();
        assert_eq!(n, 0, "{n} × {tag}");
    }
    let scripts: Vec<ElementRef<'_>> = doc.select(&sel("script")).collect();
    assert_eq!(scripts.len(), 1, "one inline script");
    let styles: Vec<String> = doc.select(&sel("style")).map(text_of).collect();
    assert_eq!(styles.len(), 1, "one inline style sheet");
    assert!(!styles[0].contains("url(") && !styles[0].contains("@import"));

    let docs: HashSet<&str> = enroll_doctor::checks::registry::all()
        .iter()
        .flat_map(|c| c.references.iter().copied())
        .collect();
    let all_ids: Vec<&str> = doc
        .select(&sel("[id]"))
        .filter_map(|e| e.value().attr("id"))
        .collect();
    let ids: HashSet<&str> = all_ids.iter().copied().collect();
    // Every anchor names one element: a subject's section id is unique on the page.
    assert_eq!(ids.len(), all_ids.len(), "an id is given twice");
    for e in doc.select(&sel("*")) {
        for (name, value) in e.value().attrs() {
            assert!(
                !name.starts_with("on"),
                "event handler {name}={value} on <{}>",
                e.value().name()
            );
            if name == "href" {
                match value.strip_prefix('#') {
                    Some(anchor) => assert!(ids.contains(anchor), "dangling #{anchor}"),
                    None => assert!(docs.contains(value), "external href {value}"),
                }
            } else if name != "content" {
                assert!(
                    !value.contains("://"),
                    "address in {name}={value} on <{}>",
                    e.value().name()
                );
            }
        }
    }
    doc
}

/// (subject heading text, data-status, data-check) of every finding row.
fn html_rows(doc: &Html) -> Vec<(String, String)> {
    doc.select(&sel("tr.finding"))
        .map(|r| {
            (
                r.value().attr("data-check").unwrap_or_default().to_string(),
                r.value()
                    .attr("data-status")
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn html_of_one_device_is_self_contained_and_shows_its_verdict_and_every_finding() {
    let (code, html, err) = with_format(&device_args(), "html");
    assert_eq!(code, 1, "{err}");
    let doc = assert_self_contained(&html);
    let json = json_run(&device_args());
    let verdict = json["diagnoses"][0]["verdict"].as_str().unwrap_or_default();
    assert_eq!(verdict, "failed");
    let badges: Vec<String> = doc.select(&sel(".diagnosis .v")).map(text_of).collect();
    assert_eq!(badges, [verdict]);
    // The summary comes first, before any finding.
    let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("no {s}"));
    assert!(at("id=\"summary\"") < at("class=\"finding\""));
    // Every finding, with its status, in order.
    let expected: Vec<(String, String)> = json_findings(&json)
        .into_iter()
        .map(|(_, c, s)| (c, s))
        .collect();
    assert_eq!(html_rows(&doc), expected);
    // The cause chain, each cause with its title.
    let causes: Vec<String> = doc.select(&sel("ol.causes li")).map(text_of).collect();
    let chain = json["diagnoses"][0]["causes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(causes.len(), chain.len());
    for (li, id) in causes.iter().zip(&chain) {
        assert!(li.starts_with(id.as_str().unwrap_or("?")), "{li}");
    }
    // Each failing finding folds its evidence, fix and the check's explain text.
    let failing = doc
        .select(&sel("tr.finding[data-status=fail]"))
        .next()
        .unwrap_or_else(|| panic!("no failing row"));
    let details = text_of(failing);
    for part in [
        "Evidence",
        "Fix",
        "What it checks",
        "Why it matters",
        "How to fix",
    ] {
        assert!(details.contains(part), "{part} missing in {details}");
    }
    assert!(
        failing
            .select(&sel("details details.explain"))
            .next()
            .is_some()
    );
}

#[test]
fn html_of_a_fleet_leads_with_the_summary_and_shows_every_device_verdict_and_chain() {
    let args = fleet_args();
    let (code, html, err) = with_format(&args, "html");
    assert_eq!(code, 1, "{err}");
    let doc = assert_self_contained(&html);
    let json = json_run(&args);
    let summary = &json["summary"];
    let headline = text_of(
        doc.select(&sel("#summary .headline"))
            .next()
            .unwrap_or_else(|| panic!("no headline")),
    );
    let devices = summary["subjects"].as_u64().unwrap_or_default();
    assert!(
        headline.starts_with(&format!("Fleet: {devices} devices: ")),
        "{headline}"
    );
    for (verdict, n) in summary["verdicts"].as_object().cloned().unwrap_or_default() {
        assert!(headline.contains(&format!("{n} {verdict}")), "{headline}");
    }
    // The first cause histogram: one row per (verdict, cause) the summary counts.
    let causes = summary["causes"].as_array().cloned().unwrap_or_default();
    let histogram = doc
        .select(&sel("#summary table"))
        .next()
        .unwrap_or_else(|| panic!("no histogram"));
    assert_eq!(histogram.select(&sel("tbody tr")).count(), causes.len());
    // Every device, with the verdict of its diagnosis and its cause chain.
    let sections: Vec<ElementRef<'_>> = doc
        .select(&sel("section.subject[data-kind=device]"))
        .collect();
    let diagnoses = json["diagnoses"].as_array().cloned().unwrap_or_default();
    assert_eq!(sections.len(), diagnoses.len());
    for (s, d) in sections.iter().zip(&diagnoses) {
        let heading = text_of(s.select(&sel("h3")).next().unwrap_or(*s));
        assert!(
            heading.contains(d["device"].as_str().unwrap_or("?")),
            "{heading}"
        );
        assert_eq!(s.value().attr("data-state"), d["verdict"].as_str());
        let chain: Vec<String> = s.select(&sel("ol.causes li a")).map(text_of).collect();
        let want: Vec<String> = d["causes"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(chain, want);
    }
    // A user's section links to the devices they enroll on.
    for d in &diagnoses {
        let Some(user) = d["user"].as_str() else {
            continue;
        };
        let section = doc
            .select(&sel("section.subject[data-kind=user]"))
            .find(|s| text_of(s.select(&sel("h3")).next().unwrap_or(*s)).contains(user))
            .unwrap_or_else(|| panic!("no section for {user}"));
        let on: Vec<String> = section.select(&sel("p a")).map(text_of).collect();
        assert!(
            on.iter().any(|x| Some(x.as_str()) == d["device"].as_str()),
            "{user}: {on:?}"
        );
    }
    // The summary, then the subjects, then the check reference; every finding is there.
    let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("no {s}"));
    assert!(
        at("id=\"summary\"") < at("class=\"subject\"")
            && at("class=\"subject\"") < at("id=\"checks\"")
    );
    let rows = html_rows(&doc);
    let total: usize = counts(&json_findings(&json)).values().sum();
    assert_eq!(rows.len(), total);
    // Each finding links to its check's explain text, which is there once.
    for id in rows.iter().map(|(c, _)| c).collect::<HashSet<_>>() {
        let n = doc.select(&sel(&format!("details#check-{id}"))).count();
        assert_eq!(n, 1, "{id}");
    }
}

#[test]
fn html_of_many_users_has_the_summary_figures_and_the_not_ready_list() {
    let args = users_args();
    let (code, html, err) = with_format(&args, "html");
    assert_eq!(code, 1, "{err}");
    let doc = assert_self_contained(&html);
    let json = json_run(&args);
    let s = &json["summary"];
    let headline = text_of(
        doc.select(&sel("#summary .headline"))
            .next()
            .unwrap_or_else(|| panic!("no headline")),
    );
    assert!(
        headline.starts_with(&format!(
            "Readiness: {} users: {} ready, {} not ready",
            s["subjects"], s["ready"], s["not_ready"]
        )),
        "{headline}"
    );
    let listed = doc.select(&sel("#not-ready tbody tr")).count();
    let not_ready = s["not_ready"].as_u64().unwrap_or_default() as usize;
    assert!(listed > 0 && listed <= not_ready, "{listed} of {not_ready}");
    let blocking = s["blocking"].as_array().cloned().unwrap_or_default();
    for b in &blocking {
        let id = b["check"].as_str().unwrap_or_default();
        assert!(
            doc.select(&sel(&format!("#summary a[href=\"#check-{id}\"]")))
                .next()
                .is_some(),
            "{id} not in the summary"
        );
    }
    // Every user's section carries the state the summary counted.
    let states: Vec<&str> = doc
        .select(&sel("section.subject"))
        .filter_map(|s| s.value().attr("data-state"))
        .collect();
    let ready = states.iter().filter(|s| **s == "ready").count();
    // The tenant is a section too.
    assert_eq!(
        ready,
        s["ready"].as_u64().unwrap_or_default() as usize
            + usize::from(s["tenant"]["verdict"] == "ready")
    );
    assert_eq!(
        html_rows(&doc).len(),
        counts(&json_findings(&json)).values().sum::<usize>()
    );
}

#[test]
fn html_junit_and_sarif_of_the_demo_tenant() {
    let mock = fixture("contoso");
    for (command, extra) in [
        ("audit", vec![]),
        (
            "check",
            vec![
                "--user",
                "jdoe@contoso.com",
                "--user",
                "kwong@contoso.com",
                "--user",
                "mgarcia@contoso.com",
            ],
        ),
    ] {
        let mut base = vec![command, "--as-of", AS_OF, "--fail-on", "never"];
        base.extend(extra.iter().copied());
        let with = |f: &str| {
            let mut a = base.clone();
            a.extend(["-f", f]);
            run(&mock, Auth::Delegated("cli"), &a)
        };
        let (_, json, err) = with("json");
        let json = json_of(&json, &err);
        let findings = json_findings(&json);

        let (code, html, err) = with("html");
        assert_eq!(code, 0, "{command}: {err}");
        let doc = assert_self_contained(&html);
        let rows = html_rows(&doc);
        let want: Vec<(String, String)> = findings
            .iter()
            .map(|(_, c, s)| (c.clone(), s.clone()))
            .collect();
        assert_eq!(rows, want, "{command}");

        let (code, xml, err) = with("junit");
        assert_eq!(code, 0, "{command}: {err}");
        assert_junit_matches(&xml, &findings);

        let (code, sarif, err) = with("sarif");
        assert_eq!(code, 0, "{command}: {err}");
        let log = assert_valid_sarif(&sarif, &findings);
        // Findings point at the Graph requests they read (the audit of this tenant passes
        // every check, so it has no result; mgarcia is outside the MDM user scope).
        let resources = log["runs"][0]["results"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|r| r["locations"].as_array().cloned().unwrap_or_default())
            .filter(|l| l["logicalLocations"][0]["kind"] == "resource")
            .count();
        if command == "check" {
            assert!(resources > 0, "{sarif:.3000}");
        }
    }
}

// ---- JUnit --------------------------------------------------------------------------------

/// The document parses as JUnit, its counts are the run's and each finding is one test case
/// with the element its status maps to.
fn assert_junit_matches(xml: &str, findings: &[(String, String, String)]) {
    junit_xsd::assert_valid(xml);
    let suites = junit_parser::from_reader(std::io::Cursor::new(xml.as_bytes()))
        .unwrap_or_else(|e| panic!("not JUnit: {e}\n{xml:.2000}"));
    let c = counts(findings);
    let n = |k: &str| c.get(k).copied().unwrap_or(0) as u64;
    assert_eq!(suites.tests, findings.len() as u64);
    assert_eq!(suites.failures, n("fail"));
    assert_eq!(suites.errors, n("error"));
    // The root has no `skipped` in the JUnit XSD: each suite counts its own.
    let skipped: u64 = suites.suites.iter().map(|s| s.skipped).sum();
    assert_eq!(skipped, n("skip"));
    let mut cases = Vec::new();
    for s in &suites.suites {
        assert_eq!(s.tests, s.cases.len() as u64, "{}", s.name);
        let f = s.cases.iter().filter(|c| c.status.is_failure()).count() as u64;
        let e = s.cases.iter().filter(|c| c.status.is_error()).count() as u64;
        let k = s.cases.iter().filter(|c| c.status.is_skipped()).count() as u64;
        assert_eq!((s.failures, s.errors, s.skipped), (f, e, k), "{}", s.name);
        for case in &s.cases {
            assert_eq!(case.classname.as_deref(), Some(s.name.as_str()));
            let status = match &case.status {
                junit_parser::TestStatus::Success => {
                    if case
                        .system_out
                        .as_deref()
                        .is_some_and(|o| o.starts_with("WARN: "))
                    {
                        "warn"
                    } else {
                        "pass"
                    }
                }
                junit_parser::TestStatus::Failure(_) => "fail",
                junit_parser::TestStatus::Error(_) => "error",
                junit_parser::TestStatus::Skipped(sk) => {
                    assert!(!sk.message.is_empty(), "a skip says why");
                    "skip"
                }
            };
            let check = case
                .original_name
                .split(' ')
                .next()
                .unwrap_or_default()
                .to_string();
            assert!(
                case.original_name.len() > check.len() + 1,
                "name has the title: {}",
                case.original_name
            );
            cases.push((s.name.clone(), check, status.to_string()));
        }
    }
    assert_eq!(cases, findings);
}

#[test]
fn junit_of_a_device_a_fleet_and_many_users_matches_the_json() {
    for args in [device_args(), fleet_args(), users_args()] {
        let (code, xml, err) = with_format(&args, "junit");
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "));
        let json = json_run(&args);
        assert_junit_matches(&xml, &json_findings(&json));
        // A device's suite carries its verdict.
        if args[0] == "diagnose" {
            let suites = junit_parser::from_reader(std::io::Cursor::new(xml.as_bytes()))
                .unwrap_or_else(|e| panic!("{e}"));
            let verdicts: Vec<String> = suites
                .suites
                .iter()
                .filter(|s| s.name.starts_with("device "))
                .filter_map(|s| s.properties.hashmap.get("verdict").cloned())
                .collect();
            let want: Vec<String> = json["diagnoses"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d["verdict"].as_str().map(str::to_string))
                .collect();
            assert_eq!(verdicts, want);
        }
    }
}

// ---- SARIF --------------------------------------------------------------------------------

fn sarif_schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("tests/fixtures/sarif/sarif-schema-2.1.0.json"))
        .unwrap_or_else(|e| panic!("schema: {e}"));
    // The schema's `language` pattern holds a lone `]`, a literal in ECMA-262 (the regular
    // expressions JSON Schema names) but an error for Rust's regex, so `jsonschema` refuses the
    // schema: that one character is escaped here, which keeps its ECMA-262 meaning. The file
    // stays as published; every format (`uri`, `uri-reference`, `date-time`) is checked.
    const LONE: &str = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    const ESCAPED: &str = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$""#;
    assert_eq!(
        text.matches(LONE).count(),
        2,
        "the published schema changed"
    );
    let text = text.replace(LONE, ESCAPED);
    let schema: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("schema: {e}"));
    jsonschema::draft7::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("schema does not compile: {e}"))
}

/// Valid against the 2.1.0 schema; rules from the registry; one result per fail, warn, skip
/// and error, each pointing at its rule.
fn assert_valid_sarif(text: &str, findings: &[(String, String, String)]) -> Value {
    let log: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON: {e}"));
    let errors: Vec<String> = sarif_schema()
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(10)
        .collect();
    assert!(errors.is_empty(), "not SARIF 2.1.0:\n{}", errors.join("\n"));
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(
        log["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    let runs = log["runs"].as_array().cloned().unwrap_or_default();
    assert_eq!(runs.len(), 1);
    let rules = runs[0]["tool"]["driver"]["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for r in &rules {
        let id = r["id"].as_str().unwrap_or_default();
        let meta = enroll_doctor::checks::registry::get(id)
            .unwrap_or_else(|| panic!("rule {id} is no check"));
        assert_eq!(r["shortDescription"]["text"], meta.title);
        assert_eq!(r["helpUri"], meta.references[0]);
        assert!(
            r["help"]["markdown"]
                .as_str()
                .is_some_and(|m| m.contains(meta.how_to_fix))
        );
    }
    let results = runs[0]["results"].as_array().cloned().unwrap_or_default();
    let want: Vec<(String, String)> = findings
        .iter()
        .filter(|(_, _, s)| s != "pass")
        .map(|(_, c, s)| (c.clone(), s.clone()))
        .collect();
    let got: Vec<(String, String)> = results
        .iter()
        .map(|r| {
            let i = r["ruleIndex"].as_u64().unwrap_or(u64::MAX) as usize;
            assert_eq!(rules.get(i).map(|x| &x["id"]), Some(&r["ruleId"]));
            let level = r["level"].as_str().unwrap_or_default();
            let kind = r["kind"].as_str().unwrap_or_default();
            let status = r["properties"]["status"].as_str().unwrap_or_default();
            let expected = match status {
                "fail" => ("fail", "error"),
                "warn" => ("fail", "warning"),
                "skip" => ("notApplicable", "none"),
                _ => ("open", "none"),
            };
            assert_eq!((kind, level), expected);
            (
                r["ruleId"].as_str().unwrap_or_default().to_string(),
                status.to_string(),
            )
        })
        .collect();
    assert_eq!(got, want);
    // One fingerprint per check and subject: no two results share one.
    let prints: HashSet<&str> = results
        .iter()
        .filter_map(|r| r["partialFingerprints"]["enrollDoctorFinding/v1"].as_str())
        .collect();
    assert_eq!(prints.len(), results.len());
    log
}

/// The lines of a device file: UTF-8, or UTF-16 LE with its BOM (as `reg export` writes).
fn text_lines(bytes: &[u8]) -> u64 {
    let text = match bytes.strip_prefix(b"\xff\xfe") {
        Some(utf16) => {
            let units: Vec<u16> = utf16
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        None => String::from_utf8_lossy(bytes).into_owned(),
    };
    text.lines().count() as u64
}

#[test]
fn sarif_of_a_device_a_fleet_and_many_users_is_valid_with_file_locations() {
    for args in [device_args(), fleet_args(), users_args()] {
        let (code, text, err) = with_format(&args, "sarif");
        assert_eq!(code, 1, "{args:?}: {err}");
        let json = json_run(&args);
        let log = assert_valid_sarif(&text, &json_findings(&json));
        if args[0] != "diagnose" {
            continue;
        }
        // Device evidence is a file with a line, under the device's folder in a fleet.
        let files: Vec<(String, u64)> = log["runs"][0]["results"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|r| r["locations"].as_array().cloned().unwrap_or_default())
            .filter_map(|l| {
                let p = &l["physicalLocation"];
                Some((
                    p["artifactLocation"]["uri"].as_str()?.to_string(),
                    p["region"]["startLine"].as_u64()?,
                ))
            })
            .collect();
        assert!(!files.is_empty(), "{text:.3000}");
        for (uri, line) in &files {
            assert!(line >= &1);
            let path = root().join(uri);
            let path = if args[2] == "mocks/devices" {
                path
            } else {
                root().join(&args[2]).join(uri)
            };
            let bytes =
                std::fs::read(&path).unwrap_or_else(|e| panic!("{uri} ({}): {e}", path.display()));
            let lines = text_lines(&bytes);
            assert!(*line <= lines, "{uri}:{line} past its {lines} lines");
        }
    }
}

// ---- Hostile values and redaction ---------------------------------------------------------

const HOSTILE: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>&amp;\"'\u{1b}[31m";

/// A device whose host name is markup.
fn hostile_device(dir: &Path) -> PathBuf {
    let device = copy_sample("failed-8018002b", dir);
    let ds = device.join("dsregcmd.txt");
    let text = std::fs::read_to_string(&ds).unwrap_or_else(|e| panic!("{e}"));
    let text = text.replace("PC0077.corp.contoso.com", &format!("PC{HOSTILE}"));
    std::fs::write(&ds, text).unwrap_or_else(|e| panic!("{e}"));
    device
}

#[test]
fn a_device_named_with_markup_is_shown_as_text_in_every_format() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let device = hostile_device(dir.path());
    let other = copy_sample("hybrid-enrolled", dir.path());
    for devices in [vec![&device], vec![&device, &other]] {
        let mut args: Vec<String> = vec!["diagnose".into()];
        for d in &devices {
            args.extend(["-d".to_string(), d.display().to_string()]);
        }
        let (_, html, err) = with_format(&args, "html");
        assert!(html.ends_with("</html>\n"), "{err}");
        let doc = assert_self_contained(&html);
        assert_eq!(doc.select(&sel("script")).count(), 1);
        let shown = format!("PC{}", HOSTILE.replace('\u{1b}', "\\u{1b}"));
        let body = text_of(
            doc.select(&sel("body"))
                .next()
                .unwrap_or_else(|| panic!("no body")),
        );
        assert!(body.contains(&shown), "the name is not shown as text");
        assert!(!html.contains("<script>alert"), "raw markup in the page");
        assert!(!html.contains('\u{1b}'));

        let (_, xml, _) = with_format(&args, "junit");
        let suites = junit_parser::from_reader(std::io::Cursor::new(xml.as_bytes()))
            .unwrap_or_else(|e| panic!("hostile name breaks the XML: {e}"));
        assert!(
            suites
                .suites
                .iter()
                .any(|s| s.name == format!("device {shown}"))
        );

        let (_, sarif, _) = with_format(&args, "sarif");
        let json = json_run(&args);
        let log = assert_valid_sarif(&sarif, &json_findings(&json));
        // SARIF keeps the exact value (a JSON string).
        let text = log.to_string();
        assert!(text.contains(&serde_json::to_string(HOSTILE).unwrap_or_default()[1..20]));
    }
}

#[test]
fn html_of_a_redacted_snapshot_names_no_real_user_or_device() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let snap = dir.path().join("red.json");
    let key = dir.path().join("key.hex");
    let mock = fixture("contoso");
    let (_, _, err) = run(
        &mock,
        Auth::Delegated("cli"),
        &[
            "check",
            "--all-users",
            "-f",
            "json",
            "--fail-on",
            "never",
            "--save-snapshot",
            snap.to_str().unwrap_or_default(),
            "--redact",
            "--redact-key-file",
            key.to_str().unwrap_or_default(),
        ],
    );
    assert!(snap.exists(), "{err}");
    let snap_arg = snap.display().to_string();
    let key_arg = key.display().to_string();
    for args in [
        vec!["check", "--all-users", "--snapshot", &snap_arg],
        vec![
            "diagnose",
            "-d",
            "mocks/devices",
            "--snapshot",
            &snap_arg,
            "--redact-key-file",
            &key_arg,
        ],
    ] {
        let args: Vec<String> = args.into_iter().map(str::to_string).collect();
        for format in ["html", "junit", "sarif"] {
            let (code, out, err) = with_format(&args, format);
            assert!(code == 0 || code == 1, "{format}: {err}");
            // The explain text of a proxy check names an example proxy (the same in every
            // report); every other mention of the tenant's domain would be a leak.
            let out = out.replace("proxy.contoso.com", "");
            for secret in ["jdoe", "kwong", "contoso.com", "PC0042", "PC0077"] {
                let at = out.find(secret).map(|i| {
                    let lo = out.floor_char_boundary(i.saturating_sub(200));
                    let hi = out.ceil_char_boundary((i + 100).min(out.len()));
                    out[lo..hi].to_string()
                });
                assert!(at.is_none(), "{format} of {args:?} names {secret}: {at:?}");
            }
        }
        let (_, html, _) = with_format(&args, "html");
        let doc = assert_self_contained(&html);
        assert!(doc.select(&sel("section.subject")).count() > 1);
    }
}

// ---- Snapshots ----------------------------------------------------------------------------

#[test]
fn junit_and_sarif_results_of_one_device_snapshot() {
    let (_, xml, err) = with_format(&device_args(), "junit");
    assert!(xml.ends_with("</testsuites>\n"), "{err}");
    insta::assert_snapshot!("junit_failed_8018002b", xml);
    let (_, sarif, err) = with_format(&device_args(), "sarif");
    let log: Value = serde_json::from_str(&sarif).unwrap_or_else(|e| panic!("{e}: {err}"));
    // The rules are the registry's text (tested above); the results are this device's.
    let results =
        serde_json::to_string_pretty(&log["runs"][0]["results"]).unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!("sarif_results_failed_8018002b", results);
}
