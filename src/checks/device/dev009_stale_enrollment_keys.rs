//! DEV009: no leftover Enrollments key or 7016 "already enrolled" blocks a new enrollment.

use crate::catalog::error_codes::{format_hresult, lookup};
use crate::checks::common::{R_AUTO_TS, R_DIAGNOSE, R_ERRORS_TS};
use crate::device::report::{KEY_ENROLLMENTS, normalize_key_path};
use crate::model::{Area, CheckMeta, Evidence, Finding, NO_PERMISSIONS, Severity, Status};

use super::enrolled::{KeyClass, class_label, classify_enrollment_keys};
use super::evidence::{
    COLLECT_ENROLLMENTS, HRESULT_ALREADY_ENROLLED, event_evidence, event_time, reg_evidence,
};
use super::facts::Facts;
use super::shared::{finding, no_evidence};

pub const META: CheckMeta = CheckMeta {
    id: "DEV009",
    name: "stale-enrollment-keys",
    title: "No stale enrollment keys block a new enrollment",
    severity: Severity::High,
    area: Area::Device,
    permissions: NO_PERMISSIONS,
    what_it_checks: "Looks for Task Scheduler event 7016 with 2149056522 (0x8018000A), and for subkeys of \
        HKLM\\SOFTWARE\\Microsoft\\Enrollments that belong to another MDM, another tenant or another user. \
        Names the key to delete; never the live \"MS DM Server\" enrollment of the audited tenant. \
        Placeholder keys such as FFFFFFFF-… are listed for review, not deletion.",
    why_it_matters: "Leftover enrollment keys make Windows think the device is already enrolled: the \
        auto-enrollment task does not start and enrollment fails with MENROLL_E_DEVICE_ALREADY_ENROLLED. \
        Enrollment paths: gpo-hybrid and co-management; entra-join when a device is re-joined without reset.",
    how_to_fix: "On the device, as administrator: export then delete the named subkey under \
        HKLM\\SOFTWARE\\Microsoft\\Enrollments, delete its task folder under Task Scheduler > Microsoft > \
        Windows > EnterpriseMgmt, then run gpupdate /force and sign in again. If another user enrolled the \
        device, disconnect that work account in Settings > Accounts > Access work or school instead.",
    references: &[R_DIAGNOSE, R_AUTO_TS, R_ERRORS_TS],
};

pub fn evaluate(f: &Facts) -> Finding {
    let sevens = f.already_enrolled_7016();
    let keys = classify_enrollment_keys(f.report, f.tenant_id.as_deref(), f.user.as_deref());
    let covered = f
        .report
        .registry
        .as_ref()
        .is_some_and(|r| r.covers(KEY_ENROLLMENTS));
    let stale: Vec<_> = keys.iter().filter(|k| k.class.is_stale()).collect();
    let review: Vec<_> = keys
        .iter()
        .filter(|k| matches!(k.class, KeyClass::Placeholder | KeyClass::Review { .. }))
        .collect();
    let live = keys.iter().find(|k| k.class == KeyClass::Live);

    let mut evidence: Vec<Evidence> = Vec::new();
    for &(_, e) in sevens.iter().rev().take(1) {
        evidence.push(event_evidence(
            e,
            format!(
                "event 7016 at {}: the auto-enrollment task could not start, error 2149056522 = {}",
                event_time(e),
                code_name(HRESULT_ALREADY_ENROLLED)
            ),
        ));
    }
    for k in &stale {
        evidence.push(reg_evidence(
            k.key,
            format!(
                "{}: {} ({} values)",
                k.key.path,
                class_label(&k.class),
                k.value_count()
            ),
        ));
    }
    let review_note = |evidence: &mut Vec<Evidence>| {
        for k in &review {
            evidence.push(reg_evidence(
                k.key,
                format!(
                    "{}: {} — review, do not delete",
                    k.key.path,
                    class_label(&k.class)
                ),
            ));
        }
    };

    if sevens.is_empty() && stale.is_empty() {
        if !covered {
            return no_evidence(
                f,
                &META,
                COLLECT_ENROLLMENTS,
                "HKLM\\SOFTWARE\\Microsoft\\Enrollments was not exported and no Task Scheduler 7016 was seen",
            );
        }
        let mut evidence = Vec::new();
        if let Some(l) = live {
            evidence.push(reg_evidence(
                l.key,
                format!("{}: live Intune enrollment (kept)", l.key.path),
            ));
        }
        review_note(&mut evidence);
        if evidence.is_empty() {
            let file = f
                .report
                .registry
                .as_ref()
                .and_then(|r| {
                    r.keys.iter().find(|k| {
                        normalize_key_path(&k.path)
                            .starts_with(&normalize_key_path(KEY_ENROLLMENTS))
                    })
                })
                .map(|k| k.location.file.clone())
                .unwrap_or_default();
            evidence.push(Evidence::new("registry", "no enrollment subkeys").at(file));
        }
        return finding(
            f,
            &META,
            Status::Pass,
            "no stale enrollment keys and no Task Scheduler 7016 (0x8018000A)",
            evidence,
        );
    }
    review_note(&mut evidence);

    // Delete the stale key with the most values: the leftover of a real enrollment.
    let target = stale.iter().copied().reduce(|best, k| {
        if k.value_count() > best.value_count() {
            k
        } else {
            best
        }
    });
    let status = if !sevens.is_empty() || !f.enrolled.is_enrolled() {
        Status::Fail
    } else {
        Status::Warn
    };
    let summary = match (target, sevens.is_empty()) {
        (Some(t), false) => format!(
            "the auto-enrollment task cannot start (event 7016, 0x8018000A: already enrolled) because of a stale enrollment: delete {} ({})",
            t.key.path,
            class_label(&t.class)
        ),
        (Some(t), true) => format!("stale enrollment key {} ({})", t.key.path, class_label(&t.class)),
        (None, _) if covered => "event 7016 with 0x8018000A (already enrolled), but the Enrollments export shows no stale key: the leftover may sit under Enrollments\\Status or OMADM\\Accounts".to_string(),
        (None, _) => "event 7016 with 0x8018000A (already enrolled): a stale enrollment blocks the task; export HKLM\\SOFTWARE\\Microsoft\\Enrollments to name it".to_string(),
    };
    let mut remediation = match target {
        Some(t) => {
            let guid = t.key.leaf();
            format!(
                "Back up and delete the stale key: `reg export \"{p}\" stale-enrollment.reg` then `reg delete \"{p}\" /f`; remove the same GUID ({guid}) under Enrollments\\Status, EnterpriseResourceManager\\Tracked, PolicyManager\\AdmxInstalled, PolicyManager\\Providers and Provisioning\\OMADM\\Accounts|Logger|Sessions, and the \\Microsoft\\Windows\\EnterpriseMgmt\\{guid} task folder if present. Then run `gpupdate /force` (or restart) so the auto-enrollment task runs again.",
                p = t.key.path
            )
        }
        None => format!(
            "Collect {COLLECT_ENROLLMENTS}, find the leftover enrollment (another MDM, tenant or user) and delete it, then run `gpupdate /force`."
        ),
    };
    if let Some(l) = live {
        remediation.push_str(&format!(
            " Keep {}: it is the live Intune enrollment.",
            l.key.path
        ));
    }
    let others: Vec<String> = stale
        .iter()
        .filter(|k| target.is_none_or(|t| t.key.path != k.key.path))
        .map(|k| k.key.path.clone())
        .collect();
    if !others.is_empty() {
        remediation.push_str(&format!(
            " Also stale (review and delete the same way): {}.",
            others.join(", ")
        ));
    }
    if !review.is_empty() {
        let names: Vec<&str> = review.iter().map(|k| k.key.leaf()).collect();
        remediation.push_str(&format!(
            " Leave {} alone unless you know who created it (placeholder/incomplete, review only).",
            names.join(", ")
        ));
    }
    finding(f, &META, status, summary, evidence).with_remediation(remediation)
}

/// `0x8018000A (MENROLL_E_DEVICE_ALREADY_ENROLLED)`: short enough for an evidence line.
fn code_name(code: u32) -> String {
    match lookup(code).and_then(|e| e.symbol) {
        Some(sym) => format!("{} ({sym})", format_hresult(code)),
        None => format_hresult(code),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::device::DEV009;
    use crate::checks::device::testutil::*;

    #[allow(unused_imports)]
    use crate::model::{CheckMeta, EnrollmentPath, Finding, SkipReason, Status, Subject, Verdict};

    this_check!(META, evaluate);

    #[test]
    fn second_intune_key_of_another_user_is_stale_but_live_one_kept() {
        let mut r = enrolled_hybrid();
        r.registry = Some(registry(vec![
            intune_key(
                "11111111-2C4D-4E8F-9A1B-3C5D7E9F1A2B",
                TENANT,
                "old@contoso.com",
            ),
            intune_key(
                "22222222-2C4D-4E8F-9A1B-3C5D7E9F1A2B",
                TENANT,
                "jdoe@contoso.com",
            ),
        ]));
        let keys = classify_enrollment_keys(&r, Some(TENANT), Some("jdoe@contoso.com"));
        assert!(matches!(keys[0].class, KeyClass::OtherUser { .. }));
        assert_eq!(keys[1].class, KeyClass::Live);
        // Enrolled with a leftover: warn, never delete the live key.
        let f = check(&r);
        assert_eq!(f.status, Status::Warn);
        assert!(f.summary.contains("11111111"));
        assert!(f.remediation.contains("Keep"));
    }

    #[test]
    fn dev009_names_the_stale_key_with_most_values_and_spares_placeholder() {
        let (a, d) = run(&stale_device());
        let f = a.get(&DEV009).cloned().unwrap_or_else(|| panic!("DEV009"));
        assert_eq!(f.status, Status::Fail);
        let target = r"HKLM\SOFTWARE\Microsoft\Enrollments\2B8E1F0C-7D6A-4B59-8C3D-E2F1A0B9C8D7";
        assert!(f.summary.contains(target), "{}", f.summary);
        assert!(
            f.remediation
                .contains(&format!("reg delete \"{target}\" /f"))
        );
        assert!(
            !f.remediation
                .contains("reg delete \"HKLM\\SOFTWARE\\Microsoft\\Enrollments\\FFFFFFFF")
        );
        assert!(
            f.remediation.contains("1B8E1F0C"),
            "other stale keys are listed"
        );
        assert!(
            f.evidence
                .iter()
                .any(|e| e.detail.contains("FFFFFFFF") && e.detail.contains("review"))
        );
        assert_eq!(d.verdict, Verdict::Failed);
        assert_eq!(d.causes.first().map(String::as_str), Some("DEV009"));
        assert!(d.fix.contains(target));

        let (a, _) = run(&enrolled_hybrid());
        assert_eq!(status(&a, &DEV009), Status::Pass);
    }
}
