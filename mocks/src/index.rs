//! Lookup tables built once per tenant so a request costs time in the size of its answer, not
//! of the tenant: `$filter=property eq value` positions per property, and each group's direct
//! and transitive member lists with the positions of the users and groups among them.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use crate::odata::Filter;

/// The key under which an item's `property` value is filed, such that two keys are equal
/// exactly when [`Filter::matches`] would match: strings compare ASCII-case-insensitively,
/// anything else by its JSON text, and a missing property files like `null`.
fn key(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => format!("s:{}", s.to_ascii_lowercase()),
        Some(other) => format!("j:{other}"),
        None => "j:null".to_string(),
    }
}

/// Positions (in collection order) of the items holding each value of some properties, one
/// table per property, filled by [`FilterIndex::warm`] or on first use.
#[derive(Default)]
pub(crate) struct FilterIndex {
    tables: Vec<(&'static str, OnceLock<Table>)>,
}

/// Filing key → positions.
type Table = HashMap<String, Vec<usize>>;

impl FilterIndex {
    pub fn new(properties: &[&'static str]) -> FilterIndex {
        FilterIndex {
            tables: properties.iter().map(|p| (*p, OnceLock::new())).collect(),
        }
    }

    /// The table of `property` (exact spelling, as [`Filter::matches`] reads it), built from
    /// the `len` items `item` returns the first time it is asked for; `None` when the
    /// property is not indexed.
    fn table<'v>(
        &self,
        property: &str,
        len: usize,
        item: impl Fn(usize) -> Option<Cow<'v, Value>>,
        scanned: &dyn Fn(usize),
    ) -> Option<&Table> {
        let (name, cell) = self.tables.iter().find(|(p, _)| *p == property)?;
        Some(cell.get_or_init(|| {
            scanned(len);
            let mut table = Table::new();
            for i in 0..len {
                if let Some(v) = item(i) {
                    table.entry(key(v.get(*name))).or_default().push(i);
                }
            }
            table
        }))
    }

    /// Fills every table now.
    pub fn warm<'v>(
        &self,
        len: usize,
        item: impl Fn(usize) -> Option<Cow<'v, Value>>,
        scanned: &dyn Fn(usize),
    ) {
        for (name, _) in &self.tables {
            self.table(name, len, &item, scanned);
        }
    }

    /// Positions of the items `filter` matches, or `None` when its property is not indexed
    /// (the caller then scans).
    pub fn matching<'s, 'v>(
        &'s self,
        filter: &Filter,
        len: usize,
        item: impl Fn(usize) -> Option<Cow<'v, Value>>,
        scanned: &dyn Fn(usize),
    ) -> Option<&'s [usize]> {
        let table = self.table(&filter.property, len, item, scanned)?;
        Some(
            table
                .get(&key(Some(&filter.value)))
                .map_or(&[][..], Vec::as_slice),
        )
    }

    /// The first item whose `property` is the string `value` (ASCII case ignored), or
    /// `Err(())` when the property is not indexed.
    pub fn first_text<'v>(
        &self,
        property: &str,
        value: &str,
        len: usize,
        item: impl Fn(usize) -> Option<Cow<'v, Value>>,
        scanned: &dyn Fn(usize),
    ) -> Result<Option<usize>, ()> {
        let table = self.table(property, len, item, scanned).ok_or(())?;
        Ok(table
            .get(&key(Some(&Value::String(value.to_string()))))
            .and_then(|p| p.first().copied()))
    }
}

/// What a member id resolves to (a group wins over a user with the same id, as in
/// `Tenant::directory_object`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Group,
    User,
    /// Neither: listed members that resolve to nothing are skipped when a page is served.
    Unknown,
}

/// A group's members (direct or transitive) in Graph's order, with the positions of the
/// users and of the groups among them, so a cast to `microsoft.graph.user` or
/// `microsoft.graph.group` pages without resolving the others.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct MemberList {
    pub ids: Arc<Vec<String>>,
    pub users: Vec<usize>,
    pub groups: Vec<usize>,
}

impl MemberList {
    pub fn new(ids: Arc<Vec<String>>, kind: impl Fn(&str) -> Kind) -> MemberList {
        let mut users = Vec::new();
        let mut groups = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            match kind(id) {
                Kind::User => users.push(i),
                Kind::Group => groups.push(i),
                Kind::Unknown => {}
            }
        }
        MemberList { ids, users, groups }
    }

    /// The positions of the members of one type, or of all of them.
    pub fn positions(&self, kind: Option<Kind>) -> Option<&[usize]> {
        match kind {
            Some(Kind::User) => Some(&self.users),
            Some(Kind::Group) => Some(&self.groups),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn filter(property: &str, value: Value) -> Filter {
        Filter {
            property: property.into(),
            value,
        }
    }

    /// The index answers exactly what a scan with `Filter::matches` would.
    #[test]
    fn index_agrees_with_a_scan() {
        let items = [
            json!({"a": "Abc", "b": true, "n": 1}),
            json!({"a": "abc", "b": false, "n": 1.0}),
            json!({"a": null, "b": "true", "n": -2}),
            json!({"b": null}),
            json!({"a": ["abc"], "n": "1"}),
        ];
        let index = FilterIndex::new(&["a", "b", "n"]);
        let get = |i: usize| items.get(i).map(Cow::Borrowed);
        let wanted = [
            filter("a", json!("ABC")),
            filter("a", Value::Null),
            filter("b", json!(true)),
            filter("b", json!("TRUE")),
            filter("b", Value::Null),
            filter("n", json!(1)),
            filter("n", json!(-2)),
            filter("n", json!("1")),
        ];
        for f in &wanted {
            let scan: Vec<usize> = (0..items.len()).filter(|i| f.matches(&items[*i])).collect();
            let hit = index.matching(f, items.len(), get, &|_| {});
            assert_eq!(hit, Some(scan.as_slice()), "{f:?}");
        }
        assert_eq!(
            index.matching(&filter("A", json!("abc")), items.len(), get, &|_| {}),
            None,
            "other spellings of a property are not indexed"
        );
        assert_eq!(
            index.first_text("a", "aBC", items.len(), get, &|_| {}),
            Ok(Some(0))
        );
    }
}
