//! Unit tests for path derivation, enrolled state, the device family as a whole and the
//! diagnosis order. A test of one check lives in that check's file.

use super::testutil::*;
use super::*;
use crate::device::report::*;
use crate::model::{EnrollmentPath, SkipReason, Status, Subject, Verdict};

// ---------- path ----------

#[test]
fn path_is_gpo_hybrid_when_domain_joined_even_if_not_entra_joined() {
    let r = DeviceReport {
        dsregcmd: Some(dsreg(
            "| Device State |\n AzureAdJoined : NO\n DomainJoined : YES\n",
        )),
        ..Default::default()
    };
    let p = derive_path(&r);
    assert_eq!(p.path, EnrollmentPath::GpoHybrid);
    assert!(p.evidence.iter().any(|e| e.detail.contains("DomainJoined")));
    assert_eq!(p.evidence[0].location.as_deref(), Some("dsregcmd.txt:3"));
}

#[test]
fn path_is_gpo_hybrid_from_policy_or_task_alone() {
    let r = DeviceReport {
        registry: Some(registry(vec![mdm_policy(Some(1), 1)])),
        ..Default::default()
    };
    assert_eq!(derive_path(&r).path, EnrollmentPath::GpoHybrid);
    let r = DeviceReport {
        events: vec![ts(107, 1, None)],
        ..Default::default()
    };
    assert_eq!(derive_path(&r).path, EnrollmentPath::GpoHybrid);
}

#[test]
fn path_entra_join_and_registered_and_unknown() {
    let mut r = DeviceReport {
        dsregcmd: Some(dsreg(
            "| Device State |\n AzureAdJoined : YES\n DomainJoined : NO\n",
        )),
        ..Default::default()
    };
    assert_eq!(derive_path(&r).path, EnrollmentPath::EntraJoin);
    r.dsregcmd = Some(dsreg(
        "| Device State |\n AzureAdJoined : NO\n DomainJoined : NO\n| User State |\n WorkplaceJoined : YES\n",
    ));
    assert_eq!(derive_path(&r).path, EnrollmentPath::EntraRegistered);
    r.dsregcmd = Some(dsreg(
        "| Device State |\n AzureAdJoined : NO\n DomainJoined : NO\n| Work Account 1 |\n WorkplaceTenantId : x\n",
    ));
    assert_eq!(derive_path(&r).path, EnrollmentPath::EntraRegistered);
    assert_eq!(
        derive_path(&DeviceReport::default()).path,
        EnrollmentPath::Unknown
    );
}

#[test]
fn path_co_management_from_device_credential_or_the_configmgr_flag() {
    let r = DeviceReport {
        dsregcmd: Some(hybrid_dsreg(INTUNE_URL, "YES")),
        registry: Some(registry(vec![mdm_policy(Some(1), 2)])),
        ..Default::default()
    };
    assert_eq!(derive_path(&r).path, EnrollmentPath::CoManagement);
    // A ConfigMgr client without CoManagementFlags is not co-management: the domain join
    // decides (issue 10), and the evidence says what to collect.
    let r = DeviceReport {
        dsregcmd: Some(hybrid_dsreg(INTUNE_URL, "YES")),
        registry: Some(registry(vec![key(r"HKLM\SOFTWARE\Microsoft\CCM", &[])])),
        ..Default::default()
    };
    let d = derive_path(&r);
    assert_eq!(d.path, EnrollmentPath::GpoHybrid);
    assert!(
        d.evidence
            .iter()
            .any(|e| e.detail.contains("CoManagementFlags is not in the report"))
    );
    // The same client on an Entra joined device stays on the Entra join path.
    let r = DeviceReport {
        dsregcmd: Some(dsreg(
            "| Device State |\n AzureAdJoined : YES\n DomainJoined : NO\n",
        )),
        registry: Some(registry(vec![key(r"HKLM\SOFTWARE\Microsoft\CCM", &[])])),
        ..Default::default()
    };
    let d = derive_path(&r);
    assert_eq!(d.path, EnrollmentPath::EntraJoin);
    assert!(
        d.evidence
            .iter()
            .any(|e| e.detail.contains("ConfigMgr client"))
    );
    // Event flag 0x1 counts only without a GPO that says "user credential".
    let ev = event(
        PROVIDER_DMEDP,
        76,
        1,
        &["0x1", "0x80190190"],
        Some("Auto MDM Enroll: Device Credential (0x1), Failed (Bad request (400).)"),
    );
    let r = DeviceReport {
        dsregcmd: Some(hybrid_dsreg(INTUNE_URL, "YES")),
        events: vec![ev.clone()],
        ..Default::default()
    };
    assert_eq!(derive_path(&r).path, EnrollmentPath::CoManagement);
    let r = DeviceReport {
        dsregcmd: Some(hybrid_dsreg(INTUNE_URL, "YES")),
        registry: Some(registry(vec![mdm_policy(Some(1), 1)])),
        events: vec![ev],
        ..Default::default()
    };
    assert_eq!(derive_path(&r).path, EnrollmentPath::GpoHybrid);
}

#[test]
fn configmgr_client_is_co_management_only_when_enabled() {
    let ccm = |flags: Option<u32>| {
        let v: Vec<(&str, RegData)> = flags
            .map(|f| ("CoManagementFlags", dword(f)))
            .into_iter()
            .collect();
        key(r"HKLM\SOFTWARE\Microsoft\CCM", &v)
    };
    let with = |keys: Vec<RegKey>| DeviceReport {
        dsregcmd: Some(hybrid_dsreg(INTUNE_URL, "YES")),
        registry: Some(registry(keys)),
        ..Default::default()
    };
    // Co-management enabled: co-management, even with a user-credential GPO.
    let d = derive_path(&with(vec![ccm(Some(8193)), mdm_policy(Some(1), 1)]));
    assert_eq!(d.path, EnrollmentPath::CoManagement);
    assert!(d.evidence[0].detail.contains("CoManagementFlags = "));
    // Co-management off and a user-credential GPO: the GPO path, the client named.
    let d = derive_path(&with(vec![ccm(Some(0)), mdm_policy(Some(1), 1)]));
    assert_eq!(d.path, EnrollmentPath::GpoHybrid);
    assert!(
        d.evidence
            .iter()
            .any(|e| e.detail.contains("co-management is off"))
    );
    // A client without the flag value and a GPO: the GPO decides.
    let d = derive_path(&with(vec![ccm(None), mdm_policy(Some(1), 1)]));
    assert_eq!(d.path, EnrollmentPath::GpoHybrid);
    // Co-management off, no GPO: not co-management (domain joined: the hybrid path).
    let d = derive_path(&with(vec![ccm(Some(0))]));
    assert_ne!(d.path, EnrollmentPath::CoManagement);
}

// ---------- enrolled state ----------

#[test]
fn enrolled_from_live_intune_key_not_placeholder() {
    let (a, d) = run(&enrolled_hybrid());
    match &a.enrolled {
        EnrolledState::Enrolled {
            enrollment_id,
            upn,
            tenant_id,
            ..
        } => {
            assert_eq!(enrollment_id, "6A1F0B57-2C4D-4E8F-9A1B-3C5D7E9F1A2B");
            assert_eq!(upn.as_deref(), Some("jdoe@contoso.com"));
            assert_eq!(tenant_id.as_deref(), Some(TENANT));
        }
        other => panic!("expected enrolled, got {other:?}"),
    }
    assert_eq!(d.verdict, Verdict::Enrolled);
    assert!(d.causes.is_empty());
    assert!(d.fix.is_empty());

    let mut r = enrolled_hybrid();
    r.registry = Some(registry(vec![placeholder_key()]));
    let (a, _) = run(&r);
    assert!(matches!(a.enrolled, EnrolledState::NotEnrolled { .. }));
}

#[test]
fn enrolled_state_unknown_without_registry_and_other_tenant_is_not_enrolled() {
    let mut r = enrolled_hybrid();
    r.registry = None;
    let (a, d) = run(&r);
    assert!(matches!(a.enrolled, EnrolledState::Unknown { .. }));
    // The last event is 75: positive evidence, verdict enrolled but the text asks to confirm.
    assert_eq!(d.verdict, Verdict::Enrolled);
    assert!(d.explanation.contains("confirm"));

    let mut r = enrolled_hybrid();
    r.registry = Some(registry(vec![intune_key(
        "6A1F0B57-2C4D-4E8F-9A1B-3C5D7E9F1A2B",
        "00000000-1111-2222-3333-444444444444",
        "jdoe@fabrikam.com",
    )]));
    let (a, _) = run(&r);
    assert!(matches!(a.enrolled, EnrolledState::NotEnrolled { .. }));
    assert_eq!(status(&a, &DEV009), Status::Fail);
}

// ---------- diagnosis ----------

#[test]
fn diagnosis_failed_orders_prerequisite_before_event_76() {
    let (a, d) = run(&failed_device());
    assert_eq!(a.path(), EnrollmentPath::GpoHybrid);
    assert_eq!(d.verdict, Verdict::Failed);
    assert_eq!(d.causes, vec!["DEV003".to_string(), "DEV007".to_string()]);
    assert!(d.fix.contains("MDM user scope"));
    assert!(d.explanation.contains("DEV003"));
}

#[test]
fn tenant_findings_come_first_in_the_cause_chain() {
    let a = analyse(&failed_device(), as_of());
    let usr = crate::checks::user::USR003
        .finding(
            Status::Fail,
            Subject::User("jdoe@contoso.com".into()),
            "not in scope",
        )
        .with_remediation("Add jdoe to the MDM scope group.");
    let passing = crate::checks::user::USR002.finding(
        Status::Pass,
        Subject::User("jdoe@contoso.com".into()),
        "licensed",
    );
    let d = diagnose(&a, &[passing, usr]);
    assert_eq!(d.verdict, Verdict::Failed);
    assert_eq!(
        d.causes,
        vec![
            "USR003".to_string(),
            "DEV003".to_string(),
            "DEV007".to_string()
        ]
    );
    assert_eq!(d.fix, "Add jdoe to the MDM scope group.");
}

#[test]
fn every_check_yields_one_finding_with_evidence() {
    for r in [
        enrolled_hybrid(),
        failed_device(),
        stale_device(),
        quiet_device(),
        DeviceReport::default(),
    ] {
        let (a, _) = run(&r);
        let ids: Vec<&str> = a.findings.iter().map(|f| f.check.as_str()).collect();
        let listed: Vec<&str> = RULES.iter().map(|rule| rule.meta.id).collect();
        assert_eq!(ids, listed, "findings follow the order of RULES");
        assert_eq!(
            ids,
            [
                "DEV001", "DEV002", "DEV003", "DEV004", "DEV005", "DEV006", "DEV007", "DEV008",
                "DEV009", "DEV010", "DEV011", "DEV012", "DEV013"
            ]
        );
        for f in &a.findings {
            assert!(!f.evidence.is_empty(), "{} has no evidence", f.check);
            if matches!(f.status, Status::Fail | Status::Warn) {
                assert!(!f.remediation.is_empty(), "{} has no remediation", f.check);
            }
        }
    }
    let (_, d) = run(&DeviceReport::default());
    assert_eq!(d.verdict, Verdict::Unknown);
    assert!(d.fix.starts_with("Collect"));
}

#[test]
fn user_hint_applies_only_when_files_name_nobody() {
    let mut r = failed_device();
    let a = analyse_with_user(&r, as_of(), Some("other@contoso.com"));
    assert_eq!(a.user.as_deref(), Some("jdoe@contoso.com"));
    r.dsregcmd = Some(dsreg(
        "| Device State |\n AzureAdJoined : YES\n DomainJoined : YES\n| Tenant Details |\n MdmUrl : \n| User State |\n WorkplaceJoined : NO\n| SSO State |\n AzureAdPrt : YES\n",
    ));
    let a = analyse_with_user(&r, as_of(), Some("mgarcia@contoso.com"));
    assert_eq!(a.user.as_deref(), Some("mgarcia@contoso.com"));
    assert!(
        a.get(&DEV003)
            .is_some_and(|f| f.summary.contains("mgarcia@contoso.com"))
    );
}

#[test]
fn entra_join_ready_but_not_enrolled_is_unknown_not_will_enroll() {
    let r = DeviceReport {
        dsregcmd: Some(dsreg(
            "| Device State |\n AzureAdJoined : YES\n DomainJoined : NO\n| Tenant Details |\n MdmUrl : https://enrollment.manage.microsoft.com/x\n| User State |\n WorkplaceJoined : NO\n| SSO State |\n AzureAdPrt : YES\n",
        )),
        registry: Some(registry(vec![placeholder_key()])),
        ..Default::default()
    };
    let (a, d) = run(&r);
    assert_eq!(a.path(), EnrollmentPath::EntraJoin);
    assert_eq!(status(&a, &DEV005), Status::Skip);
    assert_eq!(d.verdict, Verdict::Unknown);
}

#[test]
fn dev007_reads_a_failed_task_result_when_no_event_76_was_exported() {
    // schtasks prints deviceenroller's HRESULT as a signed decimal: -2145910764 = 0x80180014.
    let mut r = quiet_device();
    r.scheduled_tasks
        .as_mut()
        .into_iter()
        .flatten()
        .for_each(|t| t.last_result = Some(-2_145_910_764));
    let (a, d) = run(&r);
    let f = a.get(&DEV007).cloned().unwrap_or_else(|| panic!("DEV007"));
    assert_eq!(f.status, Status::Fail);
    assert!(f.summary.contains("0x80180014"), "{}", f.summary);
    assert_eq!(f.evidence[0].location.as_deref(), Some("schtasks.csv:2"));
    assert_eq!(a.failure_code, Some(0x8018_0014));
    assert_eq!(d.verdict, Verdict::Failed);
    assert_eq!(d.causes, vec!["DEV007".to_string()]);

    // The collector writes Get-ScheduledTaskInfo's unsigned LastTaskResult: the same code.
    assert_eq!(
        crate::checks::device::evidence::task_result_hresult(2_149_056_532),
        Some(0x8018_0014)
    );
    assert_eq!(
        crate::checks::device::evidence::task_result_hresult(267_011),
        None
    );
    // "Has not yet run" (267011) and success are not failures.
    for ok in [0, 267_011] {
        r.scheduled_tasks
            .as_mut()
            .into_iter()
            .flatten()
            .for_each(|t| t.last_result = Some(ok));
        let (a, d) = run(&r);
        assert_ne!(status(&a, &DEV007), Status::Fail);
        assert_eq!(a.failure_code, None);
        assert_ne!(d.verdict, Verdict::Failed);
    }

    // A later event 75 wins over the task's stale result.
    r.scheduled_tasks
        .as_mut()
        .into_iter()
        .flatten()
        .for_each(|t| t.last_result = Some(-2_145_910_764));
    r.events = vec![dmedp(75, 30, &["0x0"])];
    let (a, _) = run(&r);
    assert_eq!(status(&a, &DEV007), Status::Pass);
}

#[test]
fn missing_user_sections_mean_system_only_when_the_output_goes_on() {
    // SYSTEM run without an Executing Account line: the user sections are skipped, the
    // Diagnostic Data that follows them is printed.
    let mut r = enrolled_hybrid();
    r.dsregcmd = Some(dsreg(
        "| Device State |\n AzureAdJoined : YES\n DomainJoined : YES\n| Tenant Details |\n MdmUrl : x\n| Diagnostic Data |\n KeySignTest : PASSED\n",
    ));
    let (a, _) = run(&r);
    assert_eq!(status(&a, &DEV010), Status::Fail);
    assert_eq!(status(&a, &DEV002), Status::Skip);

    // The same output cut short after Tenant Details (a truncated export): not a SYSTEM run.
    r.dsregcmd = Some(dsreg(
        "| Device State |\n AzureAdJoined : YES\n DomainJoined : YES\n| Tenant Details |\n MdmUrl : x\n",
    ));
    let (a, d) = run(&r);
    let f = a.get(&DEV010).cloned().unwrap_or_else(|| panic!("DEV010"));
    assert_eq!(f.status, Status::Skip);
    assert!(
        f.evidence[0].detail.contains("cut short"),
        "{:?}",
        f.evidence
    );
    assert!(matches!(
        skip_reason(&a, &DEV002),
        Some(SkipReason::NoEvidence { .. })
    ));
    // The device is enrolled: the cut-short dsregcmd does not change that.
    assert_eq!(d.verdict, Verdict::Enrolled);
}

#[test]
fn dev007_does_not_pass_on_a_disabled_log_and_dev011_ignores_task_log_off_the_gpo_path() {
    use crate::checks::device::facts::{LOG_DMEDP, LOG_TASKS};
    let mut r = quiet_device();
    r.event_logs = vec![
        log_info(LOG_DMEDP, Some(false), 3),
        log_info(LOG_TASKS, Some(false), 3),
    ];
    let (a, _) = run(&r);
    assert!(matches!(
        skip_reason(&a, &DEV007),
        Some(SkipReason::NoEvidence { .. })
    ));
    assert_eq!(status(&a, &DEV011), Status::Warn);
    // Enabled and reaching back: the absence of 76 is a pass.
    r.event_logs = vec![
        log_info(LOG_DMEDP, Some(true), 3),
        log_info(LOG_TASKS, Some(true), 3),
    ];
    let (a, _) = run(&r);
    assert_eq!(status(&a, &DEV007), Status::Pass);

    // Entra joined (no domain, no GPO): the Task Scheduler log is not needed.
    let mut r = DeviceReport {
        label: "PC0200".into(),
        dsregcmd: Some(dsreg(
            "| Device State |\n AzureAdJoined : YES\n DomainJoined : NO\n| Tenant Details |\n MdmUrl : https://enrollment.manage.microsoft.com/enrollmentserver/discovery.svc\n| User State |\n WorkplaceJoined : NO\n| SSO State |\n AzureAdPrt : YES\n| Diagnostic Data |\n Executing Account Name : AzureAD\\kwong\n",
        )),
        events: vec![dmedp(75, 5, &["0x0"])],
        ..Default::default()
    };
    let (a, _) = run(&r);
    assert_eq!(a.path(), crate::model::EnrollmentPath::EntraJoin);
    assert_eq!(status(&a, &DEV011), Status::Pass);
    // On the GPO path the missing Task Scheduler log is a gap.
    r.registry = Some(registry(vec![mdm_policy(Some(1), 1)]));
    let (a, _) = run(&r);
    assert_eq!(status(&a, &DEV011), Status::Warn);
}

#[test]
fn dev003_on_a_registered_device_reads_the_work_account_mdm_url() {
    let text = |url: &str| {
        format!(
            "| Device State |\n AzureAdJoined : NO\n DomainJoined : NO\n| User State |\n WorkplaceJoined : YES\n| SSO State |\n AzureAdPrt : NO\n| Work Account 1 |\n WorkplaceTenantId : {TENANT}\n WorkplaceMdmUrl : {url}\n| Diagnostic Data |\n Executing Account Name : PC0300\\\\sam, sam@contoso.com\n"
        )
    };
    let mut r = DeviceReport {
        label: "PC0300".into(),
        dsregcmd: Some(dsreg(&text(""))),
        registry: Some(registry(vec![])),
        ..Default::default()
    };
    let (a, d) = run(&r);
    assert_eq!(a.path(), crate::model::EnrollmentPath::EntraRegistered);
    let f = a.get(&DEV003).cloned().unwrap_or_else(|| panic!("DEV003"));
    assert_eq!(f.status, Status::Fail);
    assert!(f.evidence[0].detail.starts_with("WorkplaceMdmUrl"));
    assert_eq!(f.evidence[0].location.as_deref(), Some("dsregcmd.txt:10"));
    // PRT and hybrid join do not apply to a registered device.
    assert!(matches!(
        skip_reason(&a, &DEV002),
        Some(SkipReason::NotApplicable { .. })
    ));
    assert_eq!(d.verdict, Verdict::Blocked);
    assert_eq!(d.causes, vec!["DEV003".to_string()]);

    r.dsregcmd = Some(dsreg(&text(INTUNE_URL)));
    let (a, _) = run(&r);
    assert_eq!(status(&a, &DEV003), Status::Pass);
}

#[test]
fn entra_joined_device_not_enrolled_gets_a_path_specific_fix() {
    let r = DeviceReport {
        label: "PC0201".into(),
        dsregcmd: Some(dsreg(&format!(
            "| Device State |\n AzureAdJoined : YES\n DomainJoined : NO\n| Tenant Details |\n TenantId : {TENANT}\n MdmUrl : {INTUNE_URL}\n| User State |\n WorkplaceJoined : NO\n| SSO State |\n AzureAdPrt : YES\n| Diagnostic Data |\n Executing Account Name : AzureAD\\kwong\n"
        ))),
        registry: Some(registry(vec![key(
            r"HKLM\SOFTWARE\Microsoft\Enrollments\Status",
            &[],
        )])),
        ..Default::default()
    };
    let (a, d) = run(&r);
    assert_eq!(a.path(), crate::model::EnrollmentPath::EntraJoin);
    // No GPO on this path: DEV005/6/8 never fail for their absence.
    for check in [&DEV001, &DEV005, &DEV006, &DEV008] {
        assert!(
            matches!(
                skip_reason(&a, check),
                Some(SkipReason::NotApplicable { .. })
            ),
            "{}",
            check.id
        );
    }
    assert_eq!(d.verdict, Verdict::Unknown);
    assert!(d.causes.is_empty());
    assert!(d.fix.contains("only during the join"), "{}", d.fix);
}

#[test]
fn co_managed_device_needs_an_entra_identity_but_no_user_prt() {
    let text = |aad: &str| {
        format!(
            "| Device State |\n AzureAdJoined : {aad}\n DomainJoined : YES\n| User State |\n WorkplaceJoined : NO\n| SSO State |\n AzureAdPrt : NO\n| Diagnostic Data |\n Executing Account Name : CONTOSO\\sccm-user\n"
        )
    };
    let mut r = DeviceReport {
        label: "PC0400".into(),
        dsregcmd: Some(dsreg(&text("NO"))),
        registry: Some(registry(vec![mdm_policy(Some(1), 2)])),
        ..Default::default()
    };
    let (a, d) = run(&r);
    assert_eq!(a.path(), crate::model::EnrollmentPath::CoManagement);
    assert_eq!(status(&a, &DEV001), Status::Fail);
    // The device credential does not use the user's PRT.
    assert!(matches!(
        skip_reason(&a, &DEV002),
        Some(SkipReason::NotApplicable { .. })
    ));
    assert_eq!(d.verdict, Verdict::Blocked);
    assert_eq!(d.causes.first().map(String::as_str), Some("DEV001"));

    r.dsregcmd = Some(dsreg(&text("YES")));
    let (a, _) = run(&r);
    assert_eq!(status(&a, &DEV001), Status::Pass);
}

#[test]
fn entra_joined_device_with_the_autoenroll_policy_is_not_told_to_join_the_domain() {
    let r = DeviceReport {
        label: "PC0202".into(),
        dsregcmd: Some(dsreg(&format!(
            "| Device State |\n AzureAdJoined : YES\n DomainJoined : NO\n| Tenant Details |\n MdmUrl : {INTUNE_URL}\n| User State |\n WorkplaceJoined : NO\n| SSO State |\n AzureAdPrt : YES\n| Diagnostic Data |\n Executing Account Name : AzureAD\\kwong\n"
        ))),
        registry: Some(registry(vec![mdm_policy(Some(1), 1)])),
        ..Default::default()
    };
    let (a, _) = run(&r);
    assert_eq!(status(&a, &DEV001), Status::Pass);
    assert_eq!(status(&a, &DEV005), Status::Pass);
    // Neither joined: the policy alone is not enough.
    let mut r = r;
    r.dsregcmd = Some(dsreg(
        "| Device State |\n AzureAdJoined : NO\n DomainJoined : NO\n| User State |\n WorkplaceJoined : NO\n| SSO State |\n AzureAdPrt : NO\n| Diagnostic Data |\n Executing Account Name : PC0202\\admin\n",
    ));
    let (a, _) = run(&r);
    assert_eq!(status(&a, &DEV001), Status::Fail);
}

#[test]
fn never_triggered_comes_before_a_leftover_key_without_7016() {
    use crate::checks::device::facts::{LOG_DMEDP, LOG_TASKS};
    let mut r = quiet_device();
    r.scheduled_tasks
        .as_mut()
        .into_iter()
        .flatten()
        .for_each(|t| t.last_result = Some(267_011));
    r.event_logs = vec![
        log_info(LOG_DMEDP, Some(true), 3),
        log_info(LOG_TASKS, Some(true), 3),
    ];
    r.registry = Some(registry(vec![
        mdm_policy(Some(1), 1),
        other_mdm_key("0B5A2C11-7D3E-4F60-8A9B-1C2D3E4F5A6B", "WorkspaceONE", 6),
    ]));
    let (a, d) = run(&r);
    assert_eq!(status(&a, &DEV008), Status::Fail);
    assert_eq!(status(&a, &DEV009), Status::Fail);
    assert_eq!(d.verdict, Verdict::NotTriggered);
    assert_eq!(d.causes, vec!["DEV008".to_string(), "DEV009".to_string()]);
}

#[test]
fn a_broken_network_path_is_the_root_cause_of_a_network_failure() {
    use crate::device::host::{EndpointProbe, NetworkEvidence};
    let probes = |tls_ok: bool| NetworkEvidence {
        probes: vec![EndpointProbe {
            url: "https://enrollment.manage.microsoft.com/enrollmentserver/discovery.svc".into(),
            dns: Some(true),
            tcp: Some(true),
            tls: Some(tls_ok),
            certificate_issuer: Some("CN=Contoso Inspection CA".into()),
            location: loc("bundle.json", 7),
            ..Default::default()
        }],
        probed_as_system: Some(true),
        ..Default::default()
    };
    // Event 76 with a WinHTTP timeout and TLS inspection on the enrollment endpoint.
    let mut r = failed_device();
    r.events = vec![ts(107, 10, None), dmedp(76, 10, &["0x0", "0x80192ee2"])];
    r.network = Some(probes(false));
    let (a, d) = run(&r);
    assert_eq!(status(&a, &DEV012), Status::Fail);
    assert_eq!(d.verdict, Verdict::Failed);
    assert_eq!(
        d.causes.first().map(String::as_str),
        Some("DEV012"),
        "{:?}",
        d.causes
    );
    assert!(d.fix.contains("TLS inspection"), "{}", d.fix);
    // A code the service answered with (0x8018002B, MDM URL missing): the device causes it
    // names lead, the network path follows the attempt.
    let mut r = failed_device();
    r.network = Some(probes(true));
    let (_, d) = run(&r);
    assert_eq!(d.causes, ["DEV003", "DEV007", "DEV012"]);
    // No attempt yet: a broken path blocks, it does not "will enroll".
    let mut r = quiet_device();
    r.network = Some(probes(false));
    let (_, d) = run(&r);
    assert_eq!(d.verdict, Verdict::Blocked);
    assert_eq!(d.causes.first().map(String::as_str), Some("DEV012"));
}
