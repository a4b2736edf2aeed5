use super::*;
use proptest::prelude::*;

fn cmp(p: &str, op: Op, v: Value) -> Expr {
    Expr::Cmp(Comparison {
        entity: "device".into(),
        property: p.into(),
        op,
        value: v,
        at: 0,
    })
}

/// The tree without positions.
fn strip(e: Expr) -> Expr {
    match e {
        Expr::And(v) => Expr::And(v.into_iter().map(strip).collect()),
        Expr::Or(v) => Expr::Or(v.into_iter().map(strip).collect()),
        Expr::Cmp(c) => Expr::Cmp(Comparison { at: 0, ..c }),
    }
}

fn p(rule: &str) -> Expr {
    parse(rule)
        .map(strip)
        .unwrap_or_else(|e| panic!("{rule}: {e}"))
}

fn err(rule: &str) -> RuleError {
    match parse(rule) {
        Ok(e) => panic!("{rule} parsed: {e:?}"),
        Err(e) => e,
    }
}

#[test]
fn documented_examples_parse() {
    assert_eq!(
        p(r#"(device.osVersion -startsWith "10.0.22") and (device.manufacturer -eq "Dell Inc.")"#),
        Expr::And(vec![
            cmp("osVersion", Op::StartsWith, Value::Str("10.0.22".into())),
            cmp("manufacturer", Op::Eq, Value::Str("Dell Inc.".into())),
        ])
    );
    assert_eq!(
        p(r#"device.operatingSystemSKU -in ["Enterprise","Education"]"#),
        cmp(
            "operatingSystemSKU",
            Op::In,
            Value::List(vec!["Enterprise".into(), "Education".into()])
        )
    );
    // Operators and joins with or without the dash, in any case; null; bare versions.
    assert_eq!(
        p(r#"(device.model NOTCONTAINS "Virtual") -OR (device.enrollmentProfileName -ne $Null)"#),
        Expr::Or(vec![
            cmp("model", Op::NotContains, Value::Str("Virtual".into())),
            cmp("enrollmentProfileName", Op::Ne, Value::Null),
        ])
    );
    assert_eq!(
        p("(device.operatingSystemVersion -ge 10.0.22000.1000)"),
        cmp(
            "operatingSystemVersion",
            Op::Ge,
            Value::Bare("10.0.22000.1000".into())
        )
    );
    // Nested parentheses and multi-line rules.
    assert_eq!(
        p(
            "((device.manufacturer -eq \"HP\")\n  or (device.manufacturer -eq \"Dell Inc.\"))\nand (device.osVersion -startsWith \"10.0.2\")"
        ),
        Expr::And(vec![
            Expr::Or(vec![
                cmp("manufacturer", Op::Eq, Value::Str("HP".into())),
                cmp("manufacturer", Op::Eq, Value::Str("Dell Inc.".into())),
            ]),
            cmp("osVersion", Op::StartsWith, Value::Str("10.0.2".into())),
        ])
    );
    assert_eq!(
        p(r#"device.deviceName -in []"#),
        cmp("deviceName", Op::In, Value::List(vec![]))
    );
}

#[test]
fn errors_name_what_and_where() {
    let e = err(r#"(device.manufacturer -eq "Dell"#);
    assert_eq!(e.kind, RuleErrorKind::UnterminatedString);
    assert_eq!(e.position, 26);
    assert_eq!(e.to_string(), "a string is not closed at character 26");
    let e = err(r#"(device.manufacturer -like "x")"#);
    assert_eq!(
        (e.kind, e.position),
        (RuleErrorKind::UnknownOperator("-like".into()), 22)
    );
    let e = err(
        r#"(device.manufacturer -eq "a") and (device.model -eq "b") or (device.model -eq "c")"#,
    );
    assert_eq!((e.kind, e.position), (RuleErrorKind::MixedAndOr, 58));
    assert_eq!(err("").kind, RuleErrorKind::Empty);
    assert_eq!(err("   \n").kind, RuleErrorKind::Empty);
    assert!(matches!(
        err(r#"(device.model -eq "a""#).kind,
        RuleErrorKind::ExpectedClose(_)
    ));
    assert!(matches!(
        err(r#"manufacturer -eq "a""#).kind,
        RuleErrorKind::ExpectedProperty(_)
    ));
    assert!(matches!(
        err(r#"device.model -in ["a" "b"]"#).kind,
        RuleErrorKind::ExpectedListItem(_)
    ));
    assert!(matches!(
        err(r#"device.model -eq"#).kind,
        RuleErrorKind::ExpectedValue(_)
    ));
    assert!(matches!(
        err(r#"device.model -eq "a" (device.model -eq "b")"#).kind,
        RuleErrorKind::ExpectedJoin(_)
    ));
    let deep = format!(
        "{}device.model -eq \"a\"{}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    assert_eq!(err(&deep).kind, RuleErrorKind::TooDeep);
    assert_eq!(
        err(&"x".repeat(MAX_RULE_CHARS + 1)).kind,
        RuleErrorKind::TooLong
    );
    // Positions count characters, not bytes.
    let e = err("(device.model -eq \"é\") ?");
    assert_eq!(e.position, 24);
}

fn dell_11_23h2() -> FilterDevice {
    FilterDevice {
        os_build: Some(22631),
        os_ubr: Some(4460),
        edition_id: Some("Enterprise".into()),
        manufacturer: Some("Dell Inc.".into()),
        model: Some("Latitude 7440".into()),
        enrollment_profile_name: None,
    }
}

fn outcome(rule: &str, d: &FilterDevice) -> FilterOutcome {
    evaluate_rule(rule, d).outcome
}

#[test]
fn decided_rules_match_or_not() {
    let d = dell_11_23h2();
    assert_eq!(
        outcome(
            r#"(device.osVersion -startsWith "10.0.22") and (device.manufacturer -eq "dell inc.")"#,
            &d
        ),
        FilterOutcome::Match
    );
    assert_eq!(
        outcome(
            r#"device.operatingSystemSKU -in ["Enterprise","Education"]"#,
            &d
        ),
        FilterOutcome::Match
    );
    assert_eq!(
        outcome(r#"device.operatingSystemSKU -eq "Core""#, &d),
        FilterOutcome::NoMatch
    );
    assert_eq!(
        outcome(
            r#"(device.model -contains "latitude") and (device.manufacturer -ne "HP")"#,
            &d
        ),
        FilterOutcome::Match
    );
    assert_eq!(
        outcome(r#"device.model -notContains "Latitude""#, &d),
        FilterOutcome::NoMatch
    );
    assert_eq!(
        outcome(r#"device.manufacturer -notIn ["HP", "Lenovo"]"#, &d),
        FilterOutcome::Match
    );
    assert_eq!(
        outcome(r#"device.manufacturer -ne $null"#, &d),
        FilterOutcome::Match
    );
    // The revision is not sent at enrollment: both forms agree here.
    assert_eq!(
        outcome(r#"device.osVersion -in ["10.0.22631", "10.0.22631.0"]"#, &d),
        FilterOutcome::Match
    );
    assert_eq!(
        outcome(r#"device.osVersion -startsWith "10.0.22631.4460""#, &d),
        FilterOutcome::NoMatch
    );
    // Facts used are named.
    let ev = evaluate_rule(r#"device.operatingSystemSKU -eq "Enterprise""#, &d);
    assert_eq!(
        ev.facts,
        vec!["operatingSystemSKU is \"Enterprise\"".to_string()]
    );
}

#[test]
fn what_the_report_cannot_decide_is_unknown_naming_the_property() {
    let d = dell_11_23h2();
    // The exact form differs between "10.0.22631" and "10.0.22631.0".
    let FilterOutcome::Unknown(why) = outcome(r#"device.osVersion -eq "10.0.22631""#, &d) else {
        panic!("decided")
    };
    assert!(why.contains("osVersion"), "{why}");
    // Not evaluated at enrollment: the whole rule is undecided, even beside a false part.
    for (rule, named) in [
        (
            r#"(device.deviceName -startsWith "PC") and (device.operatingSystemSKU -eq "Core")"#,
            "deviceName",
        ),
        (r#"device.cpuArchitecture -eq "arm64""#, "cpuArchitecture"),
        (
            r#"device.operatingSystemVersion -ge 10.0.22000"#,
            "operatingSystemVersion",
        ),
        (r#"device.manufacturer -endsWith "Inc.""#, "-endsWith"),
        (r#"app.appVersion -eq "1""#, "app.appVersion"),
    ] {
        let FilterOutcome::Unknown(why) = outcome(rule, &d) else {
            panic!("{rule} decided")
        };
        assert!(why.contains(named), "{rule}: {why}");
    }
    // Manufacturer and model only from 22621.3374 / 22631.3374.
    let old = FilterDevice {
        os_build: Some(22631),
        os_ubr: Some(3000),
        ..dell_11_23h2()
    };
    let FilterOutcome::Unknown(why) = outcome(r#"device.manufacturer -eq "Dell Inc.""#, &old)
    else {
        panic!("decided")
    };
    assert!(
        why.contains("KB5035942") && why.contains("10.0.22631.3000"),
        "{why}"
    );
    let w10 = FilterDevice {
        os_build: Some(19045),
        ..dell_11_23h2()
    };
    assert!(matches!(
        outcome(r#"device.model -eq "x""#, &w10),
        FilterOutcome::Unknown(_)
    ));
    let w11_24h2 = FilterDevice {
        os_build: Some(26100),
        os_ubr: None,
        ..dell_11_23h2()
    };
    assert_eq!(
        outcome(r#"device.model -eq "Latitude 7440""#, &w11_24h2),
        FilterOutcome::Match
    );
    // A value the report lacks: Kleene logic still decides what it can.
    let bare = FilterDevice {
        edition_id: Some("Enterprise".into()),
        os_build: Some(26100),
        ..Default::default()
    };
    assert!(matches!(
        outcome(r#"device.manufacturer -eq "Dell Inc.""#, &bare),
        FilterOutcome::Unknown(why) if why.contains("manufacturer")
    ));
    assert_eq!(
        outcome(
            r#"(device.manufacturer -eq "Dell Inc.") and (device.operatingSystemSKU -eq "Core")"#,
            &bare
        ),
        FilterOutcome::NoMatch
    );
    assert_eq!(
        outcome(
            r#"(device.manufacturer -eq "Dell Inc.") or (device.operatingSystemSKU -eq "Enterprise")"#,
            &bare
        ),
        FilterOutcome::Match
    );
    assert!(matches!(
        outcome(r#"device.deviceOwnership -eq "Corporate""#, &bare),
        FilterOutcome::Unknown(why) if why.contains("deviceOwnership")
    ));
    assert!(matches!(
        outcome(r#"device.enrollmentProfileName -eq "Autopilot""#, &bare),
        FilterOutcome::Unknown(why) if why.contains("enrollmentProfileName")
    ));
    // An edition the documentation names ambiguously is not guessed.
    let n = FilterDevice {
        edition_id: Some("ProfessionalN".into()),
        ..bare.clone()
    };
    assert!(matches!(
        outcome(
            r#"device.operatingSystemSKU -startsWith "Professional""#,
            &n
        ),
        FilterOutcome::Unknown(_)
    ));
    // An operator that does not fit the value.
    assert!(matches!(
        outcome(r#"device.operatingSystemSKU -in "Enterprise""#, &bare),
        FilterOutcome::Unknown(_)
    ));
    assert!(matches!(
        outcome(r#"device.operatingSystemSKU -gt "Enterprise""#, &bare),
        FilterOutcome::Unknown(_)
    ));
    // A rule that cannot be read is undecided, with the parse error.
    assert!(matches!(
        outcome("(device.model -eq", &bare),
        FilterOutcome::Unknown(why) if why.contains("could not be read")
    ));
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_input(s in "\\PC{0,300}") {
        let _ = parse(&s);
        let _ = evaluate_rule(&s, &dell_11_23h2());
    }

    #[test]
    fn never_panics_on_rule_like_input(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("(".to_string()), Just(")".to_string()), Just("[".to_string()),
                Just("]".to_string()), Just(",".to_string()), Just("\"".to_string()),
                Just(" and ".to_string()), Just(" -or ".to_string()),
                Just("device.manufacturer".to_string()), Just("device.osVersion".to_string()),
                Just(" -eq ".to_string()), Just(" -in ".to_string()), Just(" -startsWith ".to_string()),
                Just("\"Dell Inc.\"".to_string()), Just("$null".to_string()), Just("10.0.22631".to_string()),
                "\\PC{0,4}",
            ],
            0..60,
        )
    ) {
        let s = parts.concat();
        let _ = parse(&s);
        let _ = evaluate_rule(&s, &dell_11_23h2());
    }
}
