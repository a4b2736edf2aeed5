//! The mock's copy of Graph's metadata (`mocks/schema/graph-schema.json`) is a generated subset
//! of the compact reference schema (`../shared/reference/graph-schema/graph-schema.json`, see its
//! README): the entity types reachable from the roots enroll-doctor reads.
//!
//! This test is both the generator and the check:
//! - with the reference present, it computes the subset and compares it with the committed file
//!   (`MOCK_SCHEMA_UPDATE=1 cargo test -p mock-graph --test schema_subset` rewrites the file);
//! - always (also on a fresh checkout without `../shared`), it checks that the committed file is
//!   closed under base types, describes the roots the tool reads and has the members its
//!   requests name.
//!
//! The subset: start from the types of [`ROOTS`]; follow the navigation properties of a reached
//! type and of its base types breadth-first up to [`NAV_DEPTH`] hops; every reached type brings
//! its base types and all its derived types (for type casts and for `$select` on polymorphic
//! collections) and their base types (a derived type's own navigations are not followed). Bound
//! operations are kept when bound to a kept type. Complex types are left out: the compact schema
//! names properties without their types, so nothing below a structural property is checked.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

/// The entity sets and singletons the tool reads (see README "Graph endpoints").
const ROOTS: &[&str] = &[
    "organization",
    "subscribedSkus",
    "users",
    "me",
    "groups",
    "devices",
    "directoryObjects",
    "directoryRoles",
    "deviceManagement",
    "policies",
    "identity",
];
/// Navigation hops followed from a root type (the tool's deepest path, e.g.
/// `identity/conditionalAccess/policies` or a policy's `$expand=includedGroups`, takes two).
const NAV_DEPTH: usize = 2;
const VERSIONS: &[&str] = &["v1.0", "beta"];

fn committed_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/graph-schema.json")
}

/// `../shared/reference/graph-schema/graph-schema.json` beside the repository, or the file
/// `GRAPH_SCHEMA_REFERENCE` names.
fn reference_path() -> PathBuf {
    match std::env::var_os("GRAPH_SCHEMA_REFERENCE") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/reference/graph-schema/graph-schema.json"),
    }
}

fn obj(v: &Value) -> &Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    v.as_object().unwrap_or_else(|| EMPTY.get_or_init(Map::new))
}

fn base_of<'a>(types: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    types.get(name)?.get("base")?.as_str()
}

/// The subset of one version's `{types, roots, ops}`.
fn subset_version(full: &Value) -> Value {
    let types = obj(&full["types"]);
    let roots = obj(&full["roots"]);
    let mut derived: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, t) in types {
        if let Some(b) = t.get("base").and_then(Value::as_str) {
            derived.entry(b).or_default().push(name.as_str());
        }
    }
    // Types reached through navigation (with their hop count), breadth-first.
    let mut reached: BTreeSet<String> = BTreeSet::new();
    let mut queue: VecDeque<(String, usize)> = ROOTS
        .iter()
        .filter_map(|r| roots.get(*r)?.get(0)?.as_str())
        .map(|t| (t.to_string(), 0))
        .collect();
    while let Some((name, depth)) = queue.pop_front() {
        if !types.contains_key(&name) || !reached.insert(name.clone()) {
            continue;
        }
        if depth == NAV_DEPTH {
            continue;
        }
        // Navigation properties of the type and of its base types.
        let mut cur = Some(name.as_str());
        while let Some(c) = cur {
            if let Some(navs) = types.get(c).and_then(|t| t.get("navs")) {
                for target in obj(navs).values() {
                    if let Some(t) = target.get(0).and_then(Value::as_str) {
                        queue.push_back((t.to_string(), depth + 1));
                    }
                }
            }
            cur = base_of(types, c);
        }
    }
    // Each reached type with its derived types (transitively) and the base chains of all.
    let mut kept: BTreeSet<String> = BTreeSet::new();
    for name in &reached {
        let mut family = vec![name.as_str()];
        let mut i = 0;
        while i < family.len() {
            if let Some(ds) = derived.get(family[i]) {
                family.extend(ds.iter().copied());
            }
            i += 1;
        }
        for member in family {
            let mut cur = Some(member);
            while let Some(c) = cur {
                if !types.contains_key(c) || !kept.insert(c.to_string()) {
                    break;
                }
                cur = base_of(types, c);
            }
        }
    }
    let mut out_types = Map::new();
    for name in &kept {
        if let Some(t) = types.get(name) {
            if t.get("kind").and_then(Value::as_str) != Some("EntityType") {
                continue;
            }
            out_types.insert(name.clone(), t.clone());
        }
    }
    let mut out_roots = Map::new();
    for (name, r) in roots {
        out_roots.insert(name.clone(), r.clone());
    }
    let mut out_ops = Map::new();
    for (name, overloads) in obj(&full["ops"]) {
        let keep: Vec<Value> = overloads
            .as_array()
            .into_iter()
            .flatten()
            .filter(|o| {
                o.get("binding")
                    .and_then(Value::as_str)
                    .is_some_and(|b| out_types.contains_key(b))
            })
            .cloned()
            .collect();
        if !keep.is_empty() {
            out_ops.insert(name.clone(), Value::Array(keep));
        }
    }
    json!({ "types": out_types, "roots": out_roots, "ops": out_ops })
}

fn subset(reference: &Value) -> Value {
    let mut out = Map::new();
    out.insert("source".into(), reference["source"].clone());
    out.insert(
        "subset".into(),
        json!({
            "of": "shared/reference/graph-schema/graph-schema.json",
            "roots": ROOTS,
            "nav_depth": NAV_DEPTH,
            "generator": "mocks/tests/schema_subset.rs (MOCK_SCHEMA_UPDATE=1)",
            "note": "entity types only; a navigation target not under types is outside the subset",
        }),
    );
    for v in VERSIONS {
        out.insert((*v).to_string(), subset_version(&reference[*v]));
    }
    Value::Object(out)
}

/// One type (root, op) per line, so a regeneration diffs readably.
fn render(schema: &Value) -> String {
    let mut s = String::from("{\n");
    let top = obj(schema);
    let n = top.len();
    for (i, (k, v)) in top.iter().enumerate() {
        let comma = if i + 1 < n { "," } else { "" };
        if VERSIONS.contains(&k.as_str()) {
            s.push_str(&format!("  {}: {{\n", json!(k)));
            let parts = obj(v);
            let pn = parts.len();
            for (j, (pk, pv)) in parts.iter().enumerate() {
                s.push_str(&format!("    {}: {{\n", json!(pk)));
                let entries = obj(pv);
                let en = entries.len();
                for (e, (ek, ev)) in entries.iter().enumerate() {
                    let c = if e + 1 < en { "," } else { "" };
                    s.push_str(&format!("      {}: {ev}{c}\n", json!(ek)));
                }
                let c = if j + 1 < pn { "," } else { "" };
                s.push_str(&format!("    }}{c}\n"));
            }
            s.push_str(&format!("  }}{comma}\n"));
        } else {
            s.push_str(&format!("  {}: {v}{comma}\n", json!(k)));
        }
    }
    s.push_str("}\n");
    s
}

#[test]
fn committed_subset_agrees_with_the_reference() {
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(committed_path()).unwrap()).unwrap();
    // Whatever is present, the committed file says where it comes from and how it was cut.
    assert!(
        committed["source"]
            .as_str()
            .is_some_and(|s| s.starts_with("microsoftgraph/msgraph-metadata@")),
        "{}",
        committed["source"]
    );
    assert_eq!(committed["subset"]["roots"], json!(ROOTS));
    assert_eq!(committed["subset"]["nav_depth"], json!(NAV_DEPTH));
    let reference = reference_path();
    if !reference.is_file() {
        eprintln!(
            "reference schema not found (../shared/reference is not part of a fresh checkout); \
             the closure test still checks the committed subset"
        );
        return;
    }
    let reference: Value =
        serde_json::from_str(&std::fs::read_to_string(&reference).unwrap()).unwrap();
    let expected = subset(&reference);
    let path = committed_path();
    if std::env::var_os("MOCK_SCHEMA_UPDATE").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, render(&expected)).unwrap();
    }
    let committed: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(
        committed == expected,
        "mocks/schema/graph-schema.json differs from the subset of the reference schema; \
         regenerate it with MOCK_SCHEMA_UPDATE=1 cargo test -p mock-graph --test schema_subset"
    );
}

#[test]
fn committed_subset_is_closed_under_bases_and_derived_types() {
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(committed_path()).unwrap()).unwrap();
    for v in VERSIONS {
        let types = obj(&committed[*v]["types"]);
        assert!(types.len() > 100, "{v}: {} types", types.len());
        for (name, t) in types {
            if let Some(b) = t["base"].as_str() {
                assert!(types.contains_key(b), "{v}: base {b} of {name} is missing");
            }
        }
        // The types the tool's requests land on are all there, with their members.
        for (ty, member) in [
            ("user", "userPrincipalName"),
            ("user", "transitiveMemberOf"),
            ("group", "transitiveMembers"),
            ("device", "trustType"),
            ("managedDevice", "azureADDeviceId"),
            ("directoryRole", "roleTemplateId"),
            ("deviceEnrollmentConfiguration", "assignments"),
            ("conditionalAccessPolicy", "grantControls"),
            ("organization", "mobileDeviceManagementAuthority"),
        ] {
            let t = &types[ty];
            let has = t["props"]
                .as_array()
                .is_some_and(|p| p.iter().any(|x| x == member))
                || t["navs"].get(member).is_some();
            assert!(has, "{v}: {ty}.{member}");
        }
        for root in ROOTS {
            let target = committed[*v]["roots"][*root][0].as_str().unwrap_or("");
            assert!(types.contains_key(target), "{v}: root {root} → {target}");
        }
    }
    let beta = obj(&committed["beta"]["types"]);
    assert!(beta.contains_key("mobileDeviceManagementPolicy"));
    assert!(beta.contains_key("deviceAndAppManagementAssignmentFilter"));
    assert!(!obj(&committed["v1.0"]["types"]).contains_key("mobileDeviceManagementPolicy"));
}
