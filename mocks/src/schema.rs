//! Graph's metadata for v1.0 and beta, as far as the mock checks requests against it: entity
//! types (base type, structural and navigation property names), entity sets and singletons, and
//! bound operations. The data is `mocks/schema/graph-schema.json`, a generated subset of the
//! compact reference schema (see `mocks/tests/schema_subset.rs`); names are matched ignoring ASCII
//! case, like Graph does.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

const SCHEMA_JSON: &str = include_str!("../schema/graph-schema.json");

/// One entity type.
#[derive(Debug, Deserialize)]
struct RawType {
    base: Option<String>,
    #[serde(default)]
    props: Vec<String>,
    /// Navigation property → `[target type ("?" = unknown), is collection]`.
    #[serde(default)]
    navs: HashMap<String, (String, bool)>,
}

#[derive(Debug, Deserialize)]
struct RawOp {
    binding: String,
    binding_coll: bool,
    returns: Option<String>,
    returns_coll: bool,
}

#[derive(Debug, Deserialize)]
struct RawVersion {
    types: HashMap<String, RawType>,
    roots: HashMap<String, (String, bool)>,
    ops: HashMap<String, Vec<RawOp>>,
}

#[derive(Debug, Deserialize)]
struct RawSchema {
    #[serde(rename = "v1.0")]
    v1: RawVersion,
    beta: RawVersion,
}

/// What a member name is on a type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Member {
    /// A structural property (its type is not in the compact schema).
    Property,
    /// A navigation property to `target` (`None`: unknown or outside the subset).
    Navigation {
        target: Option<String>,
        collection: bool,
    },
}

/// What a bound operation returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OpResult {
    /// An entity type of the schema, or `None` (a primitive, a complex type, nothing).
    pub entity: Option<String>,
    pub collection: bool,
}

#[derive(Debug)]
struct TypeDef {
    /// The type's own spelling.
    name: String,
    base: Option<String>,
    /// Lower-case names.
    props: Vec<String>,
    navs: HashMap<String, (Option<String>, bool)>,
}

/// One version's metadata, keyed by lower-case names.
#[derive(Debug)]
pub(crate) struct VersionSchema {
    types: HashMap<String, TypeDef>,
    roots: HashMap<String, (String, bool)>,
    ops: HashMap<String, Vec<RawOp>>,
    /// Type → its directly derived types (lower-case).
    derived: HashMap<String, Vec<String>>,
}

/// The root entity type every Graph entity derives from (it carries `id`).
const ENTITY: &str = "entity";

impl VersionSchema {
    fn build(raw: RawVersion) -> VersionSchema {
        let mut types = HashMap::new();
        let mut derived: HashMap<String, Vec<String>> = HashMap::new();
        for (name, t) in raw.types {
            let lower = name.to_ascii_lowercase();
            // Allowance: beta-only types whose base the compact schema does not know (it has
            // their names only) are entities all the same: they derive from `entity`.
            let base = t
                .base
                .or_else(|| (lower != ENTITY).then(|| ENTITY.to_string()))
                .map(|b| b.to_ascii_lowercase());
            if let Some(b) = &base {
                derived.entry(b.clone()).or_default().push(lower.clone());
            }
            let navs = t
                .navs
                .into_iter()
                .map(|(n, (target, coll))| {
                    let target = (target != "?").then(|| target.to_ascii_lowercase());
                    (n.to_ascii_lowercase(), (target, coll))
                })
                .collect();
            types.insert(
                lower,
                TypeDef {
                    name,
                    base,
                    props: t.props.iter().map(|p| p.to_ascii_lowercase()).collect(),
                    navs,
                },
            );
        }
        VersionSchema {
            types,
            roots: raw
                .roots
                .into_iter()
                .map(|(k, (t, c))| (k.to_ascii_lowercase(), (t.to_ascii_lowercase(), c)))
                .collect(),
            ops: raw
                .ops
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect(),
            derived,
        }
    }

    /// Whether the subset describes this entity type.
    pub fn has_type(&self, ty: &str) -> bool {
        self.types.contains_key(&ty.to_ascii_lowercase())
    }

    /// The type's name as Graph spells it (`user`), for messages.
    pub fn type_name<'a>(&'a self, ty: &'a str) -> &'a str {
        self.types
            .get(&ty.to_ascii_lowercase())
            .map_or(ty, |t| t.name.as_str())
    }

    /// An entity set or singleton: its entity type (lower-case) and whether it is a collection.
    pub fn root(&self, name: &str) -> Option<(String, bool)> {
        self.roots.get(&name.to_ascii_lowercase()).cloned()
    }

    /// `ty` and its base types, nearest first.
    fn chain<'a>(&'a self, ty: &str) -> impl Iterator<Item = &'a TypeDef> + 'a {
        let mut cur = self.types.get(&ty.to_ascii_lowercase());
        std::iter::from_fn(move || {
            let t = cur?;
            cur = t.base.as_deref().and_then(|b| self.types.get(b));
            Some(t)
        })
    }

    /// `name` declared on `ty` or one of its base types.
    pub fn member(&self, ty: &str, name: &str) -> Option<Member> {
        let lower = name.to_ascii_lowercase();
        self.chain(ty).find_map(|t| {
            if let Some((target, collection)) = t.navs.get(&lower) {
                let target = target.clone().filter(|x| self.types.contains_key(x));
                return Some(Member::Navigation {
                    target,
                    collection: *collection,
                });
            }
            t.props.contains(&lower).then_some(Member::Property)
        })
    }

    /// Every type derived from `ty` (transitively), not `ty` itself.
    fn derived_types(&self, ty: &str) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let mut i = 0;
        if let Some(ds) = self.derived.get(&ty.to_ascii_lowercase()) {
            out.extend(ds.iter().map(String::as_str));
        }
        while i < out.len() {
            if let Some(ds) = self.derived.get(out[i]) {
                out.extend(ds.iter().map(String::as_str));
            }
            i += 1;
        }
        out
    }

    /// `name` on `ty`, its base types or any type derived from `ty` (what `$select` accepts on
    /// a polymorphic collection).
    pub fn member_or_derived(&self, ty: &str, name: &str) -> Option<Member> {
        self.member(ty, name).or_else(|| {
            let lower = name.to_ascii_lowercase();
            self.derived_types(ty).into_iter().find_map(|d| {
                let t = self.types.get(d)?;
                if let Some((target, collection)) = t.navs.get(&lower) {
                    return Some(Member::Navigation {
                        target: target.clone().filter(|x| self.types.contains_key(x)),
                        collection: *collection,
                    });
                }
                t.props.contains(&lower).then_some(Member::Property)
            })
        })
    }

    /// Whether `cast` is `ty` or derives from it.
    pub fn is_same_or_derived(&self, cast: &str, ty: &str) -> bool {
        let ty = ty.to_ascii_lowercase();
        self.chain(cast).any(|t| t.name.eq_ignore_ascii_case(&ty))
    }

    /// A bound action or function named `name` (without namespace) on `ty` or a base type,
    /// bound to a collection or to a single entity.
    pub fn bound_op(&self, ty: &str, collection: bool, name: &str) -> Option<OpResult> {
        let overloads = self.ops.get(&name.to_ascii_lowercase())?;
        let chain: Vec<&str> = self.chain(ty).map(|t| t.name.as_str()).collect();
        overloads
            .iter()
            .find(|o| {
                o.binding_coll == collection
                    && chain.iter().any(|c| c.eq_ignore_ascii_case(&o.binding))
            })
            .map(|o| OpResult {
                entity: o
                    .returns
                    .as_deref()
                    .map(str::to_ascii_lowercase)
                    .filter(|r| self.types.contains_key(r)),
                collection: o.returns_coll,
            })
    }
}

/// Both versions.
#[derive(Debug)]
pub(crate) struct Schema {
    pub v1: VersionSchema,
    pub beta: VersionSchema,
}

/// The embedded schema, parsed once. `None` only if the embedded file is broken (a test
/// guards against that), and then requests are not checked.
pub(crate) fn schema() -> Option<&'static Schema> {
    static SCHEMA: OnceLock<Option<Schema>> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let raw: RawSchema = serde_json::from_str(SCHEMA_JSON).ok()?;
            Some(Schema {
                v1: VersionSchema::build(raw.v1),
                beta: VersionSchema::build(raw.beta),
            })
        })
        .as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_schema_parses_and_walks_base_types() {
        let s = schema().expect("embedded schema parses");
        assert_eq!(s.v1.root("Users"), Some(("user".into(), true)));
        assert_eq!(s.v1.member("user", "id"), Some(Member::Property));
        assert_eq!(
            s.v1.member("user", "USERPRINCIPALNAME"),
            Some(Member::Property)
        );
        assert_eq!(s.v1.member("user", "nope"), None);
        assert_eq!(s.v1.member("directoryObject", "displayName"), None);
        assert_eq!(
            s.v1.member_or_derived("directoryObject", "displayName"),
            Some(Member::Property)
        );
        assert!(s.v1.is_same_or_derived("group", "directoryObject"));
        assert!(!s.v1.is_same_or_derived("directoryObject", "group"));
        assert!(s.v1.bound_op("user", false, "checkMemberGroups").is_some());
        assert!(s.v1.bound_op("user", true, "checkMemberGroups").is_none());
        // beta-only types without a known base still carry `id`.
        assert_eq!(
            s.beta.member("mobileDeviceManagementPolicy", "id"),
            Some(Member::Property)
        );
        assert!(
            s.beta
                .member("deviceManagement", "assignmentFilters")
                .is_some()
        );
        assert!(
            s.v1.member("deviceManagement", "assignmentFilters")
                .is_none()
        );
    }
}
