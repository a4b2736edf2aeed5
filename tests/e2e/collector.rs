//! `enroll-doctor collector` prints or writes the PowerShell collector.

use super::common::bin;

#[test]
fn collector_prints_the_script() {
    let out = bin()
        .arg("collector")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).expect("script is UTF-8");
    assert!(text.contains("enroll-doctor/device-report@1"));
    assert!(text.contains("dsregcmd.exe"));
    assert!(text.contains("-Merge"));
    assert!(text.contains("\r\n"), "CRLF for Windows PowerShell");
}

#[test]
fn collector_writes_file_with_bom() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("collect.ps1");
    bin()
        .args(["collector", "-o"])
        .arg(&path)
        .assert()
        .success();
    let bytes = std::fs::read(&path).expect("script written");
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "UTF-8 BOM so PowerShell 5.1 reads it right"
    );
    assert!(String::from_utf8_lossy(&bytes).contains("Get-ScheduledTask"));
}

#[test]
fn collector_unwritable_path_exits_2() {
    bin()
        .args(["collector", "-o", "/nonexistent-dir/collect.ps1"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("/nonexistent-dir/collect.ps1"));
}
