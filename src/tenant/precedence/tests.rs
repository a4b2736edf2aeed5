use super::*;
use std::collections::BTreeSet;

const PILOT: &str = "11111111-1111-1111-1111-111111111111";
const WAVE2: &str = "22222222-2222-2222-2222-222222222222";
const EXCLUDED: &str = "33333333-3333-3333-3333-333333333333";

fn configs(json: &str) -> Vec<EnrollmentConfiguration> {
    serde_json::from_str(json).unwrap_or_default()
}

fn default_platform(blocked: bool) -> String {
    format!(
        r##"{{"@odata.type":"#microsoft.graph.deviceEnrollmentPlatformRestrictionsConfiguration",
        "id":"t_DefaultPlatformRestrictions","displayName":"All users and all devices","priority":0,
        "deviceEnrollmentConfigurationType":"platformRestrictions",
        "windowsRestriction":{{"platformBlocked":{blocked},"personalDeviceEnrollmentBlocked":false,
          "osMinimumVersion":"","osMaximumVersion":null}},
        "assignments":[{{"id":"a0","target":{{"@odata.type":"#microsoft.graph.allLicensedUsersAssignmentTarget"}}}}]}}"##
    )
}

fn single(id: &str, name: &str, priority: i64, targets: &str, personal: bool) -> String {
    format!(
        r##"{{"@odata.type":"#microsoft.graph.deviceEnrollmentPlatformRestrictionConfiguration",
        "id":"{id}_SinglePlatformRestriction","displayName":"{name}","priority":{priority},
        "deviceEnrollmentConfigurationType":"singlePlatformRestriction","platformType":"windows",
        "platformRestriction":{{"platformBlocked":false,"personalDeviceEnrollmentBlocked":{personal},
          "osMinimumVersion":null,"osMaximumVersion":""}},
        "assignments":[{targets}]}}"##
    )
}

fn group(g: &str) -> String {
    format!(
        r##"{{"id":"{g}_a","target":{{"@odata.type":"#microsoft.graph.groupAssignmentTarget","groupId":"{g}"}}}}"##
    )
}

fn exclude(g: &str) -> String {
    format!(
        r##"{{"id":"{g}_x","target":{{"@odata.type":"#microsoft.graph.exclusionGroupAssignmentTarget","groupId":"{g}"}}}}"##
    )
}

fn user_in(groups: &[&str]) -> (User, GroupMemberships) {
    let user = User {
        id: "aaaaaaaa-0000-0000-0000-000000000001".into(),
        user_principal_name: "jdoe@contoso.com".into(),
        ..Default::default()
    };
    let mut m = GroupMemberships {
        all_users_resolved: true,
        relevant_groups: vec![PILOT.into(), WAVE2.into(), EXCLUDED.into()],
        ..Default::default()
    };
    m.groups.insert(
        PILOT.into(),
        crate::tenant::snapshot::GroupRef {
            id: PILOT.into(),
            display_name: Some("Pilot".into()),
        },
    );
    m.members.insert(
        user.id.clone(),
        groups
            .iter()
            .map(|g| g.to_string())
            .collect::<BTreeSet<_>>(),
    );
    (user, m)
}

fn winner_name(cfgs: &[EnrollmentConfiguration], groups: &[&str]) -> (String, String) {
    let (u, m) = user_in(groups);
    let w = winning_restrictions(cfgs, &u, Some(&m));
    w.windows_platform
        .map(|w| (w.config.name().to_string(), w.via.clone()))
        .unwrap_or_default()
}

fn filtered_group(g: &str, filter: &str, mode: &str) -> String {
    format!(
        r##"{{"id":"{g}_f","target":{{"@odata.type":"#microsoft.graph.groupAssignmentTarget","groupId":"{g}",
        "deviceAndAppManagementAssignmentFilterId":"{filter}","deviceAndAppManagementAssignmentFilterType":"{mode}"}}}}"##
    )
}

#[test]
fn a_filtered_assignment_is_a_dependency_not_a_winner() {
    let c = configs(&format!(
        "[{},{},{}]",
        default_platform(false),
        single(
            "c1",
            "HP only",
            1,
            &filtered_group(PILOT, "f-hp", "include"),
            true
        ),
        single("c2", "Wave 2", 2, &group(WAVE2), false),
    ));
    let (u, m) = user_in(&[PILOT, WAVE2]);
    let w = winning_restrictions(&c, &u, Some(&m)).windows_platform;
    let w = w.unwrap_or_else(|| panic!("no winner"));
    // Not the filtered one: the next assigned restriction wins for the other devices.
    assert_eq!(w.config.name(), "Wave 2");
    assert_eq!(w.depends_on_filters.len(), 1);
    let dep = &w.depends_on_filters[0];
    assert_eq!(dep.config.name(), "HP only");
    let what = dep.describe(None);
    assert!(
        what.contains("devices that match assignment filter f-hp"),
        "{what}"
    );
    let named = dep.describe(Some(&[AssignmentFilter {
        id: "F-HP".into(),
        display_name: Some("HP devices".into()),
        rule: Some(r#"(device.manufacturer -eq "HP")"#.into()),
        ..Default::default()
    }]));
    assert!(
        named.contains(r#"filter "HP devices" (rule (device.manufacturer -eq "HP"))"#),
        "{named}"
    );
    // "none" is no filter; an exclude filter is one.
    let none = configs(&format!(
        "[{},{}]",
        default_platform(false),
        single(
            "c1",
            "Pilot",
            1,
            &filtered_group(PILOT, "f-hp", "none"),
            true
        ),
    ));
    let w = winning_restrictions(&none, &u, Some(&m)).windows_platform;
    assert!(w.is_some_and(|w| w.config.name() == "Pilot" && w.depends_on_filters.is_empty()));
    let exclude = configs(&format!(
        "[{},{}]",
        default_platform(false),
        single(
            "c1",
            "Pilot",
            1,
            &filtered_group(PILOT, "f-hp", "exclude"),
            true
        ),
    ));
    let w = winning_restrictions(&exclude, &u, Some(&m)).windows_platform;
    assert!(w.is_some_and(|w| {
        w.is_default()
            && w.depends_on_filters[0]
                .describe(None)
                .contains("do not match")
    }));
    // An unfiltered route beside a filtered one: assigned whatever the device.
    let both = format!(
        "{},{}",
        filtered_group(PILOT, "f-hp", "include"),
        group(WAVE2)
    );
    let mixed = configs(&format!(
        "[{},{}]",
        default_platform(false),
        single("c1", "Pilot", 1, &both, true),
    ));
    assert_eq!(winner_name(&mixed, &[PILOT, WAVE2]).0, "Pilot");
}

#[test]
fn the_device_decides_the_filters_it_can() {
    let c = configs(&format!(
        "[{},{},{}]",
        default_platform(false),
        single(
            "c1",
            "HP only",
            1,
            &filtered_group(PILOT, "f-hp", "include"),
            true
        ),
        single(
            "c2",
            "All but Enterprise",
            2,
            &filtered_group(WAVE2, "f-ent", "exclude"),
            false
        ),
    ));
    let filters = vec![
        AssignmentFilter {
            id: "f-hp".into(),
            display_name: Some("HP devices".into()),
            rule: Some(r#"(device.manufacturer -eq "HP")"#.into()),
            ..Default::default()
        },
        AssignmentFilter {
            id: "f-ent".into(),
            display_name: Some("Enterprise".into()),
            rule: Some(r#"(device.operatingSystemSKU -eq "Enterprise")"#.into()),
            ..Default::default()
        },
    ];
    let (u, m) = user_in(&[PILOT, WAVE2]);
    let device = |man: &str, edition: &str, build: u32| FilterDevice {
        os_build: Some(build),
        os_ubr: Some(4000),
        edition_id: Some(edition.into()),
        manufacturer: Some(man.into()),
        ..Default::default()
    };
    let winner = |d: &FilterDevice, read: bool| {
        let ctx = FilterContext {
            device: d,
            filters: read.then_some(filters.as_slice()),
        };
        winning_restrictions_for(&c, &u, Some(&m), Some(&ctx))
            .windows_platform
            .unwrap_or_else(|| panic!("no winner"))
    };
    // Include filter matches: the filtered restriction wins, with its evaluation.
    let hp = device("HP", "Enterprise", 22631);
    let w = winner(&hp, true);
    assert_eq!(w.config.name(), "HP only");
    assert!(
        w.via.contains("assignment filter \"HP devices\""),
        "{}",
        w.via
    );
    assert!(w.depends_on_filters.is_empty());
    assert_eq!(w.filter_checks.len(), 1);
    assert!(
        w.filter_checks[0]
            .describe()
            .contains("the device matches (manufacturer is \"HP\"), so the restriction applies"),
        "{}",
        w.filter_checks[0].describe()
    );
    // Include does not match, exclude matches: neither applies, the default wins, and
    // nothing is left open.
    let dell = device("Dell Inc.", "Enterprise", 22631);
    let w = winner(&dell, true);
    assert!(w.is_default() && w.depends_on_filters.is_empty(), "{w:?}");
    assert_eq!(w.filter_checks.len(), 2);
    assert!(w.reasoning.iter().any(|r| r.contains("does not apply")));
    // Exclude does not match: that restriction applies.
    let pro = device("Dell Inc.", "Professional", 22631);
    assert_eq!(winner(&pro, true).config.name(), "All but Enterprise");
    // Undecidable (manufacturer before 22621.3374): a dependency with the reason.
    let old = device("HP", "Professional", 19045);
    let w = winner(&old, true);
    assert_eq!(w.config.name(), "All but Enterprise");
    assert_eq!(w.depends_on_filters.len(), 1);
    let what = w.depends_on_filters[0].describe(Some(&filters));
    assert!(
        what.contains("not decided from the device report") && what.contains("KB5035942"),
        "{what}"
    );
    // Filters not read: nothing decided.
    let w = winner(&hp, false);
    assert!(w.is_default() && w.depends_on_filters.len() == 2, "{w:?}");
    assert!(
        w.depends_on_filters[0]
            .describe(None)
            .contains("were not read")
    );
    // No device: as before.
    let w = winning_restrictions(&c, &u, Some(&m)).windows_platform;
    assert!(w.is_some_and(|w| w.is_default()
        && w.depends_on_filters.len() == 2
        && w.filter_checks.is_empty()));
}

#[test]
fn default_only() {
    let c = configs(&format!("[{}]", default_platform(false)));
    assert_eq!(
        winner_name(&c, &[PILOT]),
        ("All users and all devices".into(), "default".into())
    );
}

#[test]
fn one_custom_assigned_and_not_assigned() {
    let c = configs(&format!(
        "[{},{}]",
        default_platform(false),
        single("c1", "Pilot Windows block", 1, &group(PILOT), false)
    ));
    assert_eq!(
        winner_name(&c, &[PILOT]),
        ("Pilot Windows block".into(), "group Pilot".into())
    );
    assert_eq!(winner_name(&c, &[]).1, "default");
}

#[test]
fn two_customs_lowest_priority_number_wins() {
    let c = configs(&format!(
        "[{},{},{}]",
        default_platform(false),
        single("c2", "Wave 2", 2, &group(WAVE2), false),
        single("c1", "Pilot", 1, &group(PILOT), true),
    ));
    assert_eq!(winner_name(&c, &[PILOT, WAVE2]).0, "Pilot");
    assert_eq!(winner_name(&c, &[WAVE2]).0, "Wave 2");
}

#[test]
fn exclusion_group_removes_the_user() {
    let targets = format!("{},{}", group(PILOT), exclude(EXCLUDED));
    let c = configs(&format!(
        "[{},{}]",
        default_platform(false),
        single("c1", "Pilot", 1, &targets, true),
    ));
    assert_eq!(winner_name(&c, &[PILOT]).0, "Pilot");
    let (u, m) = user_in(&[PILOT, EXCLUDED]);
    let w = winning_restrictions(&c, &u, Some(&m)).windows_platform;
    assert_eq!(w.as_ref().map(|w| w.via.as_str()), Some("default"));
    assert!(
        w.is_some_and(|w| w.reasoning.iter().any(|r| r.contains("exclusion"))),
        "the reasoning names the exclusion"
    );
}

#[test]
fn legacy_and_single_platform_share_the_windows_priority_list() {
    let legacy = |prio: i64| {
        format!(
            r##"{{"@odata.type":"#microsoft.graph.deviceEnrollmentPlatformRestrictionsConfiguration",
            "id":"legacy{prio}","displayName":"Legacy {prio}","priority":{prio},
            "windowsRestriction":{{"platformBlocked":true,"personalDeviceEnrollmentBlocked":false}},
            "assignments":[{}]}}"##,
            group(PILOT)
        )
    };
    let c = configs(&format!(
        "[{},{},{}]",
        default_platform(false),
        single("s2", "Single 2", 2, &group(PILOT), false),
        legacy(1),
    ));
    assert_eq!(winner_name(&c, &[PILOT]).0, "Legacy 1");
    let c = configs(&format!(
        "[{},{},{}]",
        default_platform(false),
        single("s1", "Single 1", 1, &group(PILOT), false),
        legacy(2),
    ));
    assert_eq!(winner_name(&c, &[PILOT]).0, "Single 1");
    // Another platform's single restriction never counts for Windows.
    let ios = single("i1", "iOS", 1, &group(PILOT), true).replace("\"windows\"", "\"ios\"");
    let c = configs(&format!("[{},{ios}]", default_platform(false)));
    assert_eq!(winner_name(&c, &[PILOT]).1, "default");
}

#[test]
fn all_users_custom_beats_default() {
    let all = r##"{"id":"all","target":{"@odata.type":"microsoft.graph.allLicensedUsersAssignmentTarget"}}"##;
    let c = configs(&format!(
        "[{},{}]",
        default_platform(false),
        single("c3", "Everyone", 3, all, false),
    ));
    assert_eq!(
        winner_name(&c, &[]),
        ("Everyone".into(), "all users".into())
    );
}

#[test]
fn unassigned_custom_has_no_effect_and_unknown_membership_is_flagged() {
    let c = configs(&format!(
        "[{},{}]",
        default_platform(true),
        single("c4", "Nobody", 1, "", false),
    ));
    assert_eq!(winner_name(&c, &[PILOT]).1, "default");
    let u = User {
        id: "x".into(),
        ..Default::default()
    };
    let c = configs(&format!(
        "[{},{}]",
        default_platform(false),
        single("c1", "Pilot", 1, &group(PILOT), false),
    ));
    let w = winning_restrictions(&c, &u, None).windows_platform;
    assert!(w.is_some_and(|w| w.uncertain && w.is_default()));
}

#[test]
fn device_limit_family_is_separate() {
    let c = configs(&format!(
        r##"[{},{{"@odata.type":"#microsoft.graph.deviceEnrollmentLimitConfiguration","id":"t_DefaultLimit","priority":0,"limit":15}},
        {{"@odata.type":"#microsoft.graph.deviceEnrollmentLimitConfiguration","id":"l1_Limit","displayName":"Pilot limit","priority":1,"limit":2,"assignments":[{}]}}]"##,
        default_platform(false),
        group(PILOT)
    ));
    let (u, m) = user_in(&[PILOT]);
    let w = winning_restrictions(&c, &u, Some(&m));
    assert_eq!(w.device_limit.and_then(|w| w.config.limit), Some(2));
    assert!(w.windows_platform.is_some_and(|w| w.is_default()));
}

#[test]
fn versions_compare_numerically_without_revision() {
    let v = |s| WindowsVersion::parse(s).unwrap_or(WindowsVersion([0; 4]));
    assert!(v("10.0.9999") < v("10.0.19045"));
    assert!(
        os_version_blocked(Some("10.0.17134.100"), None, v("10.0.17134.174"))
            .is_some_and(|r| r.contains("revision"))
    );
    assert!(os_version_blocked(Some("10.0.17134.0"), None, v("10.0.17134.174")).is_none());
    assert!(os_version_blocked(None, Some("10.0.19045.9999"), v("10.0.22631.1")).is_some());
    assert!(os_version_blocked(Some(""), Some(""), v("10.0.22631.1")).is_none());
    assert_eq!(WindowsVersion::parse("10.x"), None);
}
