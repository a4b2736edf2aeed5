//! The lookup tables a [`super::snapshot::TenantSnapshot`] carries (see `tenant/index.rs` for
//! how they are built and used): plain maps from lower-cased keys to positions in the
//! snapshot's lists, below the snapshot so it can hold them.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

/// The tables, keyed by lower-cased strings, each value the positions in its list.
#[derive(Default)]
pub struct SnapshotIndex {
    pub(crate) users: Keyed,
    pub(crate) managed_by_user: Keyed,
    pub(crate) managed_by_device_id: Keyed,
    pub(crate) entra_by_device_id: Keyed,
    pub(crate) entra_by_name: Keyed,
    pub(crate) requested_upns: HashSet<String>,
}

/// Positions by key, and the length of the list they were taken from.
#[derive(Default)]
pub(crate) struct Keyed {
    map: HashMap<String, Vec<usize>>,
    len: usize,
}

impl Keyed {
    pub(crate) fn build<T>(items: &[T], keys: impl Fn(&T) -> Vec<String>) -> Keyed {
        let mut map: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, item) in items.iter().enumerate() {
            let mut ks = keys(item);
            ks.sort();
            ks.dedup();
            for k in ks {
                map.entry(k).or_default().push(i);
            }
        }
        Keyed {
            map,
            len: items.len(),
        }
    }

    /// The items under `key`, in list order; `None` when the list changed since the build.
    pub(crate) fn get<'a, T>(&self, items: &'a [T], key: &str) -> Option<Vec<&'a T>> {
        if items.len() != self.len {
            return None;
        }
        Some(
            self.map
                .get(&key.to_lowercase())
                .into_iter()
                .flatten()
                .filter_map(|&i| items.get(i))
                .collect(),
        )
    }
}

pub(crate) fn lower(v: Option<&str>) -> Vec<String> {
    v.map(|s| vec![s.to_lowercase()]).unwrap_or_default()
}

/// The first label of a host name (`PC0042` of `PC0042.corp.contoso.com`).
pub(crate) fn short(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

/// The snapshot's tables, built on first use; not serialised, equal to any other, and empty
/// again in a clone.
#[derive(Default)]
pub struct LazyIndex(pub(crate) OnceLock<SnapshotIndex>);

impl Clone for LazyIndex {
    fn clone(&self) -> Self {
        LazyIndex::default()
    }
}

impl PartialEq for LazyIndex {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for LazyIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LazyIndex")
    }
}
