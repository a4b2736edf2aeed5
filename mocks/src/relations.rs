//! A user's directory relations that the fixtures spell as fixture-only fields, and that the
//! mock serves as Graph does: the devices a user owns (`registeredOwners` on `devices.json`
//! items, served as `users/{id}/ownedDevices`) and the directory roles a user holds
//! (`directoryRoles` on `users.json` items, served as `directoryRole` objects in the user's
//! `memberOf` / `transitiveMemberOf`). Neither field is served as a property.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::tenant::{Tenant, str_field};

/// Removes the fixture-only `registeredOwners` arrays from `devices` and returns owner (user id,
/// lower-cased) → indexes into `devices`.
pub(crate) fn take_registered_owners(devices: &mut [Value]) -> HashMap<String, Vec<usize>> {
    let mut owners: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, d) in devices.iter_mut().enumerate() {
        if let Some(Value::Array(list)) =
            d.as_object_mut().and_then(|o| o.remove("registeredOwners"))
        {
            for o in list.iter().filter_map(Value::as_str) {
                owners.entry(o.to_ascii_lowercase()).or_default().push(i);
            }
        }
    }
    owners
}

/// The devices `key` (id or UPN) is the registered owner of; `None` when there is no such user.
pub(crate) fn owned_devices(tenant: &Tenant, key: &str) -> Option<Vec<Value>> {
    let user = tenant.find_user(key)?;
    let id = str_field(&user, "id")?.to_ascii_lowercase();
    Some(
        tenant
            .registered_owners
            .get(&id)
            .into_iter()
            .flatten()
            .filter_map(|i| tenant.devices.get(*i))
            .map(|d| {
                let mut d = d.clone();
                if let Value::Object(o) = &mut d {
                    o.insert("@odata.type".into(), Value::from("#microsoft.graph.device"));
                }
                d
            })
            .collect(),
    )
}

/// The directory roles `user` holds, as Graph lists them: a `directoryRole` whose own id differs
/// from its `roleTemplateId` (the id Conditional Access names).
pub(crate) fn directory_roles(user: &Value) -> Vec<Value> {
    user.get("directoryRoles")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|t| {
            let tail = t.get(8..).unwrap_or_default();
            json!({
                "@odata.type": "#microsoft.graph.directoryRole",
                "id": format!("d1ec7a0e{tail}"),
                "displayName": well_known_role(t),
                "roleTemplateId": t,
            })
        })
        .collect()
}

/// Display names of the built-in roles the fixtures use.
fn well_known_role(template_id: &str) -> &'static str {
    match template_id {
        "62e90394-69f5-4237-9190-012177145e10" => "Global Administrator",
        "3a2c62db-5318-420d-8d74-23affee5d9d5" => "Intune Administrator",
        "f2ef992c-3afb-46b9-b7cf-a126ee74c451" => "Global Reader",
        _ => "Directory role",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_leave_the_device_objects_and_roles_get_their_own_id() {
        let mut devices = vec![
            json!({"id": "d1", "registeredOwners": ["U1"]}),
            json!({"id": "d2"}),
        ];
        let owners = take_registered_owners(&mut devices);
        assert_eq!(owners.get("u1"), Some(&vec![0]));
        assert!(devices[0].get("registeredOwners").is_none());
        let roles =
            directory_roles(&json!({"directoryRoles": ["62e90394-69f5-4237-9190-012177145e10"]}));
        assert_eq!(roles.len(), 1);
        assert_eq!(roles[0]["displayName"], "Global Administrator");
        assert_ne!(roles[0]["id"], roles[0]["roleTemplateId"]);
        assert!(directory_roles(&json!({})).is_empty());
    }
}
