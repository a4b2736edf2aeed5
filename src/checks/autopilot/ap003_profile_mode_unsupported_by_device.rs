//! AP003: the deployment profile's mode suits the device (TPM attestation, hybrid join user).

use super::facts::{AutopilotFacts, graph, identity_location, profile_location};
use super::{
    AUTOPILOT_WITH_DEVICE_GROUPS, R_AUTOPILOT_KNOWN_ISSUES, R_AUTOPILOT_OOBE_TS,
    R_AUTOPILOT_SELF_DEPLOYING,
};
use crate::checks::common::or_finding;
use crate::device::autopilot::{JoinMethod, tpm_can_attest};
use crate::model::{Area, CheckMeta, Evidence, Finding, Severity, SkipReason, Status};
use crate::tenant::autopilot::{DeploymentMode, ProfileJoin};

pub const META: CheckMeta = CheckMeta {
    id: "AP003",
    name: "profile-mode-unsupported-by-device",
    title: "The deployment profile's mode suits the device",
    severity: Severity::High,
    area: Area::Autopilot,
    permissions: AUTOPILOT_WITH_DEVICE_GROUPS,
    what_it_checks: "Takes the profile that applies (by the device's groups, else the one the device names) \
        and the profile bits the device holds (CloudAssignedOobeConfig, CloudAssignedDomainJoinMethod). For \
        self-deploying mode, and for pre-provisioning, it compares the TPM facts (tpmtool or the collector: \
        TPM present, version, capable of attestation) with what these modes need: a TPM 2.0 that can attest \
        (memdocs autopilot/self-deploying.md, autopilot/pre-provision.md); attestation errors the device \
        logged (0x800705B4, 0x801C03EA, 0x81039001, 0x81039023, 0x81039024) confirm it (memdocs \
        autopilot/known-issues.md). For a hybrid join profile it fails when a user is assigned to the \
        Autopilot device (\"assign user\"), the most common cause of 0x80070774 (memdocs \
        autopilot/troubleshoot-oobe.md).",
    why_it_matters: "Self-deploying and pre-provisioning join Entra ID with the device's TPM instead of a \
        user: a TPM 1.2, a virtual machine or a TPM that cannot attest stops them at \"Securing your \
        hardware\" with a timeout (0x800705B4) or an attestation error. \"Assign user\" joins Entra ID at the \
        first sign-in screen, which leaves a hybrid join device unable to join the domain (\"Something went \
        wrong\", 0x80070774); it is meant for Entra join profiles only. Enrollment paths: entra-join and \
        gpo-hybrid through Autopilot.",
    how_to_fix: "For self-deploying or pre-provisioning, use hardware with a TPM 2.0 that can attest (update \
        the TPM firmware; no virtual machines), or give the device a user-driven profile. For a hybrid join \
        profile, remove the user assignment from the Autopilot device (Devices > Windows > Enrollment > \
        Devices > the device > Unassign user).",
    references: &[
        R_AUTOPILOT_SELF_DEPLOYING,
        R_AUTOPILOT_KNOWN_ISSUES,
        R_AUTOPILOT_OOBE_TS,
    ],
};

/// Attestation failures Microsoft names for self-deploying and pre-provisioning.
const ATTESTATION_CODES: &[&str] = &[
    "0x800705B4",
    "0x801C03EA",
    "0x81039001",
    "0x81039023",
    "0x81039024",
];

/// AP003: the mode against the TPM, the join type against "assign user".
pub fn evaluate(f: &AutopilotFacts) -> Finding {
    or_finding!(f.on_path(&META));
    let profiles = f.cf.snap.sources.autopilot_profiles.data();
    let profile = profiles.and_then(|p| f.profile(p));
    let ev = f.evidence;
    let mut evidence: Vec<Evidence> = Vec::new();
    if let Some(p) = profile {
        evidence.push(graph(
            format!(
                "profile \"{}\": {} join, deviceUsageType {}, pre-provisioning {}",
                p.name(),
                match p.join() {
                    ProfileJoin::EntraJoin => "Entra",
                    ProfileJoin::HybridJoin => "hybrid",
                    ProfileJoin::Unknown => "unknown",
                },
                p.device_usage_type().unwrap_or("unknown"),
                if p.allows_preprovisioning() {
                    "allowed"
                } else {
                    "not allowed"
                }
            ),
            profile_location(p),
        ));
    }
    // Hybrid join with a user assigned: 0x80070774.
    let hybrid = profile.is_some_and(|p| p.join() == ProfileJoin::HybridJoin)
        || ev.and_then(|e| e.join_method()) == Some(JoinMethod::HybridJoin);
    if hybrid
        && let Some(i) = f.identity()
        && let Some(user) = i.assigned_user()
    {
        return META
            .finding(
                Status::Fail,
                f.subject.clone(),
                format!(
                    "The hybrid join profile is used with a user assigned to the device ({user}): \"assign user\" is for Entra join only and makes hybrid join fail (0x80070774)"
                ),
            )
            .with_evidence(graph(
                format!("Autopilot device {}: userPrincipalName {user}", i.name()),
                identity_location(i),
            ))
            .with_remediation(
                "Remove the user assignment from the Autopilot device (Intune admin center > Devices > \
                 Windows > Enrollment > Devices > the device > Unassign user), then reset the device.",
            );
    }
    let self_deploying = profile.is_some_and(|p| p.mode() == DeploymentMode::SelfDeploying)
        || ev.and_then(|e| e.self_deploying()) == Some(true);
    let device_needs = ev.and_then(|e| e.needs_tpm_attestation()) == Some(true);
    let preprovisioning = profile.is_some_and(|p| p.allows_preprovisioning());
    let mode = if self_deploying {
        "self-deploying"
    } else if device_needs || preprovisioning {
        "pre-provisioning"
    } else {
        ""
    };
    if mode.is_empty() {
        if profile.is_none() && ev.and_then(|e| e.needs_tpm_attestation()).is_none() {
            return META.skip(
                f.subject.clone(),
                SkipReason::NoEvidence {
                    collect: "the profile that applies (the device's groups or the profile it downloaded)".into(),
                },
            );
        }
        let mut out = META.finding(
            Status::Pass,
            f.subject.clone(),
            "A user-driven profile: no TPM attestation is needed and no hybrid join user conflict",
        );
        out.evidence = evidence;
        return out;
    }
    let mut errors: Vec<&str> = ev
        .map(|e| e.autopilot_errors())
        .unwrap_or_default()
        .iter()
        .filter(|e| {
            ATTESTATION_CODES
                .iter()
                .any(|c| c.eq_ignore_ascii_case(&e.code))
        })
        .map(|e| e.code.as_str())
        .collect();
    // The same code logged by several events is named once.
    errors.sort_unstable();
    errors.dedup();
    let tpm = f.cf.report.tpm.as_ref();
    if let Some(t) = tpm {
        evidence.push(
            Evidence::new(
                "device",
                format!(
                    "TPM present {}, version {}, capable of attestation {}",
                    t.present
                        .map(|b| b.to_string())
                        .unwrap_or_else(|| "unknown".into()),
                    t.major_version().unwrap_or("unknown"),
                    t.attestation_capable
                        .map(|b| b.to_string())
                        .unwrap_or_else(|| "unknown".into())
                ),
            )
            .at(t.location.to_string()),
        );
    }
    let can_attest = tpm.and_then(tpm_can_attest);
    // Allowed pre-provisioning is used only when a technician starts it: without the device's
    // own bits or errors, a TPM that cannot attest is a warning.
    let definite = self_deploying || device_needs || !errors.is_empty();
    let fix = "Use hardware with a TPM 2.0 that can attest (update the TPM firmware; no virtual \
        machines), or assign the device a user-driven profile.";
    let (status, summary) = match (can_attest, errors.is_empty()) {
        (_, false) => (
            Status::Fail,
            format!(
                "The {mode} profile needs TPM 2.0 attestation and the device logged attestation failures: {}",
                errors.join(", ")
            ),
        ),
        (Some(false), true) => (
            if definite { Status::Fail } else { Status::Warn },
            format!(
                "The {mode} profile needs a TPM 2.0 that can attest; this device's TPM cannot (0x800705B4 or 0x801C03EA at \"Securing your hardware\")"
            ),
        ),
        (Some(true), true) => (
            Status::Pass,
            format!(
                "The {mode} profile needs TPM 2.0 attestation, and the device's TPM 2.0 can attest"
            ),
        ),
        (None, true) => {
            let mut out = META.skip(
                f.subject.clone(),
                SkipReason::NoEvidence {
                    collect: format!(
                        "the TPM facts the {mode} profile needs (`tpmtool getdeviceinformation`, or the collector bundle's TPM section)"
                    ),
                },
            );
            out.evidence = evidence;
            return out;
        }
    };
    let failing = status != Status::Pass;
    let mut out = META.finding(status, f.subject.clone(), summary);
    out.evidence = evidence;
    if failing {
        out.remediation = fix.into();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use serde_json::json;

    fn self_deploying_tenant() -> crate::tenant::snapshot::TenantSnapshot {
        let mut snap = snapshot();
        set(
            &mut snap.sources.autopilot_profiles,
            json!([profile(
                "p1",
                "Kiosk",
                "2025-01-15T09:00:00Z",
                GROUP_A,
                "shared"
            )]),
        );
        snap
    }

    #[test]
    fn user_driven_passes_without_tpm_facts() {
        let f = eval(
            &snapshot(),
            &report(Some(downloaded(TENANT, "Contoso user-driven", 0, 0))),
            evaluate,
        );
        assert_status(&f, Status::Pass);
    }

    #[test]
    fn self_deploying_needs_an_attesting_tpm2() {
        let snap = self_deploying_tenant();
        let mut r = report(Some(downloaded(TENANT, "Kiosk", 64 | 32, 0)));
        r.tpm = Some(tpm("1.2", false));
        assert_status(&eval(&snap, &r, evaluate), Status::Fail);
        r.tpm = Some(tpm("2.0, 0, 1.38", true));
        assert_status(&eval(&snap, &r, evaluate), Status::Pass);
        r.tpm = None;
        let f = eval(&snap, &r, evaluate);
        assert_status(&f, Status::Skip);
        assert!(f.summary.contains("tpmtool"), "{}", f.summary);
    }

    #[test]
    fn hybrid_join_with_an_assigned_user_fails() {
        let mut snap = snapshot();
        let mut p = profile(
            "p1",
            "Hybrid",
            "2025-01-15T09:00:00Z",
            GROUP_A,
            "singleUser",
        );
        p["@odata.type"] =
            json!("#microsoft.graph.activeDirectoryWindowsAutopilotDeploymentProfile");
        set(&mut snap.sources.autopilot_profiles, json!([p]));
        let mut i = identity("assignedInSync");
        i["userPrincipalName"] = json!("jdoe@contoso.com");
        set(&mut snap.sources.autopilot_devices, json!([i]));
        let f = eval(
            &snap,
            &report(Some(downloaded(TENANT, "Hybrid", 0, 1))),
            evaluate,
        );
        assert_status(&f, Status::Fail);
        assert!(f.summary.contains("0x80070774"), "{}", f.summary);
    }

    #[test]
    fn not_applicable_off_autopilot() {
        let mut snap = snapshot();
        set(&mut snap.sources.autopilot_devices, json!([]));
        assert_not_applicable(&eval(&snap, &report(None), evaluate));
    }
}
