//! docs/ci.md stays valid: every YAML block parses (a GitHub Actions workflow has `jobs`, an
//! Azure DevOps pipeline `steps`), and every `enroll-doctor` command line in it — in a script
//! of a YAML block (`run:`, `script:`, `inlineScript:`) or in a `sh` block — parses with the real clap
//! definition ([`Cli`]), split as a shell splits it, up to its redirection.
//!
//! Formats another branch adds (`--format html`, `junit`, `sarif`) are parsed as `json` while
//! [`ReportFormat`] does not have them yet; once it does, they are parsed as they are.

use clap::{Parser, ValueEnum};
use yaml_rust2::{Yaml, YamlLoader};

use crate::cli::{Cli, ReportFormat};

const DOC: &str = include_str!("../docs/ci.md");

/// Report formats the docs may name before this branch has them.
const PENDING_FORMATS: &[&str] = &["html", "junit", "sarif"];

/// The fenced blocks of DOC whose info string is one of LANGS.
fn blocks(doc: &str, langs: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut current, fence) {
            (Some(block), Some(_)) => {
                out.push(std::mem::take(block));
                current = None;
            }
            (Some(block), None) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, Some(info)) if langs.contains(&info.trim()) => current = Some(String::new()),
            // Another language's block: skipped to its closing fence.
            (None, Some(_)) => current = None,
            (None, None) => {}
        }
    }
    out
}

/// The keys whose values are shell scripts: GitHub's `run`, Azure DevOps' `script` and
/// `bash` steps and the `AzureCLI@2` task's `inlineScript`.
const SCRIPT_KEYS: &[&str] = &["run", "script", "bash", "inlineScript"];

/// The scripts in Y (values of [`SCRIPT_KEYS`] at any depth).
fn scripts(y: &Yaml, out: &mut Vec<String>) {
    match y {
        Yaml::Array(items) => items.iter().for_each(|i| scripts(i, out)),
        Yaml::Hash(map) => {
            for (k, v) in map {
                match (k.as_str(), v.as_str()) {
                    (Some(key), Some(script)) if SCRIPT_KEYS.contains(&key) => {
                        out.push(script.to_string())
                    }
                    _ => scripts(v, out),
                }
            }
        }
        _ => {}
    }
}

/// A script's logical lines: a line ending in `\` goes on with the next.
fn logical_lines(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = String::new();
    for l in script.lines() {
        match l.trim_end().strip_suffix('\\') {
            Some(head) => {
                line.push_str(head);
                line.push(' ');
            }
            None => {
                line.push_str(l);
                out.push(std::mem::take(&mut line));
            }
        }
    }
    if !line.trim().is_empty() {
        out.push(line);
    }
    out
}

/// Words after which a word starts a command.
const COMMAND_STARTS: &[&str] = &["then", "do", "else", "&&", "||", ";", "|"];

/// The argument lists of the `enroll-doctor` commands in LINE (without the program name): from
/// a word `enroll-doctor` where a command starts, to a redirection or the end of the command.
fn invocations(line: &str) -> Result<Vec<Vec<String>>, String> {
    let words = shlex::split(line).ok_or_else(|| format!("not shell words: {line}"))?;
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let starts = i == 0 || COMMAND_STARTS.contains(&words[i - 1].as_str());
        if !(starts && words[i] == "enroll-doctor") {
            i += 1;
            continue;
        }
        let mut args = Vec::new();
        i += 1;
        while i < words.len() {
            let w = &words[i];
            let ends = COMMAND_STARTS.contains(&w.as_str())
                || w.starts_with('>')
                || w.starts_with('<')
                || w.starts_with("2>");
            if ends {
                break;
            }
            args.push(w.trim_end_matches(';').to_string());
            if w.ends_with(';') {
                break;
            }
            i += 1;
        }
        out.push(args);
    }
    Ok(out)
}

/// ARGS with a pending format replaced by `json` while [`ReportFormat`] lacks it.
fn with_known_formats(args: &[String]) -> Vec<String> {
    let mut out = args.to_vec();
    for i in 1..out.len() {
        let flag = out[i - 1].as_str();
        if (flag == "--format" || flag == "-f")
            && PENDING_FORMATS.contains(&out[i].as_str())
            && ReportFormat::from_str(&out[i], false).is_err()
        {
            out[i] = "json".to_string();
        }
    }
    out
}

/// Every `enroll-doctor` command line of the docs' YAML and shell blocks.
fn command_lines() -> Vec<Vec<String>> {
    let mut scripts = blocks(DOC, &["sh", "bash"]);
    for block in blocks(DOC, &["yaml", "yml"]) {
        let docs = YamlLoader::load_from_str(&block)
            .unwrap_or_else(|e| panic!("a YAML block of docs/ci.md does not parse: {e}"));
        for d in &docs {
            self::scripts(d, &mut scripts);
        }
    }
    let mut out = Vec::new();
    for script in &scripts {
        for line in logical_lines(script) {
            out.extend(invocations(&line).unwrap_or_else(|e| panic!("{e}")));
        }
    }
    out
}

#[test]
fn every_yaml_block_is_a_workflow_or_a_pipeline() {
    let yaml = blocks(DOC, &["yaml", "yml"]);
    assert_eq!(
        yaml.len(),
        2,
        "a GitHub workflow and an Azure DevOps pipeline"
    );
    for block in &yaml {
        let docs = YamlLoader::load_from_str(block).unwrap_or_else(|e| panic!("{e}: {block}"));
        let root = docs
            .first()
            .unwrap_or_else(|| panic!("empty block: {block}"));
        let has = |key: &str| !root[key].is_badvalue();
        assert!(
            has("jobs") || has("steps"),
            "neither jobs nor steps: {block}"
        );
    }
    let gh = YamlLoader::load_from_str(&yaml[0]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        gh[0]["permissions"]["id-token"].as_str(),
        Some("write"),
        "workload identity federation on GitHub needs the OIDC token"
    );
}

#[test]
fn every_enroll_doctor_command_line_parses() {
    let lines = command_lines();
    // The workflow and the pipeline each read the tenant, render HTML and JUnit and gate.
    assert!(
        lines.len() >= 10,
        "only {} command lines found",
        lines.len()
    );
    let mut errors = Vec::new();
    for args in &lines {
        let argv = std::iter::once("enroll-doctor".to_string()).chain(with_known_formats(args));
        if let Err(e) = Cli::try_parse_from(argv) {
            errors.push(format!("enroll-doctor {}: {e}", args.join(" ")));
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let has = |needle: &[&str]| {
        lines
            .iter()
            .any(|a| needle.iter().all(|n| a.iter().any(|w| w == n)))
    };
    assert!(has(&["--require"]), "a gate with --require");
    assert!(has(&["--save-snapshot"]), "one read of the tenant");
    assert!(has(&["diff"]), "the drift step");
    assert!(has(&["--format", "html"]) && has(&["--format", "junit"]));
}

#[test]
fn the_splitting_finds_commands_and_stops_at_redirections() {
    let found =
        invocations("if [ -f p ]; then enroll-doctor diff a b --format markdown >> \"$OUT\"; fi")
            .unwrap_or_default();
    assert_eq!(found, [["diff", "a", "b", "--format", "markdown"]]);
    assert!(
        invocations("cargo install --locked enroll-doctor")
            .unwrap_or_default()
            .is_empty()
    );
    assert_eq!(
        logical_lines("enroll-doctor audit \\\n  --fail-on never\nnext"),
        ["enroll-doctor audit    --fail-on never", "next"]
    );
    // A bad flag is caught: the test can fail.
    let bad = ["audit", "--no-such-flag"].map(String::from);
    assert!(Cli::try_parse_from(std::iter::once("enroll-doctor".to_string()).chain(bad)).is_err());
    assert_eq!(
        with_known_formats(&["check", "--format", "html"].map(String::from)).len(),
        3
    );
}
