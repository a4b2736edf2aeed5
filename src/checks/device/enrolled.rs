//! Whether the device is enrolled in Intune, read from the Enrollments registry keys and the
//! per-enrollment EnterpriseMgmt tasks — not from events, which roll over.

use serde::Serialize;

use crate::device::mdmdiag::parse_omadm_time;
use crate::device::report::{DeviceReport, KEY_ENROLLMENTS, MdmDiagEnrollment, RegKey};
use crate::model::Evidence;

use super::evidence::{COLLECT_ENROLLMENTS, reg_evidence};

/// The Intune provider id in an enrollment key.
pub const PROVIDER_INTUNE: &str = "MS DM Server";
/// Microsoft's own Defender/MMP-C channel: a legitimate co-existing enrollment, never stale.
pub const PROVIDER_MMPC: &str = "Microsoft Device Management";

/// What one `Enrollments\{GUID}` key is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum KeyClass {
    /// The live Intune enrollment of the device's tenant.
    Live,
    /// A real enrollment of another MDM (ProviderID ≠ `MS DM Server`).
    OtherMdm { provider: String },
    /// An Intune enrollment of another tenant.
    OtherTenant { tenant: String },
    /// A second Intune enrollment of the same tenant for another user.
    OtherUser { upn: String },
    /// `FFFFFFFF-…`: a placeholder (built-in stub or "fake enrollment" trick); review, never delete.
    Placeholder,
    /// A channel Windows or Defender keeps (no UPN, no discovery URL, or MMP-C): not stale.
    BuiltIn,
    /// Looks like an enrollment but is incomplete (no ProviderID, or Intune with a state ≠ 1).
    Review { why: String },
}

impl KeyClass {
    pub fn is_stale(&self) -> bool {
        matches!(
            self,
            KeyClass::OtherMdm { .. } | KeyClass::OtherTenant { .. } | KeyClass::OtherUser { .. }
        )
    }
}

#[derive(Debug, Clone)]
pub struct EnrollmentKey<'a> {
    pub key: &'a RegKey,
    pub class: KeyClass,
}

impl EnrollmentKey<'_> {
    pub fn value(&self, name: &str) -> Option<String> {
        self.key.value(name).map(|v| v.data.as_text())
    }

    pub fn value_count(&self) -> usize {
        self.key.values.len()
    }
}

/// `8-4-4-4-12` hex digits, with or without braces.
pub fn is_guid(s: &str) -> bool {
    let s = s.trim_start_matches('{').trim_end_matches('}');
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn is_placeholder(guid: &str) -> bool {
    is_guid(guid)
        && guid
            .trim_start_matches('{')
            .trim_end_matches('}')
            .chars()
            .all(|c| c == '-' || c.eq_ignore_ascii_case(&'f'))
}

/// Classifies every GUID-named subkey of `HKLM\SOFTWARE\Microsoft\Enrollments`.
/// `device_tenant` is dsregcmd's TenantId; `user` the UPN the files name (tie-breaker only).
pub fn classify_enrollment_keys<'a>(
    report: &'a DeviceReport,
    device_tenant: Option<&str>,
    user: Option<&str>,
) -> Vec<EnrollmentKey<'a>> {
    let Some(reg) = report.registry.as_ref() else {
        return Vec::new();
    };
    let keys: Vec<&RegKey> = reg
        .subkeys(KEY_ENROLLMENTS)
        .filter(|k| is_guid(k.leaf()))
        .collect();
    let text = |k: &RegKey, n: &str| k.value(n).map(|v| v.data.as_text().trim().to_string());
    let mut out: Vec<EnrollmentKey> = Vec::new();
    let mut intune_same_tenant: Vec<usize> = Vec::new();
    for k in keys {
        let provider = text(k, "ProviderID").filter(|p| !p.is_empty());
        let upn = text(k, "UPN").filter(|p| !p.is_empty());
        let discovery = text(k, "DiscoveryServiceFullURL").filter(|p| !p.is_empty());
        let tenant = text(k, "AADTenantID").filter(|p| !p.is_empty());
        let state = k.value("EnrollmentState").and_then(|v| v.data.as_u64());
        let class = if is_placeholder(k.leaf()) {
            KeyClass::Placeholder
        } else {
            match provider.as_deref() {
                Some(p) if p.eq_ignore_ascii_case(PROVIDER_INTUNE) => {
                    match (&tenant, device_tenant) {
                        (Some(t), Some(d)) if !t.eq_ignore_ascii_case(d) => {
                            KeyClass::OtherTenant { tenant: t.clone() }
                        }
                        _ if state != Some(1) => KeyClass::Review {
                            why: match state {
                                Some(s) => format!("Intune key with EnrollmentState {s} (not 1)"),
                                None => "Intune key without EnrollmentState".to_string(),
                            },
                        },
                        _ if upn.is_none() && tenant.is_none() => KeyClass::Review {
                            why: "Intune key without UPN or AADTenantID".to_string(),
                        },
                        _ => {
                            intune_same_tenant.push(out.len());
                            KeyClass::Live
                        }
                    }
                }
                Some(p) if p.eq_ignore_ascii_case(PROVIDER_MMPC) => KeyClass::BuiltIn,
                Some(p) if upn.is_some() || discovery.is_some() => KeyClass::OtherMdm {
                    provider: p.to_string(),
                },
                Some(_) => KeyClass::BuiltIn,
                None if k.values.is_empty() => KeyClass::BuiltIn,
                None if upn.is_some() || discovery.is_some() || state.is_some() => {
                    KeyClass::Review {
                        why: "enrollment values without a ProviderID".to_string(),
                    }
                }
                None => KeyClass::BuiltIn,
            }
        };
        out.push(EnrollmentKey { key: k, class });
    }
    // Several live-looking Intune keys for one tenant: the one for the current user stays live,
    // the others belong to another user. Without a user to tell them apart, all stay live.
    if intune_same_tenant.len() > 1
        && let Some(u) = user
        && let Some(&keep) = intune_same_tenant.iter().find(|&&i| {
            out[i]
                .value("UPN")
                .is_some_and(|x| x.trim().eq_ignore_ascii_case(u))
        })
    {
        for &i in intune_same_tenant.iter().filter(|&&i| i != keep) {
            let upn = out[i].value("UPN").unwrap_or_default();
            out[i].class = KeyClass::OtherUser { upn };
        }
    }
    out
}

/// Intune enrollment state of the device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum EnrolledState {
    Enrolled {
        enrollment_id: String,
        upn: Option<String>,
        tenant_id: Option<String>,
        evidence: Vec<Evidence>,
    },
    NotEnrolled {
        evidence: Vec<Evidence>,
    },
    /// The Enrollments key was not exported: `collect` says what to gather.
    Unknown {
        collect: String,
        evidence: Vec<Evidence>,
    },
}

impl EnrolledState {
    pub fn is_enrolled(&self) -> bool {
        matches!(self, EnrolledState::Enrolled { .. })
    }

    pub fn tenant_id(&self) -> Option<&str> {
        match self {
            EnrolledState::Enrolled { tenant_id, .. } => tenant_id.as_deref(),
            _ => None,
        }
    }

    pub fn evidence(&self) -> &[Evidence] {
        match self {
            EnrolledState::Enrolled { evidence, .. }
            | EnrolledState::NotEnrolled { evidence }
            | EnrolledState::Unknown { evidence, .. } => evidence,
        }
    }
}

pub fn enrolled_state(
    report: &DeviceReport,
    device_tenant: Option<&str>,
    user: Option<&str>,
) -> EnrolledState {
    // Per-enrollment task folders `\Microsoft\Windows\EnterpriseMgmt\{GUID}\`.
    let task_guids: Vec<(String, String)> = report
        .scheduled_tasks
        .iter()
        .flatten()
        .filter_map(|t| {
            let rest = t
                .path
                .strip_prefix('\\')
                .unwrap_or(&t.path)
                .strip_prefix_ci("Microsoft\\Windows\\EnterpriseMgmt\\")?;
            let (folder, _) = rest.split_once('\\')?;
            is_guid(folder).then(|| (folder.to_ascii_uppercase(), t.location.to_string()))
        })
        .collect();

    let covered = report
        .registry
        .as_ref()
        .is_some_and(|r| r.covers(KEY_ENROLLMENTS));
    if !covered {
        let mut evidence = Vec::new();
        if let Some((g, loc)) = task_guids.first() {
            evidence.push(
                Evidence::new(
                    "scheduled-tasks",
                    format!("EnterpriseMgmt\\{g} tasks exist: some MDM enrollment exists (provider unknown without the registry)"),
                )
                .at(loc.clone()),
            );
        } else {
            evidence.push(Evidence::new(
                "registry",
                "HKLM\\SOFTWARE\\Microsoft\\Enrollments was not exported",
            ));
        }
        // MDMDiagReport.xml names enrollments but not their tenant: a hint, not a verdict.
        for e in &report.mdm_diag_enrollments {
            evidence.push(mdm_diag_evidence(e));
        }
        return EnrolledState::Unknown {
            collect: COLLECT_ENROLLMENTS.to_string(),
            evidence,
        };
    }

    let keys = classify_enrollment_keys(report, device_tenant, user);
    if let Some(live) = keys.iter().find(|k| k.class == KeyClass::Live) {
        let id = live.key.leaf().to_string();
        let upn = live.value("UPN");
        let tenant_id = live.value("AADTenantID");
        let mut evidence = vec![reg_evidence(
            live.key,
            format!(
                "{} ProviderID \"{}\", EnrollmentState 1{}{}",
                live.key.path,
                PROVIDER_INTUNE,
                upn.as_deref()
                    .map(|u| format!(", UPN {u}"))
                    .unwrap_or_default(),
                tenant_id
                    .as_deref()
                    .map(|t| format!(", AADTenantID {t}"))
                    .unwrap_or_default()
            ),
        )];
        let id_upper = id.trim_matches(['{', '}']).to_ascii_uppercase();
        if let Some((_, loc)) = task_guids.iter().find(|(g, _)| *g == id_upper) {
            evidence.push(
                Evidence::new(
                    "scheduled-tasks",
                    format!("EnterpriseMgmt\\{id} tasks present (OMA-DM sync schedules)"),
                )
                .at(loc.clone()),
            );
        }
        evidence.extend(last_contact_evidence(report, &id_upper));
        return EnrolledState::Enrolled {
            enrollment_id: id,
            upn,
            tenant_id,
            evidence,
        };
    }
    let root_loc = report
        .registry
        .as_ref()
        .and_then(|r| {
            r.keys.iter().find(|k| {
                crate::device::report::normalize_key_path(&k.path)
                    .starts_with(&crate::device::report::normalize_key_path(KEY_ENROLLMENTS))
            })
        })
        .map(|k| k.location.file.clone());
    let mut detail = format!(
        "no {KEY_ENROLLMENTS}\\{{GUID}} key with ProviderID \"{PROVIDER_INTUNE}\" and EnrollmentState 1"
    );
    let others: Vec<String> = keys
        .iter()
        .filter(|k| k.class != KeyClass::BuiltIn)
        .map(|k| format!("{} ({})", k.key.leaf(), class_label(&k.class)))
        .collect();
    if !others.is_empty() {
        detail.push_str(&format!("; other keys: {}", others.join(", ")));
    }
    let mut ev = Evidence::new("registry", detail);
    if let Some(f) = root_loc {
        ev = ev.at(f);
    }
    EnrolledState::NotEnrolled { evidence: vec![ev] }
}

/// When the enrollment last reached its server: `MDMDiagReport.xml` and the OMA-DM account's
/// `Protected\ConnInfo` key (both written by the MDM client, not by the enrollment).
fn last_contact_evidence(report: &DeviceReport, id_upper: &str) -> Vec<Evidence> {
    let mut out: Vec<Evidence> = report
        .mdm_diag_enrollments
        .iter()
        .filter(|e| {
            e.enrollment_id
                .trim_matches(['{', '}'])
                .eq_ignore_ascii_case(id_upper)
        })
        .map(mdm_diag_evidence)
        .collect();
    let conn = report.registry.as_ref().and_then(|r| {
        r.key(&format!(
            "HKLM\\SOFTWARE\\Microsoft\\Provisioning\\OMADM\\Accounts\\{id_upper}\\Protected\\ConnInfo"
        ))
    });
    if let Some(k) = conn
        && let Some(t) = k
            .value("ServerLastSuccessTime")
            .map(|v| v.data.as_text())
            .and_then(|t| parse_omadm_time(&t))
    {
        out.push(reg_evidence(
            k,
            format!(
                "OMADM\\Accounts\\{id_upper}: last successful server contact {}",
                t.format("%Y-%m-%d %H:%M:%S UTC")
            ),
        ));
    }
    out
}

fn mdm_diag_evidence(e: &MdmDiagEnrollment) -> Evidence {
    let mut detail = format!("MDMDiagReport.xml lists enrollment {}", e.enrollment_id);
    if let Some(server) = &e.mdm_server {
        detail.push_str(&format!(" with MDM server \"{server}\""));
    }
    match e.last_success {
        Some(t) => detail.push_str(&format!(
            ", last successful server contact {}",
            t.format("%Y-%m-%d %H:%M:%S UTC")
        )),
        None => detail.push_str(", no successful server contact recorded"),
    }
    if let Some(t) = e.last_failure {
        detail.push_str(&format!(
            ", last failure {}",
            t.format("%Y-%m-%d %H:%M:%S UTC")
        ));
    }
    Evidence::new("mdm-diagnostics", detail).at(e.location.to_string())
}

pub fn class_label(c: &KeyClass) -> String {
    match c {
        KeyClass::Live => "live Intune enrollment".to_string(),
        KeyClass::OtherMdm { provider } => format!("another MDM: ProviderID \"{provider}\""),
        KeyClass::OtherTenant { tenant } => format!("Intune enrollment of another tenant {tenant}"),
        KeyClass::OtherUser { upn } => format!("Intune enrollment of another user {upn}"),
        KeyClass::Placeholder => "placeholder key, not a real enrollment".to_string(),
        KeyClass::BuiltIn => "built-in channel".to_string(),
        KeyClass::Review { why } => why.clone(),
    }
}

trait StripPrefixCi {
    fn strip_prefix_ci(&self, prefix: &str) -> Option<&str>;
}

impl StripPrefixCi for str {
    fn strip_prefix_ci(&self, prefix: &str) -> Option<&str> {
        let head = self.get(..prefix.len())?;
        head.eq_ignore_ascii_case(prefix)
            .then(|| &self[prefix.len()..])
    }
}
