//! Colour of the statuses in table output, rule by rule: `--color always` colours even a
//! pipe, a pipe is plain by default, `NO_COLOR` wins over `auto` (and over `CLICOLOR_FORCE`),
//! `CLICOLOR_FORCE` colours a pipe, `--color never` wins over it, and only tables get colour.
//! (Whether `auto` colours a terminal is decided by `report::colour::enabled`, tested there:
//! these runs write to a pipe.)

use std::path::Path;

use super::common::isolated;

const SNAPSHOT: &str = "tests/fixtures/correlate/contoso-snapshot.json";
const RED_FAIL: &str = "\u{1b}[31mFAIL\u{1b}[0m";
const GREEN_PASS: &str = "\u{1b}[32mPASS\u{1b}[0m";

/// `check --snapshot …` with ARGS (`--all-users` for FAIL rows, one passing user for PASS rows) and the environment ENV;
/// the colour variables of the test's own environment are removed first.
fn check(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = isolated(Path::new(env!("CARGO_MANIFEST_DIR")));
    for k in ["NO_COLOR", "CLICOLOR_FORCE", "CLICOLOR", "TERM"] {
        cmd.env_remove(k);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .env("COLUMNS", "80")
        .args(["check", "--snapshot", SNAPSHOT])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run enroll-doctor: {e}"));
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn has_escape(s: &str) -> bool {
    s.contains('\u{1b}')
}

#[test]
fn color_always_colours_the_statuses_even_in_a_pipe() {
    let out = check(&["--all-users", "--color", "always", "--details"], &[]);
    assert!(out.contains(RED_FAIL), "{out}");
    let one = check(&["--user", "jdoe@contoso.com", "--color", "always"], &[]);
    assert!(one.contains(&format!("│ {GREEN_PASS}   │")), "{one}");
    // The layout is the one without colour: same lines, same widths.
    let plain = check(&["--all-users", "--color", "never", "--details"], &[]);
    let stripped = out
        .replace("\u{1b}[31m", "")
        .replace("\u{1b}[32m", "")
        .replace("\u{1b}[33m", "")
        .replace("\u{1b}[2m", "")
        .replace("\u{1b}[0m", "");
    assert_eq!(stripped, plain);
}

#[test]
fn a_pipe_gets_no_colour_by_default() {
    let out = check(&["--all-users"], &[]);
    assert!(out.contains("FAIL"), "{out}");
    assert!(!has_escape(&out), "{out}");
}

#[test]
fn no_color_wins_over_auto_and_over_clicolor_force() {
    let out = check(&["--all-users"], &[("NO_COLOR", "1")]);
    assert!(!has_escape(&out), "{out}");
    let out = check(
        &["--all-users"],
        &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")],
    );
    assert!(!has_escape(&out), "{out}");
    // An explicit --color always is the user's choice over the environment's.
    let out = check(&["--all-users", "--color", "always"], &[("NO_COLOR", "1")]);
    assert!(out.contains(RED_FAIL), "{out}");
}

#[test]
fn clicolor_force_colours_a_pipe_and_color_never_wins_over_it() {
    let out = check(&["--all-users"], &[("CLICOLOR_FORCE", "1")]);
    assert!(out.contains(RED_FAIL), "{out}");
    let out = check(
        &["--all-users", "--color", "never"],
        &[("CLICOLOR_FORCE", "1")],
    );
    assert!(!has_escape(&out), "{out}");
    let out = check(&["--all-users"], &[("CLICOLOR_FORCE", "0")]);
    assert!(!has_escape(&out), "{out}");
}

#[test]
fn only_tables_are_coloured() {
    for format in ["json", "markdown", "csv", "jsonl"] {
        let out = check(
            &["--all-users", "--color", "always", "--format", format],
            &[],
        );
        assert!(!has_escape(&out), "{format}: {out}");
    }
}

#[test]
fn diff_tables_colour_the_statuses_of_the_checks_that_changed() {
    let out = isolated(Path::new(env!("CARGO_MANIFEST_DIR")))
        .env("COLUMNS", "80")
        .args([
            "--color",
            "always",
            "diff",
            "tests/fixtures/diff/contoso-old.json",
            "tests/fixtures/diff/contoso-new.json",
        ])
        .output()
        .unwrap_or_else(|e| panic!("cannot run enroll-doctor: {e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("USR003 {GREEN_PASS} → {RED_FAIL}")),
        "{text}"
    );
}

/// ARGS run on a terminal: `script` (util-linux, in Debian's essential bsdutils) gives the
/// binary a pseudo-terminal as stdout; what it wrote comes back through the pipe.
fn on_a_terminal(env: &str, args: &str) -> String {
    let bin = assert_cmd::cargo::cargo_bin("enroll-doctor");
    let line = format!(
        "env -u NO_COLOR -u CLICOLOR_FORCE -u CLICOLOR TERM=xterm COLUMNS=80 {env} '{}' {args}",
        bin.display()
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("`script` (util-linux) runs the binary on a terminal: {e}"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn auto_colours_a_terminal_unless_no_color_is_set() {
    let args = format!("check --snapshot {SNAPSHOT} --user jdoe@contoso.com");
    let tty = on_a_terminal("", &args);
    assert!(tty.contains("TEN001"), "the run did not happen: {tty}");
    assert!(tty.contains(GREEN_PASS), "{tty}");
    let no_color = on_a_terminal("NO_COLOR=1", &args);
    assert!(no_color.contains("TEN001"), "{no_color}");
    assert!(!has_escape(&no_color), "{no_color}");
    let json = on_a_terminal("", &format!("{args} --format json"));
    assert!(json.contains("TEN001") && !has_escape(&json), "{json}");
}
