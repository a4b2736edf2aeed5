//! AP002: exactly one Autopilot deployment profile applies to the device.

use super::facts::{AutopilotFacts, COLLECT_AUTOPILOT, graph, identity_location, profile_location};
use super::{AUTOPILOT_WITH_DEVICE_GROUPS, R_AUTOPILOT_API, R_AUTOPILOT_PROFILES};
use crate::checks::common::or_finding;
use crate::device::autopilot::AutopilotEventKind;
use crate::model::{Area, CheckMeta, Evidence, Finding, Severity, SkipReason, Status};
use crate::tenant::autopilot::{AutopilotProfile, ProfileAssignmentStatus, ProfileReach};

pub const META: CheckMeta = CheckMeta {
    id: "AP002",
    name: "deployment-profile-not-assigned",
    title: "Exactly one Autopilot deployment profile applies to the device",
    severity: Severity::High,
    area: Area::Autopilot,
    permissions: AUTOPILOT_WITH_DEVICE_GROUPS,
    what_it_checks: "Reads the registered device's profile assignment status (beta \
        deploymentProfileAssignmentStatus) and works out which deployment profiles reach it: each profile's \
        group assignments against the device's transitive Entra groups (GET \
        /devices(deviceId=…)/transitiveMemberOf), an excluded group removing it, an \"all devices\" \
        assignment counting only when no group-targeted profile does. Fails when no profile is assigned \
        (notAssigned, or none reaches the device's groups) or the assignment failed, and when two \
        group-targeted profiles reach it: Intune then applies the oldest one (memdocs autopilot/profiles.md, \
        \"Autopilot profile priority\"), and the finding names both and the one that wins.",
    why_it_matters: "Without an assigned profile the device finds nothing at OOBE (Autopilot event 815, \"no \
        profile assigned and no default profile\") and goes through the ordinary setup; with two, the \
        profile that wins by age is seldom the one meant (a different join type, name or mode). Intune \
        assigns the profile some time after the device joins the group, so a new device may still show \
        pending. Enrollment paths: entra-join and gpo-hybrid through Autopilot.",
    how_to_fix: "Intune admin center > Devices > Windows > Enrollment > Deployment profiles: assign the \
        intended profile to a group that holds the device (a dynamic group on [ZTDId] or the group tag, or an \
        assigned group of its Autopilot object), remove the device from the groups of other profiles (or \
        exclude it), wait until the Autopilot device shows the profile as Assigned, then reset the device.",
    references: &[R_AUTOPILOT_PROFILES, R_AUTOPILOT_API],
};

/// Which groups of the device a profile reaches it through, for evidence.
fn via(f: &AutopilotFacts, p: &AutopilotProfile) -> String {
    match f.device_groups() {
        Ok(Some(groups)) => match p.reach(groups) {
            ProfileReach::Groups(g) => {
                let names: Vec<String> = g
                    .iter()
                    .map(|id| format!("\"{}\"", f.group_name(id)))
                    .collect();
                format!("through group {}", names.join(", "))
            }
            ProfileReach::AllDevices => "through its \"all devices\" assignment".into(),
            ProfileReach::Excluded => "excluded".into(),
            ProfileReach::None => "not assigned to the device's groups".into(),
        },
        _ => "device groups unknown".into(),
    }
}

/// The profiles and the groups they are assigned to, for the evidence of a missing profile.
fn assignments_evidence(profiles: &[AutopilotProfile], f: &AutopilotFacts) -> Vec<Evidence> {
    profiles
        .iter()
        .map(|p| {
            let targets: Vec<String> = p
                .assignments
                .iter()
                .map(|a| match a.target.group_id.as_deref() {
                    Some(g) => format!("group \"{}\"", f.group_name(g)),
                    None => a
                        .target
                        .odata_type
                        .as_deref()
                        .unwrap_or("target")
                        .trim_start_matches("#microsoft.graph.")
                        .to_string(),
                })
                .collect();
            graph(
                format!(
                    "profile \"{}\" assigned to {}",
                    p.name(),
                    if targets.is_empty() {
                        "nothing".to_string()
                    } else {
                        targets.join(", ")
                    }
                ),
                profile_location(p),
            )
        })
        .collect()
}

/// The device's own events about its missing profile: 815 (no profile assigned, no default
/// profile) and 809 (the assigned profile was deleted).
fn profile_events(f: &AutopilotFacts) -> Vec<Evidence> {
    f.evidence
        .into_iter()
        .flat_map(|e| &e.events)
        .filter_map(|e| {
            let what = match e.kind {
                AutopilotEventKind::NoProfileAssigned => {
                    "no profile assigned to the device and no default profile"
                }
                AutopilotEventKind::AssignedProfileMissing => "the assigned profile was deleted",
                _ => return None,
            };
            Some(
                Evidence::new("autopilot", format!("event {} ({what})", e.event_id))
                    .at(e.location.to_string()),
            )
        })
        .collect()
}

/// AP002: one profile assigned, no conflict.
pub fn evaluate(f: &AutopilotFacts) -> Finding {
    or_finding!(f.on_path(&META));
    let (identity, _) = or_finding!(f.registered(&META));
    let (profiles, profiles_ep) = match f.cf.snap.sources.autopilot_profiles.get() {
        Ok(v) => v,
        Err(r) => {
            return r.finding_of(
                &META,
                f.subject.clone(),
                "the Autopilot deployment profiles",
            );
        }
    };
    let status = identity.profile_status();
    let status_ev = graph(
        format!(
            "deploymentProfileAssignmentStatus {}",
            identity
                .deployment_profile_assignment_status
                .as_deref()
                .unwrap_or("(not read)")
        ),
        identity_location(identity),
    );
    let groups = f.device_groups();
    let mut groups_ev = match &groups {
        Ok(Some(g)) => {
            let names: Vec<String> = g
                .iter()
                .map(|id| format!("\"{}\"", f.group_name(id)))
                .collect();
            vec![Evidence::new(
                "graph",
                format!(
                    "the device is in {} group(s){}",
                    g.len(),
                    if names.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", names.join(", "))
                    }
                ),
            )]
        }
        Ok(None) => vec![Evidence::new(
            "graph",
            "the device's groups are unknown (no Entra object with its deviceId was looked up)",
        )],
        Err(r) => vec![Evidence::new(
            "collection",
            format!("the device's groups: {}", r.describe()),
        )],
    };
    let resolution = f.resolution(profiles);
    if let Some(r) = &resolution
        && r.is_conflict()
    {
        let winner = r.applied.map(|p| p.name()).unwrap_or("?");
        let names: Vec<String> = r
            .group_targeted
            .iter()
            .map(|p| {
                format!(
                    "\"{}\" ({}, created {})",
                    p.name(),
                    via(f, p),
                    p.created_date_time.as_deref().unwrap_or("?")
                )
            })
            .collect();
        let mut out = META
            .finding(
                Status::Fail,
                f.subject.clone(),
                format!(
                    "{} deployment profiles reach the device: {}; Intune applies the oldest, \"{winner}\"",
                    r.group_targeted.len(),
                    names.join(" and ")
                ),
            )
            .with_remediation(format!(
                "Keep one profile for the device: remove it from the other profiles' groups (or exclude \
                 it), so that only the intended profile reaches it (now \"{winner}\" wins by age)."
            ));
        out.evidence.extend(r.group_targeted.iter().map(|p| {
            graph(
                format!("profile \"{}\" {}", p.name(), via(f, p)),
                profile_location(p),
            )
        }));
        out.evidence.push(status_ev);
        return out;
    }
    let applied = resolution.as_ref().and_then(|r| r.applied);
    let none_reaches = resolution.as_ref().is_some_and(|r| r.applied.is_none());
    let fix_none = "Assign a deployment profile to a group that holds the device (Intune admin center > \
        Devices > Windows > Enrollment > Deployment profiles > Assignments), wait until the Autopilot device \
        shows it as Assigned, then reset the device.";
    let mut out = match status {
        ProfileAssignmentStatus::NotAssigned | ProfileAssignmentStatus::Failed => {
            let what = if status == ProfileAssignmentStatus::Failed {
                "the profile assignment failed"
            } else {
                "no deployment profile is assigned"
            };
            let why = if none_reaches {
                ": no profile is assigned to any of the device's groups"
            } else {
                ""
            };
            let mut out = META
                .finding(
                    Status::Fail,
                    f.subject.clone(),
                    format!(
                        "Serial {} is registered, but {what} (Intune: {}){why}",
                        identity.name(),
                        identity
                            .deployment_profile_assignment_status
                            .as_deref()
                            .unwrap_or("?")
                    ),
                )
                .with_remediation(fix_none);
            out.evidence.push(status_ev);
            out.evidence.extend(assignments_evidence(profiles, f));
            out.evidence.extend(profile_events(f));
            out
        }
        ProfileAssignmentStatus::Pending => META
            .finding(
                Status::Warn,
                f.subject.clone(),
                format!(
                    "The profile assignment of serial {} is still pending in Intune",
                    identity.name()
                ),
            )
            .with_evidence(status_ev)
            .with_remediation(
                "Wait until the Autopilot device shows the profile as Assigned (it can take a while after \
                 the device joins the group), then reset the device.",
            ),
        s if s.is_assigned() => {
            let name = applied
                .map(|p| p.name().to_string())
                .or_else(|| {
                    f.evidence.and_then(|e| {
                        e.profiles
                            .iter()
                            .find_map(|p| p.profile_name.clone())
                    })
                })
                .unwrap_or_else(|| "a profile".into());
            META.finding(
                Status::Pass,
                f.subject.clone(),
                format!("One deployment profile is assigned: \"{name}\""),
            )
            .with_evidence(status_ev)
        }
        // The status was not read (v1.0) or says unknown: decide by the groups when known.
        _ => match (applied, none_reaches) {
            (Some(p), _) => META
                .finding(
                    Status::Pass,
                    f.subject.clone(),
                    format!("One deployment profile reaches the device: \"{}\"", p.name()),
                )
                .with_evidence(graph(
                    format!("profile \"{}\" {}", p.name(), via(f, p)),
                    profile_location(p),
                )),
            (None, true) => {
                let mut out = META
                    .finding(
                        Status::Fail,
                        f.subject.clone(),
                        "No deployment profile is assigned to any of the device's groups",
                    )
                    .with_remediation(fix_none);
                out.evidence.extend(assignments_evidence(profiles, f));
                out.evidence.extend(profile_events(f));
                out
            }
            (None, false) => {
                return match groups {
                    Err(r) => {
                        r.finding_of(&META, f.subject.clone(), "the device's group memberships")
                    }
                    Ok(_) => META.skip(
                        f.subject.clone(),
                        SkipReason::NoEvidence {
                            collect: format!(
                                "the device's Entra groups (its Entra object) or the beta profile assignment status; or {COLLECT_AUTOPILOT}"
                            ),
                        },
                    ),
                };
            }
        },
    };
    out.evidence.append(&mut groups_ev);
    out.evidence.push(graph(
        format!("{} deployment profile(s)", profiles.len()),
        profiles_ep,
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use serde_json::json;

    fn device() -> crate::device::report::DeviceReport {
        report(Some(downloaded(TENANT, "Contoso user-driven", 0, 0)))
    }

    #[test]
    fn one_assigned_profile_passes() {
        let f = eval(&snapshot(), &device(), evaluate);
        assert_status(&f, Status::Pass);
        assert!(f.summary.contains("Contoso user-driven"), "{}", f.summary);
    }

    #[test]
    fn not_assigned_fails_with_the_profiles_groups() {
        let mut snap = snapshot();
        set(
            &mut snap.sources.autopilot_devices,
            json!([identity("notAssigned")]),
        );
        set(
            &mut snap.sources.device_group_memberships,
            json!({"members": {ENTRA_ID: []}}),
        );
        let f = eval(&snap, &device(), evaluate);
        assert_status(&f, Status::Fail);
        assert!(f.summary.contains("no deployment profile"), "{}", f.summary);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.detail.contains("Contoso user-driven")),
            "{:?}",
            f.evidence
        );
    }

    #[test]
    fn two_profiles_from_two_groups_fail_naming_both_and_the_winner() {
        let mut snap = snapshot();
        set(
            &mut snap.sources.autopilot_profiles,
            json!([
                profile(
                    "p1",
                    "Newer kiosk",
                    "2026-02-01T00:00:00Z",
                    GROUP_B,
                    "shared"
                ),
                profile(
                    "p2",
                    "Contoso user-driven",
                    "2025-01-15T09:00:00Z",
                    GROUP_A,
                    "singleUser"
                ),
            ]),
        );
        set(
            &mut snap.sources.device_group_memberships,
            json!({"members": {ENTRA_ID: [GROUP_A, GROUP_B]}}),
        );
        let f = eval(&snap, &device(), evaluate);
        assert_status(&f, Status::Fail);
        assert!(
            f.summary.contains("Newer kiosk")
                && f.summary
                    .contains("applies the oldest, \"Contoso user-driven\""),
            "{}",
            f.summary
        );
    }

    #[test]
    fn skips_without_registration_or_groups() {
        let mut snap = snapshot();
        set(&mut snap.sources.autopilot_devices, json!([]));
        let f = eval(&snap, &device(), evaluate);
        assert_status(&f, Status::Skip);
        let mut snap = snapshot();
        set(
            &mut snap.sources.autopilot_devices,
            json!([identity("unknown")]),
        );
        denied(
            &mut snap.sources.device_group_memberships,
            "GroupMember.Read.All",
        );
        let f = eval(&snap, &device(), evaluate);
        assert_permission_skip(&f, "GroupMember.Read.All");
        assert_not_applicable(&eval(
            &snapshot(),
            &{
                let mut r = report(None);
                r.hardware = None;
                r
            },
            evaluate,
        ));
    }
}
