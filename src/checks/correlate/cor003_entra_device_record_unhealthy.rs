//! COR003: the Entra device object with the report's DeviceId is healthy.

use chrono::{DateTime, Duration, Utc};

use crate::checks::common::{ENTRA_DEVICES, R_DEVICE_API, R_DSREGCMD, R_HYBRID_PLAN};
use crate::device::report::DeviceReport;
use crate::model::{
    Area, CheckMeta, EnrollmentPath, Evidence, Finding, Severity, SkipReason, Status,
};
use crate::tenant::snapshot::{EntraDevice, TrustType};

use super::facts::CorrelationFacts;
use super::records::{
    describe_entra, device_records, entra_by_id, entra_location, entra_namesakes, graph,
};

pub const META: CheckMeta = CheckMeta {
    id: "COR003",
    name: "entra-device-record-unhealthy",
    title: "The Entra device object is healthy",
    severity: Severity::Medium,
    area: Area::Correlation,
    permissions: ENTRA_DEVICES,
    what_it_checks: "For the Entra device with the report's DeviceId: disabled account, trustType that does not \
        match the join (ServerAd for hybrid), a hybrid object still pending (Microsoft's own query for pending \
        devices, SupportArticles azure/active-directory/pending-devices.md: trustType ServerAd, profileType not \
        RegisteredDevice, no alternativeSecurityIds, that is no device key registered), \
        the same device both Workplace registered and hybrid joined (dual state), a stale sign-in, or several \
        objects with the same display name.",
    why_it_matters: "A disabled or pending object cannot authenticate; a dual-state device may enroll with the \
        registered identity instead of the hybrid one; duplicates confuse both admins and correlation. \
        Enrollment paths: gpo-hybrid and co-management mostly; entra-join for disabled or stale objects.",
    how_to_fix: "Entra admin center > Identity > Devices > All devices: enable the device or remove the wrong \
        duplicates. For a pending hybrid object, sign in on the device so it completes registration. For dual \
        state, remove the work account registration on the device (Settings > Accounts > Access work or \
        school) and block new registrations on hybrid devices by policy.",
    references: &[R_DSREGCMD, R_HYBRID_PLAN, R_DEVICE_API],
};

/// An Entra device that has not signed in for this long is stale (Entra's own guidance).
pub const STALE_SIGN_IN_DAYS: i64 = 90;

pub fn evaluate(f: &CorrelationFacts) -> Finding {
    let (report, keys, path, subject, as_of) = (f.report, f.keys, f.path, f.subject, f.as_of);
    let (devices, device_id) = match device_records(
        &META,
        f,
        &f.snap.sources.entra_devices,
        "the Entra device records",
    ) {
        Ok(v) => v,
        Err(finding) => return *finding,
    };
    let found = entra_by_id(f.snap, devices, device_id);
    let Some(d) = found.first().copied() else {
        return META.skip(
            subject.clone(),
            SkipReason::NoEvidence {
                collect: format!("an Entra device object with deviceId {device_id} (see COR002)"),
            },
        );
    };
    let mut fails: Vec<String> = Vec::new();
    let mut warns: Vec<String> = Vec::new();
    let mut fixes: Vec<&str> = Vec::new();
    let mut evidence = vec![graph(describe_entra(d), entra_location(d))];
    let expected = expected_trust(report, path);
    let hybrid = expected == Some(TrustType::ServerAd);

    if d.account_enabled == Some(false) {
        fails.push("the Entra device object is disabled".into());
        fixes.push("Enable the device in Entra admin center > Devices > All devices (if it was disabled on purpose, find out why first).");
    }
    if let Some(exp) = expected
        && d.trust() != exp
        && d.trust() != TrustType::Unknown
    {
        let device_side = report.dsregcmd.as_ref().and_then(|ds| {
            let f = ds.field("Device State", "AzureAdJoined")?;
            let g = ds.field("Device State", "DomainJoined")?;
            Some(
                Evidence::new(
                    "dsregcmd",
                    format!("{} : {}, {} : {}", f.name, f.value, g.name, g.value),
                )
                .at(ds.location(f).to_string()),
            )
        });
        evidence.extend(device_side);
        fails.push(format!(
            "the device is {} but its Entra object is {}",
            trust_name(exp),
            trust_name(d.trust())
        ));
        fixes.push(if hybrid {
            "The device enrolls with the wrong identity: on the device remove the work account (Settings > Accounts > Access work or school), delete the Workplace-registered object in Entra, and let the hybrid join complete (sign out and in)."
        } else {
            "Remove the mismatched Entra object and let the device register again with the right join type."
        });
    }
    // Microsoft's own query for pending devices (SupportArticles azure/active-directory/
    // pending-devices.md): trustType ServerAd, profileType not RegisteredDevice, and no
    // alternativeSecurityIds (the device never registered its key). registrationDateTime is
    // evidence only: the article does not use it.
    let registered_profile = d
        .profile_type
        .as_deref()
        .is_some_and(|p| p.eq_ignore_ascii_case("RegisteredDevice"));
    let pending = d.trust() == TrustType::ServerAd
        && !registered_profile
        && d.alternative_security_ids.is_empty();
    if pending {
        fails.push(
            "the hybrid object is still pending: synced from Active Directory but the device never completed registration (no certificate key)".into(),
        );
        evidence.push(graph(
            format!(
                "trustType ServerAd, profileType {}, alternativeSecurityIds empty, registrationDateTime {}",
                d.profile_type.as_deref().unwrap_or("(unset)"),
                d.registration_date_time.as_deref().unwrap_or("(unset)")
            ),
            entra_location(d),
        ));
        fixes.push("Sign in on the device (or run `dsregcmd /join` as SYSTEM) so it completes hybrid registration; check that it reaches enterpriseregistration.windows.net.");
    }
    // Dual state: the same device both registered (Workplace) and hybrid joined.
    let same_name = entra_namesakes(devices, f);
    let workplace_twin = same_name
        .iter()
        .find(|o| o.id != d.id && o.trust() == TrustType::Workplace);
    let device_workplace = report
        .dsregcmd
        .as_ref()
        .and_then(|ds| ds.yes_no("User State", "WorkplaceJoined"))
        == Some(true);
    if hybrid && d.trust() == TrustType::ServerAd && (workplace_twin.is_some() || device_workplace)
    {
        warns.push("dual state: the device is also Workplace registered; it may enroll with the registered identity".into());
        if let Some(t) = workplace_twin {
            evidence.push(graph(describe_entra(t), entra_location(t)));
        }
        if device_workplace
            && let Some(ds) = report.dsregcmd.as_ref()
            && let Some(f) = ds.field("User State", "WorkplaceJoined")
        {
            evidence.push(
                Evidence::new("dsregcmd", format!("{} : {}", f.name, f.value))
                    .at(ds.location(f).to_string()),
            );
        }
        fixes.push("Remove the work account registration on the device (Settings > Accounts > Access work or school), delete the Workplace object, and block registration of hybrid devices (HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\WorkplaceJoin BlockAADWorkplaceJoin = 1).");
    }
    let others: Vec<&&EntraDevice> = same_name
        .iter()
        .filter(|o| o.id != d.id && workplace_twin.is_none_or(|t| t.id != o.id))
        .collect();
    if !others.is_empty() {
        warns.push(format!(
            "{} other Entra object(s) share the name {}",
            others.len(),
            keys.short_name.as_deref().unwrap_or("")
        ));
        for o in &others {
            evidence.push(graph(describe_entra(o), entra_location(o)));
        }
        fixes.push("Delete the stale duplicates (the objects whose deviceId is not the one dsregcmd shows).");
    }
    if let Some(last) = d
        .approximate_last_sign_in_date_time
        .as_deref()
        .and_then(parse_time)
        && as_of - last > Duration::days(STALE_SIGN_IN_DAYS)
    {
        warns.push(format!(
            "no sign-in for {} days (last {})",
            (as_of - last).num_days(),
            last.format("%Y-%m-%d")
        ));
        evidence.push(graph(
            format!(
                "approximateLastSignInDateTime {}",
                d.approximate_last_sign_in_date_time
                    .as_deref()
                    .unwrap_or("")
            ),
            entra_location(d),
        ));
    }
    let (status, problems) = if !fails.is_empty() {
        (Status::Fail, [fails, warns].concat())
    } else if !warns.is_empty() {
        (Status::Warn, warns)
    } else {
        (Status::Pass, Vec::new())
    };
    let summary = if problems.is_empty() {
        format!(
            "The Entra device object is healthy (enabled, trustType {})",
            d.trust_type.as_deref().unwrap_or("none")
        )
    } else {
        capitalise(&problems.join("; "))
    };
    let mut finding = META
        .finding(status, subject.clone(), summary)
        .with_remediation(fixes.join(" "));
    finding.evidence.extend(evidence);
    finding
}

/// The trust type the device's own state implies.
fn expected_trust(report: &DeviceReport, path: EnrollmentPath) -> Option<TrustType> {
    let d = report.dsregcmd.as_ref()?;
    let aad = d.yes_no("Device State", "AzureAdJoined");
    let domain = d.yes_no("Device State", "DomainJoined");
    match (aad, domain) {
        (Some(true), Some(true)) => Some(TrustType::ServerAd),
        (Some(true), Some(false)) => Some(TrustType::AzureAd),
        _ if path == EnrollmentPath::EntraRegistered => Some(TrustType::Workplace),
        _ => None,
    }
}

fn trust_name(t: TrustType) -> &'static str {
    match t {
        TrustType::ServerAd => "ServerAd (hybrid joined)",
        TrustType::AzureAd => "AzureAd (Entra joined)",
        TrustType::Workplace => "Workplace (registered)",
        TrustType::Unknown => "unknown",
    }
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::correlate::testutil::*;
    use crate::model::Verdict;
    use crate::tenant::snapshot::Source;

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
    fn pending_dual_state_and_stale_objects_are_reported() {
        let mut snap = snapshot();
        if let Source::Collected { data, .. } = &mut snap.sources.entra_devices {
            for d in data.iter_mut() {
                match d.display_name.as_deref() {
                    // Synced from AD, never registered by the device.
                    Some("PC0117") => {
                        d.alternative_security_ids.clear();
                        d.profile_type = None;
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
        // Microsoft's query: no device key and a profile other than RegisteredDevice is pending
        // whatever registrationDateTime says; a RegisteredDevice profile is not.
        let with = |profile: Option<&str>, registered: Option<&str>| {
            let mut s = snap.clone();
            if let Source::Collected { data, .. } = &mut s.sources.entra_devices {
                for d in data.iter_mut() {
                    if d.display_name.as_deref() == Some("PC0117") {
                        d.profile_type = profile.map(str::to_string);
                        d.registration_date_time = registered.map(str::to_string);
                    }
                }
            }
            let c = run(&s, &sample("stale-enrollment"), None);
            finding(&c, "COR003").summary.contains("pending")
        };
        assert!(with(None, Some("2026-01-05T08:00:00Z")));
        assert!(!with(Some("RegisteredDevice"), None));

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
}
