//! Correlation over the shared sample devices and the contoso snapshot, end to end through
//! [`correlate`]: the cause chain, the evidence from both sides and what the device findings
//! learn. Tests of one check live in its file.

use super::testutil::*;
use super::*;
use crate::checks::device::DEV001;
use crate::checks::device::analyse;
use crate::checks::tenant::evaluate_tenant;
use crate::checks::user::USR003;
use crate::model::Verdict;

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
    let a = USR003
        .finding(Status::Fail, Subject::User("u@x".into()), "s")
        .with_evidence(Evidence::new("graph", "one"));
    let b = USR003
        .finding(Status::Fail, Subject::User("u@x".into()), "s")
        .with_evidence(Evidence::new("event-log", "two"));
    let d1 = DEV001.finding(Status::Pass, Subject::Device("PC".into()), "s");
    let d2 = d1.clone();
    let merged = merge_findings(vec![a, b, d1, d2]);
    assert_eq!(merged.len(), 3);
    assert_eq!(merged[0].evidence.len(), 2);
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
        .filter(|(id, _)| id.id == "TEN003")
        .map(|(_, e)| e)
        .collect();
    assert!(
        ev.iter()
            .any(|e| e.detail.starts_with("PC0077.corp.contoso.com: event 76")),
        "{ev:?}"
    );
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
    // Without a Conditional Access policy the cause is ruled out, for the enrolling user.
    let c = run(&snapshot(), &r, None);
    assert!(
        !c.diagnosis
            .causes
            .iter()
            .any(|id| id == "TEN009" || id == "USR009")
    );
    assert!(
        all_evidence(finding(&c, "DEV007")).contains("ruled out by USR009"),
        "{:?}",
        finding(&c, "DEV007")
    );
    // MFA required on "Microsoft Intune Enrollment": TEN009 only warns tenant-wide (a user
    // with a Hello PRT passes); for the enrolling user on the silent GPO path USR009 warns,
    // and with this device's code it is the cause.
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
        Some("USR009"),
        "{:?}",
        c.diagnosis
    );
    let usr009 = finding(&c, "USR009");
    assert_eq!(usr009.status, Status::Warn);
    let ev = all_evidence(usr009);
    assert!(ev.contains("Require MFA for Intune enrollment"), "{ev}");
    assert!(ev.contains("applies through All users"), "{ev}");
    assert!(ev.contains("event 76"), "device side: {ev}");
    assert!(c.diagnosis.fix.contains("What If"), "{}", c.diagnosis.fix);
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
fn nil_device_id_is_no_join_key() {
    let report = scenario("nil-device-id");
    let analysis = analyse(&report, as_of());
    let keys = keys::device_keys(&report, &analysis, None);
    assert_eq!(keys.device_id, None);
}

#[test]
fn rules_are_the_correlation_checks_in_id_order_with_cor001_first() {
    let ids: Vec<&str> = RULES.iter().map(|r| r.meta.id).collect();
    assert_eq!(
        ids,
        [
            "COR001", "COR002", "COR003", "COR004", "COR005", "COR006", "COR007"
        ]
    );
    // COR001 decides whether the others apply, so it is evaluated over the records first.
    assert!(matches!(RULES[0].eval, CorrelationEval::Records(_)));
}
