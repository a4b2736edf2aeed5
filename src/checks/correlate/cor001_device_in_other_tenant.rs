//! COR001: the device is joined to the audited tenant.

use crate::checks::common::{R_8018002B, R_DSREGCMD, R_HYBRID_MANUAL};
use crate::model::{Area, CheckMeta, Finding, Permissions, Severity, SkipReason, Status};
use crate::tenant::snapshot::{MissingReason, TenantSnapshot};

use crate::checks::device::tenant_keys::{KEY_CDJ_AAD, cdj_aad, other_tenants, tenant_info};
use crate::model::Evidence;

use super::facts::CorrelationFacts;
use super::records::graph;

pub const META: CheckMeta = CheckMeta {
    id: "COR001",
    name: "device-in-other-tenant",
    title: "The device is joined to the audited tenant",
    severity: Severity::Critical,
    area: Area::Correlation,
    permissions: Permissions {
        application: &["Organization.Read.All"],
        delegated: &["User.Read"],
        delegated_only: false,
    },
    what_it_checks: "Compares TenantId from dsregcmd /status (and AADTenantID of the Enrollments keys, \
        TenantID of event 91, the CloudDomainJoin\\TenantInfo key) with the tenant being audited. On a \
        mismatch it names the tenants the device's HKLM\\SYSTEM\\CurrentControlSet\\Control\\\
        CloudDomainJoin\\TenantInfo\\<tenant id> keys hold (with their DisplayName) and the client-side \
        SCP values TenantId/TenantName under HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\CDJ\\AAD \
        that target a hybrid join.",
    why_it_matters: "A device joined to another tenant asks that tenant for MDM information; nothing in your \
        tenant can make it enroll. Stale TenantInfo of a former tenant also produces 0x8018002B. Enrollment \
        paths: all.",
    how_to_fix: "Check whether the device is meant to belong to the other tenant. If not, as administrator run \
        dsregcmd /leave, remove stale keys under HKLM\\SYSTEM\\CurrentControlSet\\Control\\CloudDomainJoin\\\
        TenantInfo, make sure the SCP (or the CDJ\\AAD registry values) points at your tenant, and let the device \
        join again.",
    references: &[R_8018002B, R_DSREGCMD, R_HYBRID_MANUAL, R_HYBRID_CONTROL],
};

const R_HYBRID_CONTROL: &str =
    "https://learn.microsoft.com/entra/identity/devices/hybrid-join-control";

/// The audited tenant's id: the organization object when collected, else the snapshot's (the
/// token's `tid`, or `--tenant`). `None` when neither names a tenant id: nothing to compare the
/// device's TenantId with (a GUID). A verified domain given as `--tenant` is not an id and
/// cannot be compared either.
pub fn audited_tenant(snap: &TenantSnapshot) -> Option<String> {
    let id = snap
        .sources
        .organization
        .data()
        .map(|o| o.id.trim().to_string())
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| snap.tenant_id.trim().to_string());
    uuid::Uuid::parse_str(&id).is_ok().then_some(id)
}

pub fn evaluate(f: &CorrelationFacts) -> Finding {
    let snap = f.snap;
    let subject = f.subject;
    let Some((device_tenant, ev)) = &f.keys.tenant_id else {
        return META.skip(
            subject.clone(),
            SkipReason::NoEvidence {
                collect: "`dsregcmd /status` (Tenant Details: TenantId) or the DeviceManagement event log (event 91)".into(),
            },
        );
    };
    let Some(audited) = audited_tenant(snap) else {
        // Which tenant was audited is not known: no mismatch can be claimed (and no
        // `dsregcmd /leave` advised).
        let what = "the audited tenant's id (the organization, GET /v1.0/organization)";
        let finding = match snap.sources.organization.get() {
            Err(reason) if *reason != MissingReason::NotCollected => {
                reason.finding_of(&META, subject.clone(), what)
            }
            _ => META
                .skip(
                    subject.clone(),
                    SkipReason::NoEvidence {
                        collect: format!(
                            "{what}, or a snapshot that names its tenant id (the device is joined \
                             to {device_tenant})"
                        ),
                    },
                )
                .with_remediation(
                    "Run against Graph with a token that can read the organization (User.Read \
                     delegated, Organization.Read.All app-only), or pass --tenant with the \
                     tenant's id, so the device's tenant can be compared with it.",
                ),
        };
        return finding.with_evidence(ev.clone());
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
    let infos = tenant_info(f.report);
    let cdj = cdj_aad(f.report);
    let others = other_tenants(&infos, &audited);
    if device_tenant.eq_ignore_ascii_case(&audited) {
        let mut finding = META
            .finding(
                Status::Pass,
                subject.clone(),
                "The device is joined to the audited tenant",
            )
            .with_evidence(ev.clone())
            .with_evidence(tenant_ev);
        // A leftover key of a former tenant is worth seeing even when the join is right.
        for t in others {
            finding = finding.with_evidence(
                Evidence::new(
                    "registry",
                    format!(
                        "{} (another tenant's TenantInfo key is still present)",
                        t.evidence.detail
                    ),
                )
                .at(t.evidence.location.clone().unwrap_or_default()),
            );
        }
        return finding;
    }
    let mut summary = format!(
        "The device is joined to tenant {device_tenant}, not to the audited tenant {audited}: it asks that tenant for MDM"
    );
    if !others.is_empty() {
        let names: Vec<String> = others.iter().map(|t| t.label()).collect();
        summary.push_str(&format!("; its TenantInfo names {}", names.join(", ")));
    }
    let cdj_other = cdj.as_ref().filter(|c| {
        c.tenant_id
            .as_deref()
            .is_some_and(|t| !t.eq_ignore_ascii_case(&audited))
    });
    if let Some(c) = cdj_other {
        summary.push_str(&format!(
            "; the client-side SCP (CDJ\\AAD) targets {}",
            c.label()
        ));
    }
    let keys: Vec<String> = if others.is_empty() {
        vec![format!(
            "HKLM\\SYSTEM\\CurrentControlSet\\Control\\CloudDomainJoin\\TenantInfo\\{device_tenant}"
        )]
    } else {
        others
            .iter()
            .map(|t| format!("{} ({})", t.path, t.label()))
            .collect()
    };
    let scp = match cdj_other {
        Some(c) => format!(
            "correct or delete the client-side SCP values under {KEY_CDJ_AAD} ({}) so they name the audited tenant, and make sure the forest's SCP does too",
            c.label()
        ),
        None => "make sure the SCP (or the CDJ\\AAD TenantId/TenantName registry values) names the audited tenant".to_string(),
    };
    let mut finding = META
        .finding(Status::Fail, subject.clone(), summary)
        .with_evidence(ev.clone())
        .with_evidence(tenant_ev);
    for t in &others {
        finding = finding.with_evidence(t.evidence.clone());
    }
    if let Some(c) = &cdj {
        finding = finding.with_evidence(c.evidence.clone());
    }
    finding.with_remediation(format!(
        "If the device belongs to the audited tenant: as an administrator run `dsregcmd /leave`, delete the stale key {}, {scp}, and let the device join again (sign out and in). Otherwise audit the tenant it is joined to.",
        keys.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::correlate::testutil::*;

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

    /// No organization and no tenant id (a token Graph did not decode, a snapshot without its
    /// tenant): the check cannot compare, so it says so instead of blaming the device.
    #[test]
    fn an_unknown_audited_tenant_is_a_skip_not_a_mismatch() {
        use crate::tenant::snapshot::Source;
        let r = scenario("cor001-other-tenant");
        for (tenant_id, org) in [
            ("", MissingReason::NotCollected),
            ("contoso.com", MissingReason::NotCollected),
            (
                "",
                MissingReason::InsufficientPermission {
                    needed: vec!["User.Read".into()],
                },
            ),
        ] {
            let mut snap = snapshot();
            snap.tenant_id = tenant_id.into();
            snap.sources.organization = Source::Missing { reason: org };
            let c = run(&snap, &r, Some("jdoe@contoso.com"));
            let cor001 = finding(&c, "COR001");
            assert_eq!(
                cor001.status,
                Status::Skip,
                "{tenant_id}: {}",
                cor001.summary
            );
            let text = format!(
                "{} {} {}",
                cor001.summary,
                cor001.remediation,
                all_evidence(cor001)
            );
            assert!(!text.contains("dsregcmd /leave"), "{text}");
            assert!(!text.contains("not to the audited tenant"), "{text}");
            // The device's tenant is still shown.
            assert!(
                text.contains("0d1c2b3a-4958-4677-8695-a4b3c2d1e0f9"),
                "{text}"
            );
            // Not a failed device: the other correlation checks are not skipped for COR001.
            assert!(
                !finding(&c, "COR002")
                    .summary
                    .contains("the tenant the device is joined to"),
                "{tenant_id}"
            );
        }
        // The same device against a known tenant still fails.
        let c = run(&snapshot(), &r, Some("jdoe@contoso.com"));
        assert_eq!(finding(&c, "COR001").status, Status::Fail);
    }

    #[test]
    fn the_fix_names_the_tenant_info_key_and_the_client_side_scp() {
        use crate::device::report::{Location, RegData, RegKey, RegValue, Registry};
        let at = || Location {
            file: "cloud.reg".into(),
            line: Some(1),
            record: None,
        };
        let key = |path: &str, values: &[(&str, &str)]| RegKey {
            path: path.into(),
            deleted: false,
            values: values
                .iter()
                .map(|(n, v)| RegValue {
                    name: n.to_string(),
                    data: RegData::Sz(v.to_string()),
                    location: at(),
                })
                .collect(),
            location: at(),
        };
        let mut r = scenario("cor001-other-tenant");
        let reg = r.registry.get_or_insert_with(Registry::default);
        reg.keys.push(key(
            r"HKLM\SYSTEM\CurrentControlSet\Control\CloudDomainJoin\TenantInfo\0d1c2b3a-4958-4677-8695-a4b3c2d1e0f9",
            &[("DisplayName", "Fabrikam")],
        ));
        reg.keys.push(key(
            KEY_CDJ_AAD,
            &[
                ("TenantId", "0d1c2b3a-4958-4677-8695-a4b3c2d1e0f9"),
                ("TenantName", "fabrikam.com"),
            ],
        ));
        let c = run(&snapshot(), &r, Some("jdoe@contoso.com"));
        let cor001 = finding(&c, "COR001");
        assert_eq!(cor001.status, Status::Fail);
        assert!(
            cor001.summary.contains("\"Fabrikam\""),
            "{}",
            cor001.summary
        );
        assert!(
            cor001.summary.contains("fabrikam.com"),
            "{}",
            cor001.summary
        );
        assert!(
            cor001
                .remediation
                .contains("TenantInfo\\0d1c2b3a-4958-4677-8695-a4b3c2d1e0f9 (0d1c2b3a"),
            "{}",
            cor001.remediation
        );
        assert!(
            cor001.remediation.contains("CDJ\\AAD"),
            "{}",
            cor001.remediation
        );
    }
}
