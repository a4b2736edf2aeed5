//! The Autopilot evidence extracted from each fixture device of tests/fixtures/autopilot.

use std::path::PathBuf;

use super::*;
use crate::device::load_path;
use crate::device::report::ArtifactKind;

const CONTOSO: &str = "5b7c1e2a-91d4-4c3e-8a6f-0d2e4b9c7a13";

fn load(scenario: &str) -> DeviceReport {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/autopilot")
        .join(scenario);
    let mut reports = load_path(&dir).unwrap();
    assert_eq!(reports.len(), 1);
    let r = reports.remove(0);
    for i in &r.inputs {
        assert!(
            i.problem.is_none(),
            "{scenario}: {} {:?}",
            i.name,
            i.problem
        );
        assert_ne!(i.kind, ArtifactKind::Unrecognised, "{scenario}: {}", i.name);
    }
    r
}

fn evidence(scenario: &str) -> (DeviceReport, AutopilotEvidence) {
    let r = load(scenario);
    let ev = r.autopilot.clone().unwrap();
    (r, ev)
}

#[test]
fn profile_downloaded_for_this_tenant() {
    let (r, ev) = evidence("profile-this-tenant");
    assert_eq!(ev.profile_downloaded(), Some(true));
    let t = ev.assigned_tenant().unwrap();
    assert_eq!(t.id, Some(CONTOSO));
    assert_eq!(t.domain, Some("contoso.onmicrosoft.com"));
    assert!(t.location.file == "autopilot.reg" && t.location.line.is_some());
    assert_eq!(ev.assigned_to_tenant(&CONTOSO.to_uppercase()), Some(true));
    assert_eq!(ev.tenant_matched(), Some(true));
    assert_eq!(ev.join_method(), Some(JoinMethod::EntraJoin));
    assert_eq!(ev.needs_tpm_attestation(), Some(false));
    assert_eq!(ev.self_deploying(), Some(false));
    assert!(ev.autopilot_errors().is_empty());
    // Registry first, then the JSON file.
    let sources: Vec<ProfileSource> = ev.profiles.iter().map(|p| p.source).collect();
    assert_eq!(
        sources,
        [ProfileSource::Registry, ProfileSource::DdsZtdFile]
    );
    assert_eq!(
        ev.profiles[0].ztd_registration_id.as_deref(),
        Some("ZTD-3b1f9e2c-5a7d-4c8e-9f01-2a3b4c5d6e7f")
    );
    assert_eq!(ev.serial_numbers().collect::<Vec<_>>(), ["PF3ABC12"]);
    assert!(
        ev.events
            .iter()
            .any(|e| e.event_id == 153 && e.kind == AutopilotEventKind::ProfileDownloaded)
    );
    assert_eq!(
        edition_supports_autopilot(r.os.as_ref().unwrap().edition_id.as_deref().unwrap()),
        Some(true)
    );
    let facts = ev.to_evidence();
    assert!(
        facts.iter().any(|f| f
            .detail
            .contains("\"Contoso user-driven\" for tenant contoso.onmicrosoft.com")),
        "{facts:?}"
    );
}

#[test]
fn no_profile_when_not_registered() {
    let (_, ev) = evidence("not-registered");
    assert_eq!(ev.profile_downloaded(), Some(false));
    assert!(ev.assigned_tenant().is_none());
    assert_eq!(ev.assigned_to_tenant(CONTOSO), None);
    let kinds: Vec<AutopilotEventKind> = ev.events.iter().map(|e| e.kind).collect();
    assert!(
        kinds.contains(&AutopilotEventKind::NotRegistered),
        "{kinds:?}"
    );
    assert!(kinds.contains(&AutopilotEventKind::NoProfileAssigned));
    assert!(ev.profiles[0].autopilot_disabled == Some(true));
}

#[test]
fn profile_of_another_tenant() {
    let (_, ev) = evidence("other-tenant");
    assert_eq!(ev.profile_downloaded(), Some(true));
    assert_eq!(ev.assigned_to_tenant(CONTOSO), Some(false));
    assert_eq!(
        ev.assigned_tenant().unwrap().domain,
        Some("fabrikam.onmicrosoft.com")
    );
    assert_eq!(ev.tenant_matched(), Some(false));
    assert_eq!(ev.profiles[0].user_tenant_id.as_deref(), Some(CONTOSO));
}

#[test]
fn esp_held_by_an_app_in_progress() {
    let (_, ev) = evidence("esp-blocking-app");
    let app = ev.esp_blocking_app().unwrap();
    assert_eq!(app.app, "Win32App_4d7e1f2a-5b6c-4d8e-9f0a-1b2c3d4e5f6a_1");
    assert_eq!(app.provider, "Sidecar");
    assert_eq!(app.scope, "Device");
    assert_eq!(app.state_label(), "InProgress");
    let esp = ev.esp.as_ref().unwrap();
    assert_eq!(esp.providers[0].installation_state, Some(3));
    // The latest time stamp of each item wins.
    let b = esp
        .diagnostics
        .iter()
        .find(|d| d.category == "Sidecar" && d.item.ends_with("5f6a_1"))
        .unwrap();
    assert_eq!(b.state, 2);
    assert_eq!(
        esp.started.map(|t| t.to_rfc3339()),
        Some("2026-11-20T09:09:58+00:00".to_string())
    );
    assert_eq!(ev.first_sync.len(), 1);
    let fs = &ev.first_sync[0];
    assert_eq!(fs.enrollment_id, "6F4C1B2A-3D5E-4F60-8A7B-9C0D1E2F3A4B");
    assert_eq!(fs.done(), Some(false));
    assert_eq!(fs.timeout_minutes, Some(60));
    assert_eq!(fs.block_in_status_page, Some(7));
    // Still within its 60 minutes when the report ends (09:12:30).
    assert_eq!(ev.first_sync_timed_out(), None);
}

#[test]
fn first_sync_past_its_timeout() {
    let (r, ev) = evidence("first-sync-timeout");
    assert!(r.collector.is_some());
    assert_eq!(
        ev.observed_until.map(|t| t.to_rfc3339()),
        Some("2026-11-20T11:05:00+00:00".to_string())
    );
    assert_eq!(ev.first_sync_timed_out(), Some(true));
    assert_eq!(
        ev.esp_blocking_app().map(|a| a.state_label()),
        Some("NotInstalled")
    );
    assert!(
        ev.to_evidence()
            .iter()
            .any(|f| f.detail.contains("ESP timeout 30 minutes, timed out"))
    );
}

#[test]
fn self_deploying_on_a_tpm_1_2() {
    let (r, ev) = evidence("self-deploying-tpm12");
    assert_eq!(ev.self_deploying(), Some(true));
    assert_eq!(ev.needs_tpm_attestation(), Some(true));
    let tpm = r.tpm.as_ref().unwrap();
    assert_eq!(tpm.major_version(), Some("1.2"));
    assert_eq!(tpm_can_attest(tpm), Some(false));
    let codes: Vec<(&str, &str)> = ev
        .autopilot_errors()
        .iter()
        .map(|e| (e.code.as_str(), e.origin.as_str()))
        .collect();
    assert_eq!(
        codes,
        [
            ("0x800705B4", "Autopilot event 171"),
            ("0x800705B4", "Autopilot event 172")
        ]
    );
    assert!(ev.autopilot_errors()[0].description.contains("TPM 2.0"));
    assert!(
        ev.events
            .iter()
            .any(|e| e.kind == AutopilotEventKind::TpmAttestationFailed)
    );
}

#[test]
fn windows_home_cannot_use_autopilot() {
    let (r, ev) = evidence("windows-home");
    assert_eq!(r.os.as_ref().unwrap().edition_id.as_deref(), Some("Core"));
    assert_eq!(edition_supports_autopilot("Core"), Some(false));
    assert_eq!(
        edition_supports_autopilot("CoreSingleLanguage"),
        Some(false)
    );
    assert_eq!(edition_supports_autopilot("Professional"), Some(true));
    assert_eq!(edition_supports_autopilot("Mystery"), None);
    let e = &ev.autopilot_errors()[0];
    assert_eq!(e.code, "0x80180022");
    assert!(e.description.contains("Windows Home"), "{}", e.description);
}

#[test]
fn a_report_without_autopilot_facts_has_none() {
    let r = crate::device::report_from_memory(
        "x",
        &[(
            "dsregcmd.txt".to_string(),
            b"AzureAdJoined : YES\nDomainJoined : NO\n".to_vec(),
        )],
    );
    assert!(r.autopilot.is_none());
    assert!(autopilot_evidence(&r).is_none());
}

#[test]
fn tpm_attestation_rules() {
    let t = |present, version: Option<&str>, capable| TpmInfo {
        present,
        spec_version: version.map(str::to_string),
        attestation_capable: capable,
        ..TpmInfo::default()
    };
    assert_eq!(tpm_can_attest(&t(Some(false), None, None)), Some(false));
    assert_eq!(
        tpm_can_attest(&t(Some(true), Some("2.0, 0, 1.59"), Some(true))),
        Some(true)
    );
    assert_eq!(
        tpm_can_attest(&t(Some(true), Some("2.0"), Some(false))),
        Some(false)
    );
    assert_eq!(tpm_can_attest(&t(Some(true), Some("2.0"), None)), None);
    assert_eq!(tpm_can_attest(&t(None, None, None)), None);
}

proptest::proptest! {
    /// Hostile registry exports under the Autopilot and ESP keys never panic the evidence.
    #[test]
    fn evidence_of_arbitrary_keys_never_panics(
        tails in proptest::collection::vec("[A-Za-z0-9_{}\\\\.:-]{0,40}", 0..8),
        values in proptest::collection::vec(("[ -~]{0,20}", "(dword:[0-9a-f]{8}|\"[ -~]{0,20}\")"), 0..8),
    ) {
        let mut text = String::from("Windows Registry Editor Version 5.00\n");
        for (i, tail) in tails.iter().enumerate() {
            let root = [KEY_ESP_TRACKING, KEY_AUTOPILOT_DIAGNOSTICS, KEY_ENROLLMENTS][i % 3];
            text.push_str(&format!("\n[{root}\\{tail}]\n"));
            for (n, v) in &values {
                text.push_str(&format!("\"{}\"={v}\n", n.replace(['"', '\\'], "")));
            }
        }
        let r = crate::device::report_from_memory("x", &[("a.reg".to_string(), text.into_bytes())]);
        if let Some(ev) = &r.autopilot {
            let _ = ev.profile_downloaded();
            let _ = ev.esp_blocking_app();
            let _ = ev.first_sync_timed_out();
            let _ = ev.to_evidence();
        }
    }
}
