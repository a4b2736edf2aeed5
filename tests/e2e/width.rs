//! At 80 columns no line a person reads is wider than 80 columns, in any subcommand's typical
//! output (stdout and stderr). Exempt: a line that is one unbreakable address (a link broken in
//! two would not open), and outputs that are code or data rather than text for people (the
//! collector script, completion scripts, the man page's roff, JSON, CSV, Markdown tables).

use unicode_width::UnicodeWidthStr;

use super::common::isolated;

const SNAPSHOT: &str = "tests/fixtures/correlate/contoso-snapshot.json";

fn too_wide(text: &str, width: usize) -> Vec<String> {
    text.lines()
        .filter(|l| UnicodeWidthStr::width(*l) > width)
        .filter(|l| {
            let t = l.trim().trim_start_matches("- ");
            !t.starts_with("https://") || t.contains(' ')
        })
        .map(str::to_string)
        .collect()
}

fn at_80(args: &[&str]) -> (String, String) {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = isolated(std::path::Path::new(root))
        .env("COLUMNS", "80")
        .args(args)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0..=1)),
        "{args:?} ended with {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn every_subcommand_fits_80_columns() {
    let runs: &[&[&str]] = &[
        &["demo"],
        &["explain", "0x8018002B"],
        &["explain", "0x81039023"],
        &["explain", "DEV007"],
        &["explain", "TEN009"],
        &["explain", "--all"],
        &["explain", "AADSTS50076"],
        &["diagnose", "-d", "mocks/devices/failed-8018002b"],
        &["diagnose", "-d", "mocks/devices"],
        &[
            "diagnose",
            "-d",
            "mocks/devices/hybrid-enrolled",
            "--snapshot",
            SNAPSHOT,
        ],
        &["audit", "--snapshot", SNAPSHOT],
        &["check", "--snapshot", SNAPSHOT, "--all-users"],
        &[
            "check",
            "--snapshot",
            SNAPSHOT,
            "--user",
            "jdoe@contoso.com",
        ],
        &["auth", "status", "--cached"],
        &[
            "diff",
            "tests/fixtures/diff/contoso-old.json",
            "tests/fixtures/diff/contoso-new.json",
        ],
        &[
            "diff",
            "tests/fixtures/diff/contoso-new.json",
            "tests/fixtures/diff/contoso-old.json",
        ],
        &["--help"],
        &["diagnose", "--help"],
        &["explain", "--help"],
        &["collector", "--help"],
        &["audit", "--help"],
        &["check", "--help"],
        &["auth", "--help"],
        &["auth", "status", "--help"],
        &["demo", "--help"],
        &["completions", "--help"],
        &["man", "--help"],
        &["diff", "--help"],
    ];
    let mut failures = Vec::new();
    for args in runs {
        let (out, err) = at_80(args);
        assert!(
            !out.trim().is_empty() || !err.trim().is_empty(),
            "{args:?}: no output"
        );
        for l in too_wide(&out, 80).into_iter().chain(too_wide(&err, 80)) {
            failures.push(format!("{}: {l}", args.join(" ")));
        }
    }
    assert!(
        failures.is_empty(),
        "lines over 80 columns:\n{}",
        failures.join("\n")
    );
}

/// HTML, JUnit and SARIF are files, not lines for a terminal; what the run says on stderr
/// beside them fits 80 columns like every other output.
#[test]
fn file_formats_say_nothing_wider_than_80_columns_on_stderr() {
    let mut failures = Vec::new();
    for format in ["html", "junit", "sarif"] {
        for args in [
            &["diagnose", "-d", "mocks/devices", "--snapshot", SNAPSHOT][..],
            &["check", "--snapshot", SNAPSHOT, "--all-users"],
            &["audit", "--snapshot", SNAPSHOT],
        ] {
            let mut args = args.to_vec();
            args.extend(["-f", format]);
            let (out, err) = at_80(&args);
            assert!(!out.trim().is_empty(), "{args:?}: no output");
            for l in too_wide(&err, 80) {
                failures.push(format!("{}: {l}", args.join(" ")));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "stderr lines over 80 columns:\n{}",
        failures.join("\n")
    );
}

#[test]
fn the_check_is_able_to_fail() {
    assert_eq!(too_wide(&"x".repeat(81), 80).len(), 1);
    assert_eq!(too_wide(&"東".repeat(41), 80).len(), 1);
    assert!(too_wide("  - https://learn.microsoft.com/a/very/long/path", 20).is_empty());
    assert_eq!(
        too_wide("see https://learn.microsoft.com/a/long/path now", 20).len(),
        1
    );
}
