//! `completions` and `man`: generated from the clap definitions, so every subcommand and flag
//! that `--help` knows is completed and documented.

use super::common::bin;

const SUBCOMMANDS: &[&str] = &[
    "diagnose",
    "diff",
    "explain",
    "collector",
    "audit",
    "check",
    "auth",
    "demo",
    "completions",
    "man",
];

fn stdout(args: &[&str]) -> String {
    let out = bin().args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_shell_gets_a_script_naming_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = stdout(&["completions", shell]);
        for sub in SUBCOMMANDS {
            assert!(script.contains(sub), "{shell} completion lacks {sub}");
        }
        assert!(script.contains("device-report"), "{shell}: flags missing");
    }
}

#[test]
fn the_bash_script_is_valid_bash_and_completes_subcommands() {
    let script = stdout(&["completions", "bash"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("enroll-doctor.bash");
    std::fs::write(&path, &script).unwrap();
    // Source it and ask for the completions of `enroll-doctor di`.
    let probe = format!(
        "source {}; COMP_WORDS=(enroll-doctor di); COMP_CWORD=1; _enroll__doctor enroll-doctor di enroll-doctor; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        path.display()
    );
    let out = std::process::Command::new("bash")
        .args(["--norc", "-c", &probe])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let words = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        words.trim(),
        "diagnose\ndiff",
        "completions of `di`: {words}"
    );
}

#[test]
fn an_unknown_shell_is_refused_with_the_list() {
    let out = bin().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bash") && err.contains("powershell"), "{err}");
}

#[test]
fn the_man_page_documents_every_subcommand_and_the_exit_codes() {
    let page = stdout(&["man"]);
    assert!(page.contains(".TH enroll-doctor 1"), "{page}");
    for sub in SUBCOMMANDS {
        // The SUBCOMMANDS section points at each page: `enroll\-doctor\-diagnose(1)`.
        let reference = format!("enroll\\-doctor\\-{sub}(1)");
        assert!(page.contains(&reference), "no {reference}");
    }
    assert!(page.contains("Exit codes"), "exit codes missing");
}

#[test]
fn man_output_dir_writes_one_page_per_subcommand_with_the_global_options() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["man", "--output-dir"])
        .arg(dir.path().join("man1"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("man1"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected: Vec<String> = SUBCOMMANDS
        .iter()
        .map(|s| format!("enroll-doctor-{s}.1"))
        .chain(["enroll-doctor.1".to_string()])
        .collect();
    expected.sort();
    assert_eq!(names, expected);
    let audit = std::fs::read_to_string(dir.path().join("man1/enroll-doctor-audit.1")).unwrap();
    assert!(audit.contains(".TH enroll-doctor-audit 1"), "{audit}");
    // Global options are propagated into each page, and the subcommand's own ones are there.
    assert!(
        audit.contains("\\-\\-tenant") && audit.contains("\\-\\-tenants\\-file"),
        "{audit}"
    );
}
