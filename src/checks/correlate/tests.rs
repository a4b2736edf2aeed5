//! Correlation over the shared sample devices and a contoso snapshot built to match them
//! (tests/fixtures/correlate/contoso-snapshot.json); scenarios that change a few values of a
//! sample are device folders beside it (tests/fixtures/correlate/README.md lists them).

use std::path::PathBuf;

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::checks::device::analyse;
use crate::checks::tenant::evaluate_tenant;
use crate::device::load_path;
use crate::device::report::DeviceReport;
use crate::model::Verdict;
use crate::tenant::snapshot::{MissingReason, Source, TenantSnapshot};

const SNAPSHOT: &str = include_str!("../../../tests/fixtures/correlate/contoso-snapshot.json");

fn as_of() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

fn snapshot() -> TenantSnapshot {
    match TenantSnapshot::from_json(SNAPSHOT, "contoso-snapshot.json") {
        Ok(s) => s,
        Err(e) => panic!("fixture snapshot does not load: {e}"),
    }
}

fn sample_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("mocks/devices")
        .join(name)
}

fn sample(name: &str) -> DeviceReport {
    match load_path(&sample_dir(name)) {
        Ok(mut v) if v.len() == 1 => v.remove(0),
        other => panic!("sample {name} did not load as one device: {other:?}"),
    }
}

/// A device scenario of `tests/fixtures/correlate/` (a sample with a few values changed).
fn scenario(name: &str) -> DeviceReport {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/correlate")
        .join(name);
    match load_path(&dir) {
        Ok(mut v) if v.len() == 1 => v.remove(0),
        other => panic!("scenario {name} did not load as one device: {other:?}"),
    }
}

fn run(snap: &TenantSnapshot, report: &DeviceReport, user: Option<&str>) -> Correlation {
    let tenant = evaluate_tenant(snap);
    let analysis = analyse(report, as_of());
    correlate(snap, &tenant, report, &analysis, user, as_of())
}

fn finding<'a>(c: &'a Correlation, id: &str) -> &'a Finding {
    match c.findings.iter().find(|f| f.check == id) {
        Some(f) => f,
        None => panic!("no {id} finding"),
    }
}

fn all_evidence(f: &Finding) -> String {
    f.evidence
        .iter()
        .map(|e| {
            format!(
                "{} | {} | {}",
                e.source,
                e.detail,
                e.location.clone().unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn out_of_scope_user_is_the_first_cause_with_evidence_from_both_sides() {
    let c = run(&snapshot(), &sample("failed-8018002b"), None);
    let d = &c.diagnosis;
    assert_eq!(d.verdict, Verdict::Failed, "{d:?}");
    assert_eq!(
        d.causes.first().map(String::as_str),
        Some("USR003"),
        "{d:?}"
    );
    assert!(d.causes.contains(&"DEV007".to_string()), "{d:?}");
    let usr003 = finding(&c, "USR003");
    let ev = all_evidence(usr003);
    assert!(ev.contains("Intune Users"), "scope group named: {ev}");
    assert!(ev.contains("dmedp-admin.xml"), "device side: {ev}");
    assert!(
        ev.contains("only the account that ran dsregcmd"),
        "weak user hint said: {ev}"
    );
    assert!(d.fix.contains("MDM user scope"), "{}", d.fix);
    // With the tenant checked, the device-only advice to connect one is gone.
    for id in ["DEV003", "DEV007"] {
        let fix = &finding(&c, id).remediation;
        assert!(
            !fix.is_empty() && !fix.to_lowercase().contains("confirm tenant-side"),
            "{fix}"
        );
    }
    // Intune's own record agrees with the device.
    assert_eq!(finding(&c, "COR007").status, Status::Fail);
    assert!(all_evidence(finding(&c, "COR007")).contains("agrees with the device"));
    // The device's failure knows what the tenant said about each candidate cause.
    let dev7 = all_evidence(finding(&c, "DEV007"));
    assert!(
        dev7.contains("MDM user scope confirmed by USR003"),
        "{dev7}"
    );
    assert!(dev7.contains("UPN suffix ruled out by USR008"), "{dev7}");
    assert!(
        d.explanation.contains("mgarcia@contoso.com"),
        "{}",
        d.explanation
    );
}

#[test]
fn app_only_scope_gap_is_closed_by_elimination() {
    let mut snap = snapshot();
    snap.sources.mdm_policies = Source::Missing {
        reason: MissingReason::AppOnlyUnsupported,
    };
    snap.sources.mam_policies = Source::Missing {
        reason: MissingReason::AppOnlyUnsupported,
    };
    let c = run(&snap, &sample("failed-8018002b"), None);
    assert_eq!(finding(&c, "USR003").status, Status::Skip);
    let cor005 = finding(&c, "COR005");
    assert_eq!(cor005.status, Status::Fail, "{cor005:?}");
    assert!(
        cor005
            .summary
            .contains("most likely outside the MDM user scope")
    );
    assert_eq!(c.diagnosis.verdict, Verdict::Failed);
    assert_eq!(
        c.diagnosis.causes.first().map(String::as_str),
        Some("COR005"),
        "{:?}",
        c.diagnosis
    );
}

#[test]
fn platform_restriction_leads_for_the_blocked_demo_device() {
    let c = run(&snapshot(), &sample("demo-blocked-restriction"), None);
    let d = &c.diagnosis;
    assert_eq!(d.verdict, Verdict::Failed, "{d:?}");
    assert_eq!(
        d.causes.first().map(String::as_str),
        Some("USR005"),
        "{d:?}"
    );
    let usr005 = finding(&c, "USR005");
    let ev = all_evidence(usr005);
    assert!(ev.contains("Pilot Windows block"), "{ev}");
    assert!(ev.contains("event 76"), "{ev}");
    assert!(ev.contains("event 91"), "user from event 91: {ev}");
    assert!(d.fix.contains("Pilot Windows block"), "{}", d.fix);
    assert_eq!(
        c.keys.user.as_ref().map(|u| u.source),
        Some(UserSource::Event91)
    );
    assert_eq!(finding(&c, "COR007").status, Status::Fail);
    assert_eq!(finding(&c, "COR006").status, Status::Pass);
}

#[test]
fn enrolled_device_agrees_on_both_sides() {
    let c = run(&snapshot(), &sample("hybrid-enrolled"), None);
    assert_eq!(c.diagnosis.verdict, Verdict::Enrolled);
    assert!(c.diagnosis.causes.is_empty());
    for id in [
        "COR001", "COR002", "COR003", "COR004", "COR005", "COR006", "COR007",
    ] {
        assert_eq!(
            finding(&c, id).status,
            Status::Pass,
            "{:?}",
            finding(&c, id)
        );
    }
    // The enrolling user comes from event 91, not from whoever ran dsregcmd.
    assert_eq!(
        c.keys.user.as_ref().map(|u| u.source),
        Some(UserSource::Event91)
    );
}

#[test]
fn event_91_with_only_its_rendered_message_still_names_user_and_tenant() {
    // Event Viewer text and `wevtutil /f:text` exports keep the message, not the insertion
    // strings: the UPN and tenant must still come from event 91.
    let mut report = sample("demo-blocked-restriction");
    let mut found = false;
    for e in report
        .events
        .iter_mut()
        .filter(|e| e.is_dmedp() && e.event_id == 91)
    {
        e.data.clear();
        e.message = Some(
            "Auto MDM Enroll Enrollment Information: AadResourceUrl (https://enrollment.manage.microsoft.com/), \
             DiscoveryServiceFullUrl (https://enrollment.manage.microsoft.com/enrollmentserver/discovery.svc), \
             TenantID (5b7c1e2a-91d4-4c3e-8a6f-0d2e4b9c7a13), Upn (tlee@contoso.com)"
                .to_string(),
        );
        found = true;
    }
    assert!(found, "the sample has an event 91");
    let analysis = analyse(&report, as_of());
    let user = keys::enrolling_user(&report, &analysis, None);
    assert_eq!(
        user.as_ref().map(|u| u.upn.as_str()),
        Some("tlee@contoso.com")
    );
    assert_eq!(user.map(|u| u.source), Some(UserSource::Event91));
}

#[test]
fn stale_keys_stay_the_first_cause_when_the_tenant_is_fine() {
    let c = run(&snapshot(), &sample("stale-enrollment"), None);
    assert_eq!(
        c.diagnosis.causes.first().map(String::as_str),
        Some("DEV009")
    );
    assert_eq!(finding(&c, "COR005").status, Status::Pass);
    assert_eq!(finding(&c, "COR004").status, Status::Pass);
}

#[test]
fn never_triggered_device_is_a_gpo_problem_not_a_tenant_one() {
    let c = run(&snapshot(), &sample("never-triggered"), None);
    assert!(matches!(
        c.diagnosis.verdict,
        Verdict::Blocked | Verdict::NotTriggered
    ));
    assert_eq!(
        c.diagnosis.causes.first().map(String::as_str),
        Some("DEV005")
    );
    assert!(!c.diagnosis.causes.iter().any(|id| id.starts_with("USR")));
}

#[test]
fn a_device_that_never_joined_has_no_record_but_the_join_is_the_cause() {
    let c = run(&snapshot(), &sample("not-hybrid-joined"), None);
    let cor002 = finding(&c, "COR002");
    assert_eq!(cor002.status, Status::Fail);
    assert!(
        cor002.summary.contains("no Entra device is named PC0150"),
        "{}",
        cor002.summary
    );
    assert_eq!(
        c.diagnosis.causes.first().map(String::as_str),
        Some("DEV001")
    );
    assert!(!c.diagnosis.causes.contains(&"COR002".to_string()));
}

#[test]
fn device_joined_to_another_tenant_is_cor001_and_nothing_else_is_guessed() {
    let r = scenario("cor001-other-tenant");
    let c = run(&snapshot(), &r, Some("jdoe@contoso.com"));
    let cor001 = finding(&c, "COR001");
    assert_eq!(cor001.status, Status::Fail);
    assert!(
        cor001
            .summary
            .contains("0d1c2b3a-4958-4677-8695-a4b3c2d1e0f9")
    );
    assert!(all_evidence(cor001).contains("dsregcmd.txt:"));
    assert_eq!(finding(&c, "COR002").status, Status::Skip);
    assert!(c.findings.iter().all(|f| !f.check.starts_with("USR")));
}

#[test]
fn device_missing_in_entra_is_cor002() {
    let r = scenario("cor002-missing-in-entra");
    let c = run(&snapshot(), &r, None);
    let cor002 = finding(&c, "COR002");
    assert_eq!(cor002.status, Status::Fail);
    let ev = all_evidence(cor002);
    assert!(ev.contains("d0d0d0d0-1111-4222-8333-444455556666"), "{ev}");
    // PC0077 exists with another deviceId: said as evidence.
    assert!(ev.contains("same name, another deviceId"), "{ev}");
    assert_eq!(
        c.diagnosis.causes.first().map(String::as_str),
        Some("COR002")
    );
}

#[test]
fn disabled_and_workplace_registered_objects_are_cor003() {
    let disabled = scenario("cor003-disabled-object");
    let c = run(&snapshot(), &disabled, None);
    let f = finding(&c, "COR003");
    assert_eq!(f.status, Status::Fail);
    assert!(f.summary.contains("disabled"), "{}", f.summary);
    assert!(c.diagnosis.causes.contains(&"COR003".to_string()));

    let workplace = scenario("cor003-workplace-object");
    let c = run(&snapshot(), &workplace, None);
    let f = finding(&c, "COR003");
    assert_eq!(f.status, Status::Fail);
    assert!(f.summary.contains("Workplace"), "{}", f.summary);
    assert!(all_evidence(f).contains("AzureAdJoined : YES, DomainJoined : YES"));
}

#[test]
fn user_flag_wins_and_an_unlicensed_user_blocks() {
    // intern@contoso.com only has INTUNE_O365: not enough for MDM.
    let c = run(
        &snapshot(),
        &sample("never-triggered"),
        Some("intern@contoso.com"),
    );
    assert_eq!(
        c.keys.user.as_ref().map(|u| u.source),
        Some(UserSource::Flag)
    );
    assert_eq!(finding(&c, "USR002").status, Status::Fail);
    assert_eq!(finding(&c, "COR005").status, Status::Fail);
    assert!(c.diagnosis.causes.contains(&"USR002".to_string()));
}

#[test]
fn weak_user_hint_without_a_failure_code_only_warns() {
    // never-triggered names jdoe only as the account that ran dsregcmd; make it the intern.
    let r = scenario("weak-hint-intern");
    let c = run(&snapshot(), &r, None);
    assert_eq!(
        c.keys.user.as_ref().map(|u| u.source),
        Some(UserSource::ExecutingAccount)
    );
    assert_eq!(finding(&c, "COR005").status, Status::Warn);
    assert!(!c.diagnosis.causes.iter().any(|id| id == "USR002"));
}

#[test]
fn tenant_needs_collect_users_ids_and_names_once() {
    let mut needs = TenantNeeds::default();
    for name in ["hybrid-enrolled", "never-triggered", "failed-8018002b"] {
        let r = sample(name);
        let a = analyse(&r, as_of());
        needs.add(&device_keys(&r, &a, None));
    }
    assert_eq!(
        needs.upns.iter().map(String::as_str).collect::<Vec<_>>(),
        vec!["jdoe@contoso.com", "mgarcia@contoso.com"]
    );
    assert_eq!(needs.device_ids.len(), 3);
    assert!(needs.names.contains("PC0042"));
}

#[test]
fn merge_unites_evidence_of_user_and_tenant_findings_but_never_devices() {
    let a = Finding::new("USR003", Status::Fail, Subject::User("u@x".into()), "s")
        .with_evidence(Evidence::new("graph", "one"));
    let b = Finding::new("USR003", Status::Fail, Subject::User("u@x".into()), "s")
        .with_evidence(Evidence::new("event-log", "two"));
    let d1 = Finding::new("DEV001", Status::Pass, Subject::Device("PC".into()), "s");
    let d2 = d1.clone();
    let merged = merge_findings(vec![a, b, d1, d2]);
    assert_eq!(merged.len(), 3);
    assert_eq!(merged[0].evidence.len(), 2);
}

#[test]
fn registered_devices_alone_cannot_prove_a_hybrid_device_missing() {
    let mut snap = snapshot();
    if let Source::Collected { endpoint, data } = &mut snap.sources.entra_devices {
        *endpoint = "GET /v1.0/users/{upn}/registeredDevices ($batch)".into();
        data.retain(|d| d.display_name.as_deref() != Some("PC0077"));
    }
    let c = run(&snap, &sample("failed-8018002b"), None);
    assert_eq!(finding(&c, "COR002").status, Status::Skip);
    assert!(!c.diagnosis.causes.contains(&"COR002".to_string()));
    assert!(records::looks_up_devices(
        "GET /v1.0/users/{upn}/registeredDevices ($batch) + GET /v1.0/devices?$filter=deviceId eq … ($batch)"
    ));
}

#[test]
fn a_tenant_wide_cause_carries_the_device_evidence() {
    // MDM scope None: nobody is in scope; the device's 0x8018002B is explained tenant-wide.
    let mut snap = snapshot();
    if let Some(list) = snap.sources.mdm_policies.data_mut() {
        for p in list.iter_mut() {
            p.applies_to = Some("none".into());
            p.included_groups.clear();
        }
    }
    let c = run(&snap, &sample("failed-8018002b"), None);
    assert!(
        c.diagnosis.causes.contains(&"TEN003".to_string()),
        "{:?}",
        c.diagnosis
    );
    let ev: Vec<&Evidence> = c
        .tenant_evidence
        .iter()
        .filter(|(id, _)| id == "TEN003")
        .map(|(_, e)| e)
        .collect();
    assert!(
        ev.iter()
            .any(|e| e.detail.starts_with("PC0077.corp.contoso.com: event 76")),
        "{ev:?}"
    );
}

#[test]
fn pending_dual_state_and_stale_objects_are_reported() {
    use crate::tenant::snapshot::{EntraDevice, Source};
    let mut snap = snapshot();
    if let Source::Collected { data, .. } = &mut snap.sources.entra_devices {
        for d in data.iter_mut() {
            match d.display_name.as_deref() {
                // Synced from AD, never registered by the device.
                Some("PC0117") => {
                    d.alternative_security_ids.clear();
                    d.registration_date_time = None;
                }
                Some("PC0103") => {
                    d.approximate_last_sign_in_date_time = Some("2026-01-05T08:00:00Z".into());
                }
                _ => {}
            }
        }
        data.push(EntraDevice {
            id: "a0000103-0000-4000-8000-00000000f103".into(),
            device_id: Some("f0000103-0000-4000-8000-000000000103".into()),
            display_name: Some("PC0103".into()),
            account_enabled: Some(true),
            trust_type: Some("Workplace".into()),
            ..Default::default()
        });
    }
    let pending = run(&snap, &sample("stale-enrollment"), None);
    let f = finding(&pending, "COR003");
    assert_eq!(f.status, Status::Fail);
    assert!(f.summary.contains("pending"), "{}", f.summary);

    let twin = run(&snap, &sample("never-triggered"), None);
    let f = finding(&twin, "COR003");
    assert_eq!(f.status, Status::Warn, "{f:?}");
    assert!(
        f.summary.to_lowercase().contains("dual state"),
        "{}",
        f.summary
    );
    assert!(f.summary.contains("no sign-in for"), "{}", f.summary);
    // Warnings are evidence, not causes.
    assert!(!twin.diagnosis.causes.contains(&"COR003".to_string()));
}

/// The contoso snapshot with its JSON edited (`sources.<name>.data`).
fn snapshot_with(edit: impl FnOnce(&mut serde_json::Value)) -> TenantSnapshot {
    let mut v: serde_json::Value = match serde_json::from_str(SNAPSHOT) {
        Ok(v) => v,
        Err(e) => panic!("fixture snapshot is not JSON: {e}"),
    };
    edit(&mut v["sources"]);
    match TenantSnapshot::from_json(&v.to_string(), "edited-snapshot.json") {
        Ok(s) => s,
        Err(e) => panic!("edited snapshot does not load: {e}"),
    }
}

#[test]
fn unlicensed_user_explains_0x80180018_even_from_the_weakest_hint() {
    // Only the account that ran dsregcmd names the intern (INTUNE_O365 only); the device's
    // 0x80180018 is the licence failure, so the hint is confirmed and USR002 leads.
    let r = scenario("code-80180018-intern");
    let c = run(&snapshot(), &r, None);
    assert_eq!(
        c.keys.user.as_ref().map(|u| u.source),
        Some(UserSource::ExecutingAccount)
    );
    assert_eq!(c.diagnosis.verdict, Verdict::Failed);
    assert_eq!(
        c.diagnosis.causes.first().map(String::as_str),
        Some("USR002"),
        "{:?}",
        c.diagnosis
    );
    assert_eq!(finding(&c, "COR005").status, Status::Fail);
    let ev = all_evidence(finding(&c, "USR002"));
    assert!(ev.contains("event 76"), "device side: {ev}");
    assert!(ev.contains("Intune license confirmed by USR002"), "{ev}");
    // A licensed user with the same code: licence ruled out, nothing invented.
    let r = scenario("code-80180018-licensed");
    let c = run(&snapshot(), &r, Some("jdoe@contoso.com"));
    assert!(!c.diagnosis.causes.iter().any(|id| id.starts_with("USR")));
    assert!(
        all_evidence(finding(&c, "DEV007")).contains("Intune license ruled out by USR002"),
        "{:?}",
        finding(&c, "DEV007")
    );
}

#[test]
fn mfa_on_the_enrollment_app_explains_0x8018002a() {
    let r = scenario("code-8018002a");
    // Without a Conditional Access policy the cause is ruled out.
    let c = run(&snapshot(), &r, None);
    assert!(!c.diagnosis.causes.contains(&"TEN009".to_string()));
    assert!(
        all_evidence(finding(&c, "DEV007")).contains("ruled out by TEN009"),
        "{:?}",
        finding(&c, "DEV007")
    );
    // MFA required on "Microsoft Intune Enrollment": TEN009 only warns tenant-wide (a user
    // with a Hello PRT passes), but with this device's code it is the cause.
    let snap = snapshot_with(|s| {
        s["conditional_access_policies"]["data"] = serde_json::json!([{
            "id": "ca-mfa-enroll",
            "displayName": "Require MFA for Intune enrollment",
            "state": "enabled",
            "conditions": {
                "applications": {"includeApplications": ["d4ebce55-015a-49b5-a083-c84d1797ae8c"]},
                "users": {"includeUsers": ["All"]}
            },
            "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}
        }]);
    });
    let c = run(&snap, &r, None);
    let tenant = evaluate_tenant(&snap);
    let ten009 = tenant.iter().find(|f| f.check == "TEN009");
    assert_eq!(ten009.map(|f| f.status.clone()), Some(Status::Warn));
    assert_eq!(
        c.diagnosis.causes.first().map(String::as_str),
        Some("TEN009"),
        "{:?}",
        c.diagnosis
    );
    assert!(
        c.diagnosis
            .fix
            .contains("exclude the Intune enrollment apps")
    );
    let ev: Vec<&str> = c
        .tenant_evidence
        .iter()
        .filter(|(id, _)| id == "TEN009")
        .map(|(_, e)| e.detail.as_str())
        .collect();
    assert!(
        ev.iter()
            .any(|e| e.starts_with("PC0077.corp.contoso.com: event 76")),
        "{ev:?}"
    );
    // The device label is said once, not twice.
    assert!(ev.iter().all(|e| !e.contains("com: PC0077")), "{ev:?}");
}

#[test]
fn join_refused_is_a_cause_on_entra_join_only() {
    let snap = snapshot_with(|s| {
        s["device_registration_policy"]["data"]["azureADJoin"]["allowedToJoin"] =
            serde_json::json!({"@odata.type": "#microsoft.graph.noDeviceRegistrationMembership"});
    });
    // Hybrid joined with the GPO: "users may join devices" does not apply.
    let hybrid = scenario("code-801c0003-hybrid");
    let c = run(&snap, &hybrid, None);
    assert_eq!(c.diagnosis.path, EnrollmentPath::GpoHybrid);
    assert!(!c.diagnosis.causes.contains(&"TEN008".to_string()));
    assert!(
        all_evidence(finding(&c, "DEV007")).contains("users may not join devices not applicable"),
        "{:?}",
        finding(&c, "DEV007")
    );
    // Entra joined (no domain, no GPO, no task): the join policy is the cause.
    let entra = scenario("code-801c0003-entra-join");
    let snap = snapshot_with(|s| {
        s["device_registration_policy"]["data"]["azureADJoin"]["allowedToJoin"] =
            serde_json::json!({"@odata.type": "#microsoft.graph.noDeviceRegistrationMembership"});
        // Its Entra object is an Entra-joined one.
        if let Some(list) = s["entra_devices"]["data"].as_array_mut() {
            for d in list {
                if d["displayName"] == "PC0077" {
                    d["trustType"] = "AzureAd".into();
                }
            }
        }
    });
    let c = run(&snap, &entra, None);
    assert_eq!(c.diagnosis.path, EnrollmentPath::EntraJoin);
    assert_eq!(
        c.diagnosis.causes.first().map(String::as_str),
        Some("TEN008"),
        "{:?}",
        c.diagnosis
    );
}

#[test]
fn a_hybrid_device_with_namesake_objects_warns_and_names_them() {
    let snap = snapshot_with(|s| {
        if let Some(list) = s["entra_devices"]["data"].as_array_mut() {
            let mut twin = list
                .iter()
                .find(|d| d["displayName"] == "PC0042")
                .cloned()
                .unwrap_or_default();
            twin["id"] = "a0000042-0000-4000-8000-0000000000d1".into();
            twin["deviceId"] = "d0000042-0000-4000-8000-0000000000d1".into();
            list.push(twin);
        }
    });
    let c = run(&snap, &sample("hybrid-enrolled"), None);
    let f = finding(&c, "COR003");
    assert_eq!(f.status, Status::Warn, "{f:?}");
    assert!(f.summary.contains("share the name PC0042"), "{}", f.summary);
    assert!(all_evidence(f).contains("d0000042-0000-4000-8000-0000000000d1"));
    assert_eq!(c.diagnosis.verdict, Verdict::Enrolled);
}

#[test]
fn a_users_failure_on_another_device_is_not_this_devices_record() {
    // tlee's failed PC0200 event must not count for a second PC of tlee's that is enrolled
    // cleanly; an event without a device id still matches by user.
    let other_pc = scenario("other-pc-of-tlee");
    let c = run(&snapshot(), &other_pc, Some("tlee@contoso.com"));
    let f = finding(&c, "COR007");
    assert_eq!(f.status, Status::Pass, "{f:?}");
    let snap = snapshot_with(|s| {
        if let Some(list) = s["troubleshooting_events"]["data"].as_array_mut() {
            for e in list {
                if e["deviceId"] == "9a8b7c6d-5e4f-4a3b-9c2d-1e0f2a3b4c5d" {
                    e["deviceId"] = serde_json::Value::Null;
                }
            }
        }
    });
    let c = run(&snap, &other_pc, Some("tlee@contoso.com"));
    assert_ne!(finding(&c, "COR007").status, Status::Pass);
}

#[test]
fn personal_block_is_the_likely_cause_of_0x80180014_on_entra_join() {
    // "Pilot Windows block" only blocks personal Windows devices: GPO enrollments pass (they
    // count as corporate), an Entra join of unknown Autopilot state is only a warning — and
    // with the device's 0x80180014 that warning is the cause, not an all-clear.
    let snap = snapshot_with(|s| {
        if let Some(list) = s["enrollment_configurations"]["data"].as_array_mut() {
            for c in list {
                if c["displayName"] == "Pilot Windows block" {
                    c["platformRestriction"]["platformBlocked"] = false.into();
                    c["platformRestriction"]["personalDeviceEnrollmentBlocked"] = true.into();
                }
            }
        }
        if let Some(list) = s["entra_devices"]["data"].as_array_mut() {
            for d in list {
                if d["displayName"] == "PC0200" {
                    d["trustType"] = "AzureAd".into();
                }
            }
        }
    });
    let entra = scenario("pc0200-entra-join");
    let c = run(&snap, &entra, None);
    assert_eq!(c.diagnosis.path, EnrollmentPath::EntraJoin);
    assert_eq!(finding(&c, "USR005").status, Status::Warn);
    assert_eq!(
        c.diagnosis.causes.first().map(String::as_str),
        Some("USR005"),
        "{:?}",
        c.diagnosis
    );
    assert!(
        all_evidence(finding(&c, "DEV007")).contains("platform restriction likely (USR005 warns"),
        "{:?}",
        finding(&c, "DEV007")
    );
    // The same restriction on the GPO path lets the enrollment through: ruled out.
    let c = run(&snap, &sample("demo-blocked-restriction"), None);
    assert_eq!(finding(&c, "USR005").status, Status::Pass);
    assert!(!c.diagnosis.causes.contains(&"USR005".to_string()));
}

#[test]
fn another_mdm_in_entra_is_not_called_unmanaged() {
    let mut snap = snapshot();
    if let Source::Collected { data, .. } = &mut snap.sources.entra_devices {
        for d in data.iter_mut() {
            if d.device_id.as_deref() == Some("0c9e8d7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f") {
                d.is_managed = Some(true);
                // Workspace ONE's app id: a third-party MDM holds the device.
                d.mdm_app_id = Some("7add3ecd-5b01-452e-b4bf-cdaf9df1d097".into());
            }
        }
    }
    let c = run(&snap, &sample("never-triggered"), None);
    let f = finding(&c, "COR004");
    assert_eq!(f.status, Status::Warn, "{f:#?}");
    assert!(
        f.summary.contains("another MDM") && f.summary.contains("7add3ecd"),
        "{}",
        f.summary
    );
}

#[test]
fn nil_device_id_is_no_join_key() {
    let report = scenario("nil-device-id");
    let analysis = analyse(&report, as_of());
    let keys = keys::device_keys(&report, &analysis, None);
    assert_eq!(keys.device_id, None);
}

#[test]
fn no_intune_record_without_entra_records_does_not_speak_for_entra() {
    let mut snap = snapshot();
    snap.sources.entra_devices = Source::Missing {
        reason: MissingReason::NotCollected,
    };
    let c = run(&snap, &sample("never-triggered"), None);
    let f = finding(&c, "COR004");
    assert_eq!(f.status, Status::Pass);
    assert!(
        f.summary.contains("not collected") && !f.summary.contains("Neither Entra"),
        "{}",
        f.summary
    );
}
