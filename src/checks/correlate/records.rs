//! COR001–COR004, COR006 and COR007: the device's own facts joined with the tenant's records.
//! Every finding carries evidence from both sides (the device file and line, the Graph call).

use chrono::{DateTime, Duration, Utc};

use crate::catalog::error_codes::{LikelyCause, format_hresult, hresults_in_text, lookup};
use crate::catalog::well_known::MICROSOFT_INTUNE_APP_ID;
use crate::device::report::DeviceReport;
use crate::model::{EnrollmentPath, Evidence, Finding, SkipReason, Status, Subject};
use crate::tenant::precedence::{
    WindowsVersion, Winner, os_version_blocked, winning_restrictions_in,
};
use crate::tenant::snapshot::{
    ConfigurationFamily, EntraDevice, ManagedDevice, TenantSnapshot, TroubleshootingEvent,
    TrustType, User,
};

use super::keys::DeviceKeys;
use crate::checks::device::DeviceAnalysis;

/// An Entra device that has not signed in for this long is stale (Entra's own guidance).
pub const STALE_SIGN_IN_DAYS: i64 = 90;

const DEVICES_BY_ID: &str = "GET /v1.0/devices?$filter=deviceId eq";
const MANAGED_BY_ID: &str = "GET /v1.0/deviceManagement/managedDevices?$filter=azureADDeviceId eq";

fn graph(detail: impl Into<String>, at: impl Into<String>) -> Evidence {
    Evidence::new("graph", detail).at(at)
}

/// The audited tenant's id: the organization object when collected, else the snapshot's.
pub fn audited_tenant(snap: &TenantSnapshot) -> String {
    snap.sources
        .organization
        .data()
        .map(|o| o.id.clone())
        .unwrap_or_else(|| snap.tenant_id.clone())
}

// --- COR001 -----------------------------------------------------------------------------------

pub fn cor001_other_tenant(snap: &TenantSnapshot, keys: &DeviceKeys, subject: &Subject) -> Finding {
    const ID: &str = "COR001";
    let audited = audited_tenant(snap);
    let Some((device_tenant, ev)) = &keys.tenant_id else {
        return Finding::skip(
            ID,
            subject.clone(),
            SkipReason::NoEvidence {
                collect: "`dsregcmd /status` (Tenant Details: TenantId) or the DeviceManagement event log (event 91)".into(),
            },
        );
    };
    let tenant_ev = graph(
        format!(
            "audited tenant {audited}{}",
            snap.sources
                .organization
                .data()
                .and_then(|o| o.display_name.as_deref())
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        ),
        "GET /v1.0/organization",
    );
    if device_tenant.eq_ignore_ascii_case(&audited) {
        Finding::new(
            ID,
            Status::Pass,
            subject.clone(),
            "The device is joined to the audited tenant",
        )
        .with_evidence(ev.clone())
        .with_evidence(tenant_ev)
    } else {
        Finding::new(
            ID,
            Status::Fail,
            subject.clone(),
            format!(
                "The device is joined to tenant {device_tenant}, not to the audited tenant {audited}: it asks that tenant for MDM"
            ),
        )
        .with_evidence(ev.clone())
        .with_evidence(tenant_ev)
        .with_remediation(
            "If the device belongs to the audited tenant: as an administrator run `dsregcmd /leave`, delete the \
             stale HKLM\\SYSTEM\\CurrentControlSet\\Control\\CloudDomainJoin\\TenantInfo\\<tenant id> key, make \
             sure the SCP (or the CDJ\\AAD registry values) names the audited tenant, and let the device join again. \
             Otherwise audit the tenant it is joined to.",
        )
    }
}

// --- COR002 / COR003 --------------------------------------------------------------------------

/// Entra objects with the report's DeviceId.
pub fn entra_by_id<'a>(devices: &'a [EntraDevice], device_id: &str) -> Vec<&'a EntraDevice> {
    devices
        .iter()
        .filter(|d| {
            d.device_id
                .as_deref()
                .is_some_and(|id| id.eq_ignore_ascii_case(device_id))
        })
        .collect()
}

/// Entra objects whose display name is the device's host name.
pub fn entra_by_name<'a>(devices: &'a [EntraDevice], short_name: &str) -> Vec<&'a EntraDevice> {
    devices
        .iter()
        .filter(|d| {
            d.display_name.as_deref().is_some_and(|n| {
                n.eq_ignore_ascii_case(short_name)
                    || n.split('.')
                        .next()
                        .is_some_and(|s| s.eq_ignore_ascii_case(short_name))
            })
        })
        .collect()
}

fn describe_entra(d: &EntraDevice) -> String {
    format!(
        "Entra device \"{}\" (object {}, deviceId {}): trustType {}, accountEnabled {}, isManaged {}",
        d.display_name.as_deref().unwrap_or("?"),
        d.id,
        d.device_id.as_deref().unwrap_or("none"),
        d.trust_type.as_deref().unwrap_or("none"),
        d.account_enabled
            .map(|b| b.to_string())
            .unwrap_or_else(|| "unknown".into()),
        d.is_managed
            .map(|b| b.to_string())
            .unwrap_or_else(|| "unknown".into()),
    )
}

fn entra_location(d: &EntraDevice) -> String {
    format!("GET /v1.0/devices/{}", d.id)
}

pub fn cor002_entra_record(
    snap: &TenantSnapshot,
    report: &DeviceReport,
    keys: &DeviceKeys,
    path: EnrollmentPath,
    subject: &Subject,
) -> Finding {
    const ID: &str = "COR002";
    let (devices, endpoint) = match snap.sources.entra_devices.get() {
        Ok(v) => v,
        Err(r) => return r.finding(ID, subject.clone(), "the Entra device records"),
    };
    let same_name: Vec<&EntraDevice> = keys
        .short_name
        .as_deref()
        .map(|n| entra_by_name(devices, n))
        .unwrap_or_default();
    let Some(device_id) = keys.device_id.as_deref() else {
        let not_joined = report
            .dsregcmd
            .as_ref()
            .and_then(|d| d.yes_no("Device State", "AzureAdJoined"))
            == Some(false);
        if !(not_joined && path == EnrollmentPath::GpoHybrid) {
            return Finding::skip(
                ID,
                subject.clone(),
                SkipReason::NoEvidence {
                    collect: "`dsregcmd /status` (Device Details: DeviceId)".into(),
                },
            );
        }
        let joined_ev = report
            .dsregcmd
            .as_ref()
            .and_then(|d| {
                let f = d.field("Device State", "AzureAdJoined")?;
                Some(
                    Evidence::new(
                        "dsregcmd",
                        format!("{} : {} (no DeviceId)", f.name, f.value),
                    )
                    .at(d.location(f).to_string()),
                )
            })
            .unwrap_or_else(|| Evidence::new("dsregcmd", "no DeviceId"));
        let name = keys.short_name.as_deref().unwrap_or("the device");
        let mut f = Finding::new(
            ID,
            Status::Fail,
            subject.clone(),
            if same_name.is_empty() {
                format!(
                    "No Entra device object: the device is not joined (no DeviceId) and no Entra device is named {name}"
                )
            } else {
                format!(
                    "The device is not joined (no DeviceId); Entra has {} object(s) named {name} from an earlier join or sync",
                    same_name.len()
                )
            },
        )
        .with_evidence(joined_ev)
        .with_evidence(graph(
            format!("no Entra device for {name} with a DeviceId from this device"),
            format!("GET /v1.0/devices?$filter=displayName eq '{name}' ({endpoint})"),
        ))
        .with_remediation(
            "Complete the hybrid join first (see DEV001); the Entra object appears after the next Entra Connect \
             sync and sign-in.",
        );
        for d in same_name {
            f = f.with_evidence(graph(describe_entra(d), entra_location(d)));
        }
        return f;
    };
    let dsreg_ev = report
        .dsregcmd
        .as_ref()
        .and_then(|d| {
            let f = d.field("Device Details", "DeviceId")?;
            Some(
                Evidence::new("dsregcmd", format!("{} : {}", f.name, f.value))
                    .at(d.location(f).to_string()),
            )
        })
        .unwrap_or_else(|| Evidence::new("device", format!("DeviceId {device_id}")));
    let found = entra_by_id(devices, device_id);
    if let Some(d) = found.first() {
        return Finding::new(
            ID,
            Status::Pass,
            subject.clone(),
            format!(
                "Entra has the device object (trustType {})",
                d.trust_type.as_deref().unwrap_or("none")
            ),
        )
        .with_evidence(dsreg_ev)
        .with_evidence(graph(describe_entra(d), entra_location(d)));
    }
    if !looks_up_devices(endpoint) {
        // Only the users' registered devices were read: hybrid-joined devices have no
        // registered owner, so absence proves nothing.
        return Finding::skip(
            ID,
            subject.clone(),
            SkipReason::NoEvidence {
                collect: format!(
                    "the Entra device with deviceId {device_id}: this snapshot holds only users' registered devices ({endpoint}); run diagnose against the tenant, or use a snapshot saved with `audit --save-snapshot`"
                ),
            },
        );
    }
    let mut f = Finding::new(
        ID,
        Status::Fail,
        subject.clone(),
        format!("No Entra device has DeviceId {device_id}: the directory does not know this device"),
    )
    .with_evidence(dsreg_ev)
    .with_evidence(graph(
        format!("0 devices with deviceId {device_id}"),
        format!("{DEVICES_BY_ID} '{device_id}'"),
    ))
    .with_remediation(
        "For a hybrid device, check that its computer object is in the Entra Connect sync scope and has a \
         userCertificate, wait for a sync and sign in again. If the Entra object was deleted, run `dsregcmd /leave` \
         as an administrator on the device and let it join again.",
    );
    for d in same_name {
        f = f.with_evidence(graph(
            format!(
                "{} — same name, another deviceId: the device re-joined or its object was replaced",
                describe_entra(d)
            ),
            entra_location(d),
        ));
    }
    f
}

/// Whether the Entra devices were read from `/devices` (all, or by deviceId) rather than only
/// from users' `registeredDevices`.
pub fn looks_up_devices(endpoint: &str) -> bool {
    endpoint
        .split(" + ")
        .any(|part| part.trim_start().starts_with("GET /v1.0/devices"))
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

pub fn cor003_entra_health(
    snap: &TenantSnapshot,
    report: &DeviceReport,
    keys: &DeviceKeys,
    path: EnrollmentPath,
    subject: &Subject,
    as_of: DateTime<Utc>,
) -> Finding {
    const ID: &str = "COR003";
    let (devices, _) = match snap.sources.entra_devices.get() {
        Ok(v) => v,
        Err(r) => return r.finding(ID, subject.clone(), "the Entra device records"),
    };
    let Some(device_id) = keys.device_id.as_deref() else {
        return Finding::skip(
            ID,
            subject.clone(),
            SkipReason::NoEvidence {
                collect: "`dsregcmd /status` (Device Details: DeviceId)".into(),
            },
        );
    };
    let found = entra_by_id(devices, device_id);
    let Some(d) = found.first().copied() else {
        return Finding::skip(
            ID,
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
    let pending = d.trust() == TrustType::ServerAd
        && d.alternative_security_ids.is_empty()
        && d.registration_date_time.is_none();
    if pending {
        fails.push(
            "the hybrid object is still pending: synced from Active Directory but the device never completed registration (no certificate key)".into(),
        );
        evidence.push(graph(
            "alternativeSecurityIds empty and no registrationDateTime",
            entra_location(d),
        ));
        fixes.push("Sign in on the device (or run `dsregcmd /join` as SYSTEM) so it completes hybrid registration; check that it reaches enterpriseregistration.windows.net.");
    }
    // Dual state: the same device both registered (Workplace) and hybrid joined.
    let same_name: Vec<&EntraDevice> = keys
        .short_name
        .as_deref()
        .map(|n| entra_by_name(devices, n))
        .unwrap_or_default();
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
    let mut f =
        Finding::new(ID, status, subject.clone(), summary).with_remediation(fixes.join(" "));
    for e in evidence {
        f = f.with_evidence(e);
    }
    f
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

// --- COR004 -----------------------------------------------------------------------------------

fn describe_managed(m: &ManagedDevice) -> String {
    format!(
        "Intune managed device \"{}\" (id {}, azureADDeviceId {}, user {}, enrolled {})",
        m.device_name.as_deref().unwrap_or("?"),
        m.id,
        m.azure_ad_device_id.as_deref().unwrap_or("none"),
        m.user_principal_name.as_deref().unwrap_or("none"),
        m.enrolled_date_time.as_deref().unwrap_or("unknown"),
    )
}

pub fn cor004_intune_record(
    snap: &TenantSnapshot,
    analysis: &DeviceAnalysis,
    keys: &DeviceKeys,
    subject: &Subject,
) -> Finding {
    const ID: &str = "COR004";
    let (managed, _) = match snap.sources.managed_devices.get() {
        Ok(v) => v,
        Err(r) => return r.finding(ID, subject.clone(), "the Intune managed devices"),
    };
    let Some(device_id) = keys.device_id.as_deref() else {
        return Finding::skip(
            ID,
            subject.clone(),
            SkipReason::NoEvidence {
                collect: "`dsregcmd /status` (Device Details: DeviceId)".into(),
            },
        );
    };
    let records: Vec<&ManagedDevice> = managed
        .iter()
        .filter(|m| {
            m.azure_ad_device_id
                .as_deref()
                .is_some_and(|id| id.eq_ignore_ascii_case(device_id))
        })
        .collect();
    let entra = snap
        .sources
        .entra_devices
        .data()
        .and_then(|d| entra_by_id(d, device_id).first().copied());
    let entra_managed_by_intune = entra.and_then(|d| {
        d.is_managed.map(|m| {
            m && d
                .mdm_app_id
                .as_deref()
                .is_none_or(|a| a.eq_ignore_ascii_case(MICROSOFT_INTUNE_APP_ID))
        })
    });
    // Entra's isManaged with a non-Intune mdmAppId: another MDM (Workspace ONE, MobileIron…)
    // holds the device, and Windows accepts only one MDM enrollment.
    let other_mdm = entra
        .filter(|d| d.is_managed == Some(true))
        .and_then(|d| d.mdm_app_id.as_deref())
        .filter(|a| !a.eq_ignore_ascii_case(MICROSOFT_INTUNE_APP_ID));
    let device_enrolled = analysis.enrolled.is_enrolled();
    let mut evidence: Vec<Evidence> = Vec::new();
    if records.is_empty() {
        evidence.push(graph(
            format!("0 managed devices with azureADDeviceId {device_id}"),
            format!("{MANAGED_BY_ID} '{device_id}'"),
        ));
    }
    for m in &records {
        evidence.push(graph(
            describe_managed(m),
            format!("GET /v1.0/deviceManagement/managedDevices/{}", m.id),
        ));
    }
    if let Some(d) = entra {
        evidence.push(graph(describe_entra(d), entra_location(d)));
    }
    if let Some(e) = analysis.enrolled.evidence().first() {
        evidence.push(e.clone());
    }
    let (status, summary, fix) = match (records.is_empty(), entra_managed_by_intune, device_enrolled) {
        (true, Some(true), _) => (
            Status::Fail,
            "Entra says the device is managed by Intune, but Intune has no managed device with its DeviceId (a deleted or retired record)".to_string(),
            "Delete the stale state: clean up the device's enrollment (see DEV009) and let it enroll again; Entra's isManaged flag updates when the device re-enrolls.",
        ),
        (true, _, true) => (
            Status::Fail,
            "The device has a live Intune enrollment, but Intune has no managed device with its DeviceId (the record was deleted, or it enrolled under another identity)".to_string(),
            "Remove the orphaned enrollment on the device (its Enrollments key and EnterpriseMgmt tasks, see DEV009) and let auto-enrollment run again.",
        ),
        (false, Some(false), _) => (
            Status::Warn,
            "Intune has a managed device record but Entra says the device is not managed".to_string(),
            "Let the device check in with Intune (Settings > Accounts > Access work or school > Info > Sync); if the mismatch stays, retire the Intune record and re-enroll.",
        ),
        (false, _, false) if matches!(analysis.enrolled, crate::checks::device::EnrolledState::NotEnrolled { .. }) => (
            Status::Warn,
            "Intune keeps a managed device record for this DeviceId, but the device has no Intune enrollment (a leftover record)".to_string(),
            "Retire or delete the leftover record in Intune admin center > Devices > All devices, then let the device enroll.",
        ),
        (false, _, _) => (
            Status::Pass,
            "Intune and Entra agree: the device has an Intune record".to_string(),
            "",
        ),
        (true, _, false) if other_mdm.is_some() => (
            Status::Warn,
            format!(
                "Entra says another MDM (mdmAppId {}) manages the device and Intune has no record of it: Windows enrolls into one MDM only",
                other_mdm.unwrap_or_default()
            ),
            "Unenroll the device from the other MDM (or retire it there) and remove its enrollment on the device (see DEV009) before Intune auto-enrollment can succeed; during a migration, check which MDM should own it.",
        ),
        (true, _, false) if snap.sources.entra_devices.data().is_none() => (
            Status::Pass,
            "Intune has no managed device with this DeviceId (consistent with no enrollment; Entra's device records were not collected)".to_string(),
            "",
        ),
        (true, _, false) => (
            Status::Pass,
            "Neither Entra nor Intune lists the device as managed (consistent with no enrollment)".to_string(),
            "",
        ),
    };
    let mut f = Finding::new(ID, status, subject.clone(), summary).with_remediation(fix);
    for e in evidence {
        f = f.with_evidence(e);
    }
    f
}

// --- COR006 -----------------------------------------------------------------------------------

/// COR006: the device's build against the OS range of the Windows restriction that wins for the
/// user (the default one when no user is known, as for userless enrollments).
pub fn cor006_restriction_build(
    snap: &TenantSnapshot,
    keys: &DeviceKeys,
    user: Option<&User>,
    subject: &Subject,
) -> Finding {
    const ID: &str = "COR006";
    let (configs, endpoint) = match snap.sources.enrollment_configurations.get() {
        Ok(v) => v,
        Err(r) => return r.finding(ID, subject.clone(), "the enrollment restrictions"),
    };
    let Some((version, os_ev)) = &keys.os_version else {
        return Finding::skip(
            ID,
            subject.clone(),
            SkipReason::NoEvidence {
                collect: crate::checks::device::facts::COLLECT_OS.into(),
            },
        );
    };
    let Some(v) = WindowsVersion::parse(version) else {
        return Finding::skip(
            ID,
            subject.clone(),
            SkipReason::NoEvidence {
                collect: crate::checks::device::facts::COLLECT_OS.into(),
            },
        );
    };
    let winner: Option<Winner> = match user {
        Some(u) => winning_restrictions_in(snap, u).and_then(|w| w.windows_platform),
        None => configs
            .iter()
            .find(|c| c.family() == ConfigurationFamily::PlatformRestrictions && c.is_default())
            .map(|c| Winner {
                config: c,
                via: "default".into(),
                reasoning: vec![format!(
                    "default \"{}\" applies: no enrolling user is known",
                    c.name()
                )],
                uncertain: false,
            }),
    };
    let Some(w) = winner else {
        // Nothing to compare with is "not evaluated", not a warning: a warning would count as
        // the likely cause of a restriction code.
        return Finding::skip(
            ID,
            subject.clone(),
            SkipReason::NoEvidence {
                collect: "the Windows platform restriction that applies (none was returned with the enrollment configurations)".into(),
            },
        )
        .with_evidence(os_ev.clone())
        .with_evidence(graph(
            format!("{} enrollment configurations", configs.len()),
            endpoint,
        ));
    };
    let r = w.config.windows().cloned().unwrap_or_default();
    let min = r.os_minimum_version.as_deref();
    let max = r.os_maximum_version.as_deref();
    let restriction_ev = graph(
        format!(
            "{}: osMinimumVersion {}, osMaximumVersion {}",
            w.describe(),
            min.unwrap_or("(unset)"),
            max.unwrap_or("(unset)")
        ),
        w.location(),
    );
    match os_version_blocked(min, max, v) {
        Some(why) => Finding::new(
            ID,
            Status::Fail,
            subject.clone(),
            format!("The winning restriction \"{}\" excludes this build: {why}", w.config.name()),
        )
        .with_evidence(os_ev.clone())
        .with_evidence(restriction_ev)
        .with_remediation(format!(
            "Correct the OS version range of \"{}\" (no revision in the minimum) in Intune admin center > Devices > \
             Enrollment > Device platform restriction, or update the device to a build inside the range.",
            w.config.name()
        )),
        None => Finding::new(
            ID,
            Status::Pass,
            subject.clone(),
            format!(
                "The device's version {version} is inside the range of \"{}\"",
                w.config.name()
            ),
        )
        .with_evidence(os_ev.clone())
        .with_evidence(restriction_ev),
    }
}

// --- COR007 -----------------------------------------------------------------------------------

/// The catalogue categories a troubleshooting event's `failureCategory` stands for.
pub fn category_causes(category: &str) -> &'static [LikelyCause] {
    match category.to_ascii_lowercase().as_str() {
        "authentication" => &[LikelyCause::Authentication],
        "authorization" => &[
            LikelyCause::PlatformRestriction,
            LikelyCause::DeviceLimit,
            LikelyCause::JoinNotAllowed,
        ],
        "accountvalidation" | "uservalidation" => &[LikelyCause::License, LikelyCause::MdmScope],
        "devicenotsupported" => &[LikelyCause::PlatformRestriction, LikelyCause::UnsupportedOs],
        "enrollmentrestrictionsenforced" => {
            &[LikelyCause::PlatformRestriction, LikelyCause::DeviceLimit]
        }
        "inmaintenance" => &[LikelyCause::ServerSide],
        "userabandonment" => &[LikelyCause::ConditionalAccess],
        "clientdisconnected" => &[LikelyCause::Connectivity],
        _ => &[],
    }
}

/// How one Intune event relates to the device's failure code.
fn agreement(e: &TroubleshootingEvent, device_code: Option<u32>) -> Option<String> {
    let code = device_code?;
    let reason = e.failure_reason.as_deref().unwrap_or("");
    if hresults_in_text(reason).contains(&code) {
        return Some(format!("same code {}", format_hresult(code)));
    }
    let cause = lookup(code)?.likely_cause;
    let cat = e.failure_category.as_deref().unwrap_or("");
    category_causes(cat)
        .contains(&cause)
        .then(|| format!("category {cat} matches {} ({cause})", format_hresult(code)))
}

pub fn cor007_troubleshooting(
    snap: &TenantSnapshot,
    analysis: &DeviceAnalysis,
    keys: &DeviceKeys,
    user: Option<&User>,
    subject: &Subject,
) -> Finding {
    const ID: &str = "COR007";
    let (events, endpoint) = match snap.sources.troubleshooting_events.get() {
        Ok(v) => v,
        Err(r) => {
            return r.finding(
                ID,
                subject.clone(),
                "Intune's enrollment troubleshooting events",
            );
        }
    };
    if keys.device_id.is_none() && user.is_none() {
        return Finding::skip(
            ID,
            subject.clone(),
            SkipReason::NoEvidence {
                collect: "the device's DeviceId (dsregcmd /status) or the enrolling user (--user)"
                    .into(),
            },
        );
    }
    let matching: Vec<&TroubleshootingEvent> = events
        .iter()
        .filter(|e| {
            let by_device = keys.device_id.as_deref().is_some_and(|id| {
                e.device_id
                    .as_deref()
                    .is_some_and(|d| d.eq_ignore_ascii_case(id))
            });
            // A user's event about another of their devices says nothing about this one.
            let other_device = match (keys.device_id.as_deref(), e.device_id.as_deref()) {
                (Some(mine), Some(theirs)) => {
                    !theirs.trim().is_empty() && !theirs.eq_ignore_ascii_case(mine)
                }
                _ => false,
            };
            let by_user = !other_device
                && user.is_some_and(|u| {
                    e.user_id
                        .as_deref()
                        .is_some_and(|id| id.eq_ignore_ascii_case(&u.id))
                });
            let windows = e
                .operating_system
                .as_deref()
                .is_none_or(|os| os.to_ascii_lowercase().contains("windows"));
            (by_device || by_user) && windows
        })
        .collect();
    let whom = match (keys.device_id.as_deref(), user) {
        (Some(d), Some(u)) => format!("device {d} or user {}", u.user_principal_name),
        (Some(d), None) => format!("device {d}"),
        (None, Some(u)) => format!("user {}", u.user_principal_name),
        (None, None) => String::new(),
    };
    if matching.is_empty() {
        return Finding::new(
            ID,
            Status::Pass,
            subject.clone(),
            format!("Intune recorded no Windows enrollment failure for {whom}"),
        )
        .with_evidence(graph(
            format!("{} troubleshooting events, none for {whom}", events.len()),
            endpoint,
        ));
    }
    let code = analysis.failure_code;
    let mut evidence = Vec::new();
    let mut agreeing = 0;
    for e in &matching {
        let how = agreement(e, code);
        if how.is_some() {
            agreeing += 1;
        }
        evidence.push(graph(
            format!(
                "{}: {} — {}{}",
                e.event_date_time.as_deref().unwrap_or("(no time)"),
                e.failure_category.as_deref().unwrap_or("unknown category"),
                e.failure_reason.as_deref().unwrap_or("(no reason)"),
                how.map(|h| format!(" [agrees with the device: {h}]"))
                    .unwrap_or_default()
            ),
            format!("GET /v1.0/deviceManagement/troubleshootingEvents/{}", e.id),
        ));
    }
    if let Some(dev7) = analysis.finding("DEV007")
        && dev7.status == Status::Fail
        && let Some(ev) = dev7.evidence.first()
    {
        evidence.push(ev.clone());
    }
    let (status, summary) = if analysis.enrolled.is_enrolled() {
        (
            Status::Warn,
            format!(
                "Intune recorded {} earlier enrollment failure(s) for {whom}; the device is enrolled now",
                matching.len()
            ),
        )
    } else {
        match code {
            Some(c) if agreeing > 0 => (
                Status::Fail,
                format!(
                    "Intune recorded the same failure ({} of {} event(s) agree with the device's {})",
                    agreeing,
                    matching.len(),
                    format_hresult(c)
                ),
            ),
            Some(c) => (
                Status::Fail,
                format!(
                    "Intune recorded {} enrollment failure(s) for {whom} that differ from the device's {}: read them for the service-side reason",
                    matching.len(),
                    format_hresult(c)
                ),
            ),
            None => (
                Status::Fail,
                format!(
                    "Intune recorded {} enrollment failure(s) for {whom} that the device's files do not show (the logs may have rolled over)",
                    matching.len()
                ),
            ),
        }
    };
    let mut f = Finding::new(ID, status, subject.clone(), summary).with_remediation(
        "Read these events in Intune admin center > Devices > Monitor > Enrollment failures and fix the reason they \
         name; the related user or tenant finding gives the exact setting.",
    );
    for e in evidence {
        f = f.with_evidence(e);
    }
    f
}
