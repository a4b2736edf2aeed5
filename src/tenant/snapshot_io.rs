//! Reading and writing a [`TenantSnapshot`]: streamed from a regular file within its limit
//! (no copy of the text, no tree of values) and to a buffered writer, normalised in place.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;

use super::snapshot::{Scalar, SnapshotError, TENANT_SNAPSHOT_SCHEMA, TenantSnapshot, UserScope};
use crate::fsio::{self, FileKind};

impl TenantSnapshot {
    /// Sorts every collection by id (and ids to lower case where Graph treats them as GUIDs),
    /// so two collections of the same tenant serialise byte-identically.
    pub fn normalize(&mut self) {
        // Positions change: the lookup tables are built again on next use.
        self.index = Default::default();
        let s = &mut self.sources;
        if let Some(org) = s.organization.data_mut() {
            org.verified_domains.sort_by(|a, b| a.name.cmp(&b.name));
        }
        if let Some(skus) = s.subscribed_skus.data_mut() {
            skus.sort_by(|a, b| a.id.cmp(&b.id));
            for sku in skus {
                sku.service_plans
                    .sort_by(|a, b| a.service_plan_id.cmp(&b.service_plan_id));
            }
        }
        for pol in [&mut s.mdm_policies, &mut s.mam_policies] {
            if let Some(list) = pol.data_mut() {
                list.sort_by(|a, b| a.id.cmp(&b.id));
                for p in list {
                    p.included_groups.sort();
                    p.included_groups.dedup();
                }
            }
        }
        if let Some(list) = s.enrollment_configurations.data_mut() {
            list.sort_by(|a, b| a.id.cmp(&b.id));
            for c in list {
                c.assignments.sort_by(|a, b| a.id.cmp(&b.id));
            }
        }
        if let Some(users) = s.users.data_mut() {
            users.sort_by(|a, b| a.id.cmp(&b.id));
            users.dedup_by(|a, b| a.id == b.id);
            for u in users {
                u.assigned_licenses.sort();
                u.assigned_plans.sort();
                u.license_assignment_states.sort();
            }
        }
        if let Some(m) = s.group_memberships.data_mut() {
            m.relevant_groups = m
                .relevant_groups
                .iter()
                .map(|g| g.to_ascii_lowercase())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            m.members = std::mem::take(&mut m.members)
                .into_iter()
                .map(|(u, gs)| {
                    (
                        u.to_ascii_lowercase(),
                        gs.into_iter().map(|g| g.to_ascii_lowercase()).collect(),
                    )
                })
                .collect();
            m.groups = std::mem::take(&mut m.groups)
                .into_iter()
                .map(|(k, mut g)| {
                    g.id = g.id.to_ascii_lowercase();
                    (k.to_ascii_lowercase(), g)
                })
                .collect();
        }
        if let Some(list) = s.entra_devices.data_mut() {
            list.sort_by(|a, b| a.id.cmp(&b.id));
            list.dedup_by(|a, b| a.id == b.id);
            for d in list {
                d.alternative_security_ids.sort();
                d.registered_user_ids.sort();
                d.registered_user_ids.dedup();
            }
        }
        if let Some(list) = s.managed_devices.data_mut() {
            list.sort_by(|a, b| a.id.cmp(&b.id));
            list.dedup_by(|a, b| a.id == b.id);
        }
        if let Some(list) = s.troubleshooting_events.data_mut() {
            list.sort_by(|a, b| a.id.cmp(&b.id));
            list.dedup_by(|a, b| a.id == b.id);
        }
        if let Some(list) = s.conditional_access_policies.data_mut() {
            list.sort_by(|a, b| a.id.cmp(&b.id));
        }
        super::autopilot::normalize(s);
        if let Some(m) = s.device_group_memberships.data_mut() {
            m.normalize();
        }
        if let UserScope::Selected { upns } = &mut self.user_scope {
            for u in upns.iter_mut() {
                *u = u.to_ascii_lowercase();
            }
            upns.sort();
            upns.dedup();
        }
    }

    /// Deterministic pretty JSON (normalised first), ending with a newline.
    pub fn to_json(&self) -> Result<String, SnapshotError> {
        let mut copy = self.clone();
        copy.normalize();
        let mut s = serde_json::to_string_pretty(&copy)?;
        s.push('\n');
        Ok(s)
    }

    pub fn from_json(text: &str, path: &str) -> Result<TenantSnapshot, SnapshotError> {
        Self::parse_checked(
            serde_json::from_str(text),
            || Ok(found_schema(serde_json::from_str(text))),
            path,
        )
    }

    /// The snapshot in FILE, parsed as it is read (no copy of the text, no tree of values)
    /// from a regular file within [`SNAPSHOT_FILE`]'s limit (or its environment variable's).
    pub fn load(path: &Path) -> Result<TenantSnapshot, SnapshotError> {
        let kind = SNAPSHOT_FILE.from_env().map_err(|e| SnapshotError::Limit {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::load_within(path, kind)
    }

    /// [`TenantSnapshot::load`] within KIND's limit.
    pub fn load_within(path: &Path, kind: FileKind) -> Result<TenantSnapshot, SnapshotError> {
        let shown = path.display().to_string();
        let io = |source: std::io::Error| SnapshotError::Io {
            path: shown.clone(),
            source,
        };
        let open = || fsio::open_limited(path, kind).map_err(|e| io(e.into_io()));
        let typed: Result<TenantSnapshot, serde_json::Error> = serde_json::from_reader(open()?);
        if let Err(e) = typed {
            if e.is_io() {
                // Unreadable, or larger than the limit: the reader's own error says which.
                return Err(io(std::io::Error::from(e)));
            }
            return Self::parse_checked(
                Err(e),
                || Ok(found_schema(serde_json::from_reader(open()?))),
                &shown,
            );
        }
        Self::parse_checked(typed, || Ok(String::new()), &shown)
    }

    /// Checks the typed snapshot's schema; when it did not parse, the schema tag alone is read
    /// (`tag`: a second pass that keeps nothing else), so a file of another kind gets a clear
    /// message, not a field error.
    fn parse_checked(
        typed: Result<TenantSnapshot, serde_json::Error>,
        tag: impl FnOnce() -> Result<String, SnapshotError>,
        path: &str,
    ) -> Result<TenantSnapshot, SnapshotError> {
        let schema_error = |found: String| SnapshotError::Schema {
            path: path.to_string(),
            found,
        };
        match typed {
            Ok(mut snap) if snap.schema == TENANT_SNAPSHOT_SCHEMA => {
                snap.normalize();
                Ok(snap)
            }
            Ok(snap) => Err(schema_error(snap.schema)),
            Err(source) => match tag()? {
                found if found == TENANT_SNAPSHOT_SCHEMA => Err(SnapshotError::Parse {
                    path: path.to_string(),
                    source,
                }),
                found => Err(schema_error(found)),
            },
        }
    }

    /// Writes [`TenantSnapshot::to_json`]'s text to PATH as it is serialised: normalised in
    /// place (no copy of the snapshot, which may hold a million users, nor of its text).
    pub fn save(&mut self, path: &Path) -> Result<(), SnapshotError> {
        use std::io::Write;
        self.normalize();
        let write = |source: std::io::Error| SnapshotError::Write {
            path: path.display().to_string(),
            source,
        };
        let mut out = std::io::BufWriter::new(std::fs::File::create(path).map_err(write)?);
        serde_json::to_writer_pretty(&mut out, &*self).map_err(|e| {
            if e.is_io() {
                write(std::io::Error::from(e))
            } else {
                SnapshotError::Serialise(e)
            }
        })?;
        out.write_all(b"\n")
            .and_then(|()| out.flush())
            .map_err(write)
    }
}

/// The largest snapshot read: a 1,000,000-user tenant is about 1.3 GB.
pub const SNAPSHOT_FILE: FileKind = FileKind {
    what: "snapshot",
    max_bytes: 4 * 1024 * 1024 * 1024,
    env: Some("ENROLL_DOCTOR_MAX_SNAPSHOT_MIB"),
};

/// Only the schema tag of a file (every other field skipped, nothing kept: a `schema` that is
/// not a string is skipped too, without building a tree of it). Only an object has one: an
/// array is not read as a struct's fields in order, as a derived `Deserialize` would.
pub(super) struct SchemaTag {
    schema: Option<Scalar>,
}

impl<'de> Deserialize<'de> for SchemaTag {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<SchemaTag, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = SchemaTag;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<SchemaTag, A::Error> {
                let mut schema = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == "schema" && schema.is_none() {
                        schema = map.next_value::<Option<Scalar>>()?;
                    } else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(SchemaTag { schema })
            }
        }
        d.deserialize_map(V)
    }
}

/// The schema a file names: empty when it names none or is not an object; a file that is not
/// JSON at all is taken as a broken snapshot (its parse error is the one to show).
pub(super) fn found_schema(tag: Result<SchemaTag, serde_json::Error>) -> String {
    match tag {
        Ok(SchemaTag {
            schema: Some(Scalar::Str(s)),
        }) => s,
        Ok(_) => String::new(),
        Err(e) if e.classify() == serde_json::error::Category::Data => String::new(),
        Err(_) => TENANT_SNAPSHOT_SCHEMA.to_string(),
    }
}
