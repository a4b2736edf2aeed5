use super::*;
use crate::model::Status;
use crate::tenant::snapshot::{MissingReason, Source};

fn fixture(name: &str) -> TenantSnapshot {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/diff")
        .join(name);
    TenantSnapshot::load(&p).unwrap()
}

fn as_of() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-27T08:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn run(old: &TenantSnapshot, new: &TenantSnapshot) -> SnapshotDiff {
    diff(old, "old.json", new, "new.json", as_of()).unwrap()
}

fn find<'a>(d: &'a SnapshotDiff, object: &str, field: Option<&str>) -> Vec<&'a Change> {
    d.changes
        .iter()
        .filter(|c| c.object == object && c.field.as_deref() == field)
        .collect()
}

#[test]
fn a_snapshot_compared_with_itself_has_no_changes() {
    let s = fixture("contoso-old.json");
    let d = run(&s, &s);
    assert!(d.changes.is_empty(), "{:?}", d.changes);
    assert!(d.readiness.is_empty(), "{:?}", d.readiness);
    assert!(!d.regressed());
    assert_eq!(d.summary.users_compared, 8);
}

#[test]
fn the_fixture_pair_shows_its_three_changes() {
    let d = run(&fixture("contoso-old.json"), &fixture("contoso-new.json"));
    let pilot = find(&d, "Pilot Windows block", Some("priority"));
    assert_eq!(pilot.len(), 1);
    assert_eq!(
        (pilot[0].old.as_deref(), pilot[0].new.as_deref()),
        (Some("1"), Some("2"))
    );
    // A blocking restriction moving down is the reverse of the watched move up.
    assert_eq!(pilot[0].impact, Impact::Improvement);
    let allow = find(&d, "Windows allowed for Intune Users", Some("priority"));
    assert_eq!(allow[0].impact, Impact::Neutral);

    let scope = find(&d, "Microsoft Intune", Some("includedGroups"));
    assert_eq!(scope.len(), 1);
    assert_eq!(scope[0].area, ChangeArea::MdmScope);
    assert_eq!(scope[0].old.as_deref(), Some("All Staff"));
    assert_eq!(scope[0].impact, Impact::Regression);

    let ca = find(
        &d,
        "Require compliant device for Intune enrollment (finance pilot)",
        None,
    );
    assert_eq!(ca.len(), 1);
    assert_eq!(ca[0].kind, ChangeKind::Added);
    assert_eq!(ca[0].impact, Impact::Regression);
    assert_eq!(d.changes.len(), 4, "{:#?}", d.changes);
    assert!(d.regressed());
}

#[test]
fn the_fixture_pair_shows_whose_readiness_changed_and_why() {
    let d = run(&fixture("contoso-old.json"), &fixture("contoso-new.json"));
    let who = |upn: &str| {
        d.readiness
            .iter()
            .find(|s| s.subject == upn)
            .unwrap_or_else(|| panic!("{upn} not in {:#?}", d.readiness))
    };
    let checks = |upn: &str| -> Vec<(String, Option<Status>, Option<Status>)> {
        who(upn)
            .checks
            .iter()
            .map(|c| (c.check.clone(), c.old.clone(), c.new.clone()))
            .collect()
    };
    for upn in ["mgarcia@contoso.com", "it-admin@contoso.com"] {
        assert_eq!(who(upn).trend, Trend::NewlyNotReady);
        assert_eq!(
            checks(upn),
            [("USR003".into(), Some(Status::Pass), Some(Status::Fail))]
        );
    }
    assert_eq!(who("intern@contoso.com").trend, Trend::NewlyFailing);
    assert_eq!(who("asmith@contoso.com").trend, Trend::NewlyNotReady);
    assert!(checks("asmith@contoso.com").iter().any(|c| c.0 == "USR009"));
    assert_eq!(who("tlee@contoso.com").trend, Trend::NewlyReady);
    assert_eq!(
        checks("tlee@contoso.com"),
        [("USR005".into(), Some(Status::Fail), Some(Status::Pass))]
    );
    // The CA policy added for asmith also fails TEN009 for the tenant.
    let tenant = who("tenant");
    assert_eq!(tenant.trend, Trend::NewlyNotReady);
    assert_eq!(
        tenant
            .checks
            .iter()
            .map(|c| (c.check.as_str(), c.old.clone(), c.new.clone()))
            .collect::<Vec<_>>(),
        [("TEN009", Some(Status::Pass), Some(Status::Fail))]
    );
    assert_eq!(d.summary.newly_not_ready, 4);
    assert_eq!(d.summary.newly_ready, 1);
    assert_eq!(d.summary.newly_failing, 1);
    assert!(!d.readiness.iter().any(|s| s.subject == "jdoe@contoso.com"));
}

#[test]
fn a_source_one_snapshot_lacks_is_said_not_compared() {
    let old = fixture("contoso-old.json");
    let mut new = old.clone();
    new.sources.mdm_policies = Source::Missing {
        reason: MissingReason::AppOnlyUnsupported,
    };
    let d = run(&old, &new);
    assert!(
        d.not_compared
            .iter()
            .any(|n| n.starts_with("mdm_policies: missing in NEW"))
    );
    assert!(!d.changes.iter().any(|c| c.area == ChangeArea::MdmScope));
}

#[test]
fn watched_settings_that_get_weaker_are_regressions() {
    let old = fixture("contoso-old.json");
    let mut new = old.clone();
    let s = &mut new.sources;
    if let Some(l) = s.mam_policies.data_mut() {
        l[0].applies_to = Some("all".into());
    }
    if let Some(p) = s.device_registration_policy.data_mut() {
        p.user_device_quota = Some(5);
        if let Some(j) = p
            .azure_ad_join
            .as_mut()
            .and_then(|j| j.allowed_to_join.as_mut())
        {
            j.odata_type = Some("#microsoft.graph.noDeviceRegistrationMembership".into());
        }
    }
    if let Some(l) = s.subscribed_skus.data_mut() {
        for sku in l.iter_mut() {
            sku.capability_status = Some("Suspended".into());
        }
    }
    if let Some(l) = s.enrollment_configurations.data_mut() {
        for c in l.iter_mut() {
            if c.display_name.as_deref() == Some("Windows allowed for Intune Users")
                && let Some(r) = c.platform_restriction.as_mut()
            {
                r.personal_device_enrollment_blocked = Some(true);
                r.os_minimum_version = Some("10.0.22631".into());
            }
            if c.limit.is_some() {
                c.limit = Some(1);
            }
        }
    }
    if let Some(o) = s.organization.data_mut() {
        o.mobile_device_management_authority = Some("sccm".into());
    }
    let d = run(&old, &new);
    let regression = |field: &str| {
        d.changes
            .iter()
            .any(|c| c.field.as_deref() == Some(field) && c.impact == Impact::Regression)
    };
    for f in [
        "appliesTo",
        "userDeviceQuota",
        "azureADJoin.allowedToJoin",
        "capabilityStatus",
        "platformRestriction.personalDeviceEnrollmentBlocked",
        "platformRestriction.osMinimumVersion",
        "limit",
        "mobileDeviceManagementAuthority",
    ] {
        assert!(regression(f), "{f} not a regression: {:#?}", d.changes);
    }
    // And back again: improvements, no regression.
    let back = run(&new, &old);
    assert_eq!(back.summary.regressions, 0, "{:#?}", back.changes);
    assert!(back.summary.improvements >= 8);
}

#[test]
fn snapshots_of_other_tenants_are_refused() {
    let old = fixture("contoso-old.json");
    let mut new = old.clone();
    new.tenant_id = "00000000-0000-0000-0000-000000000001".into();
    let e = diff(&old, "a.json", &new, "b.json", as_of()).err();
    assert!(e.is_some_and(|e| e.to_string().contains("different tenants")));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]

    /// Whatever the values (priorities, scopes, versions, states), the comparison never panics
    /// and a snapshot compared with itself has no change.
    #[test]
    fn never_panics(
        priority in proptest::num::i64::ANY,
        applies in "[a-zA-Z]{0,8}",
        version in "[0-9.]{0,12}",
        state in "[a-zA-Z]{0,12}",
    ) {
        let old = fixture("contoso-old.json");
        let mut new = old.clone();
        let s = &mut new.sources;
        if let Some(l) = s.enrollment_configurations.data_mut() {
            for c in l.iter_mut() {
                c.priority = priority;
                if let Some(r) = c.platform_restriction.as_mut() {
                    r.os_maximum_version = Some(version.clone());
                }
            }
        }
        if let Some(l) = s.mdm_policies.data_mut() {
            l[0].applies_to = Some(applies.clone());
        }
        if let Some(l) = s.conditional_access_policies.data_mut() {
            for p in l.iter_mut() {
                p.state = Some(state.clone());
            }
        }
        let _ = run(&old, &new);
        proptest::prop_assert!(run(&new, &new).changes.is_empty());
    }
}

#[test]
fn redacted_with_one_key_the_pair_shows_the_same_changes_and_regressions() {
    let key = crate::redact::Redactor::random();
    let (mut old, mut new) = (fixture("contoso-old.json"), fixture("contoso-new.json"));
    let plain = run(&old, &new);
    key.snapshot(&mut old);
    key.snapshot(&mut new);
    let d = run(&old, &new);
    assert!(d.old.redacted && d.new.redacted);
    assert!(
        d.notes.iter().any(|n| n.contains("same key")),
        "{:?}",
        d.notes
    );
    assert_eq!(d.summary, plain.summary);
    let shape = |d: &SnapshotDiff| -> Vec<(ChangeArea, ChangeKind, Option<String>, Impact)> {
        d.changes
            .iter()
            .map(|c| (c.area, c.kind, c.field.clone(), c.impact))
            .collect()
    };
    assert_eq!(shape(&d), shape(&plain));
    let trends = |d: &SnapshotDiff| -> Vec<(Trend, Vec<String>)> {
        let mut v: Vec<_> = d
            .readiness
            .iter()
            .map(|s| (s.trend, s.checks.iter().map(|c| c.check.clone()).collect()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(trends(&d), trends(&plain));
    // Nothing real is named: the group that left the MDM scope and the users are pseudonyms.
    let text = serde_json::to_string(&d).unwrap();
    for real in ["All Staff", "mgarcia@contoso.com", "asmith", "contoso.com"] {
        assert!(!text.contains(real), "{real} in the redacted diff");
    }
}
