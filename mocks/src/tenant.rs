//! Tenant data: fixture folders of JSON (embedded or on disk) or a generated large tenant.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use include_dir::{Dir, include_dir};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error::MockError;
use crate::index::{FilterIndex, Kind, MemberList};

static FIXTURES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/tenants");

/// Names of the embedded fixture tenants.
pub fn fixture_names() -> Vec<String> {
    let mut names: Vec<String> = FIXTURES
        .dirs()
        .filter_map(|d| d.path().file_name())
        .filter_map(|n| n.to_str())
        .map(str::to_string)
        .collect();
    names.sort();
    names
}

/// A registered application (`apps.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockApp {
    /// Short fixture name, e.g. `auditor`.
    pub name: String,
    pub display_name: String,
    pub client_id: String,
    /// Empty for public clients (device code only).
    pub client_secret: String,
    /// Application permissions granted (app-only tokens carry them in `roles`).
    pub roles: Vec<String>,
    /// Delegated permissions consented (device-code tokens carry them in `scp`).
    pub delegated_scopes: Vec<String>,
    /// The user who "signs in" when this app runs the device-code flow.
    pub user_principal_name: Option<String>,
    /// Set when this app is a managed identity (IMDS and `/msi/token` mint its tokens).
    pub managed_identity: Option<crate::managed_identity::ManagedIdentityKind>,
    /// Federated identity credentials a federated `client_assertion` is checked against.
    pub federated_credentials: Vec<crate::federated::FederatedCredential>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AppFile {
    name: String,
    #[serde(default)]
    display_name: String,
    client_id: String,
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    delegated_scopes: Vec<String>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    managed_identity: Option<crate::managed_identity::ManagedIdentityKind>,
    #[serde(default)]
    federated_credentials: Vec<crate::federated::FederatedCredential>,
}

/// Users are either fixture objects or generated on demand from an index.
pub(crate) enum Users {
    Fixture(Vec<Value>),
    Generated(Generator),
}

pub(crate) struct Tenant {
    pub id: String,
    pub domains: Vec<String>,
    pub organization: Value,
    pub device_management: Value,
    pub subscribed_skus: Vec<Value>,
    pub users: Users,
    /// Groups without their internal `members` list.
    pub groups: Vec<Value>,
    /// group id (lowercase) → direct members (users or groups)
    pub members: HashMap<String, Arc<MemberList>>,
    /// group id (lowercase) → every object inside, nested groups flattened (breadth first)
    pub transitive: HashMap<String, Arc<MemberList>>,
    /// member id → groups it is a direct member of
    pub parents: HashMap<String, Vec<String>>,
    pub mdm_policies: Vec<Value>,
    pub mam_policies: Vec<Value>,
    pub enrollment_configurations: Vec<Value>,
    pub device_registration_policy: Value,
    pub devices: Vec<Value>,
    pub managed_devices: Vec<Value>,
    pub troubleshooting_events: Vec<Value>,
    pub conditional_access_policies: Vec<Value>,
    /// beta `deviceManagement/assignmentFilters` (`assignmentFilters.json`, optional).
    pub assignment_filters: Vec<Value>,
    /// Windows Autopilot (`graph/autopilot.rs`: identities, profiles, corporate identifiers,
    /// deployment events; optional files).
    pub autopilot: crate::graph::autopilot::AutopilotData,
    /// Registered owner (user id, lower-cased) → indexes into `devices`, from the fixture-only
    /// `registeredOwners` array of `devices.json` items (removed from the device objects, which
    /// Graph serves without it): `users/{id}/ownedDevices`.
    pub registered_owners: HashMap<String, Vec<usize>>,
    pub apps: Vec<MockApp>,
    /// Lookup tables over the collections above (see [`Tenant::index`]).
    pub lookups: Lookups,
    /// Items visited by scans and index builds since the start (for tests: serving a page of
    /// an indexed list visits none).
    pub scanned: AtomicUsize,
}

/// Key lookups and `$filter` tables, built once by [`Tenant::index`].
#[derive(Default)]
pub(crate) struct Lookups {
    /// Fixture users: lowercase id and UPN → position (the first user wins).
    user_keys: HashMap<String, usize>,
    /// Lowercase group id → position in `groups`.
    group_keys: HashMap<String, usize>,
    pub users: FilterIndex,
    pub devices: FilterIndex,
    pub managed_devices: FilterIndex,
    pub troubleshooting_events: FilterIndex,
}

/// Properties the `$filter` tables cover: the filterable ones plus the key lookups.
pub(crate) const USER_INDEXED: &[&str] = &[
    "id",
    "userPrincipalName",
    "displayName",
    "mail",
    "accountEnabled",
    "usageLocation",
];
pub(crate) const DEVICE_INDEXED: &[&str] = &[
    "id",
    "deviceId",
    "displayName",
    "accountEnabled",
    "trustType",
    "operatingSystem",
];
pub(crate) const MANAGED_DEVICE_INDEXED: &[&str] = &[
    "id",
    "azureADDeviceId",
    "deviceName",
    "userPrincipalName",
    "userId",
    "operatingSystem",
];
pub(crate) const EVENT_INDEXED: &[&str] = &["id", "userId", "deviceId", "managedDeviceIdentifier"];

/// Reads files by name from some source.
trait Source {
    fn read(&self, name: &str) -> Result<Option<String>, MockError>;
    fn label(&self) -> String;
}

struct Embedded(&'static Dir<'static>);
impl Source for Embedded {
    fn read(&self, name: &str) -> Result<Option<String>, MockError> {
        let path = self.0.path().join(name);
        Ok(self
            .0
            .get_file(&path)
            .and_then(|f| f.contents_utf8())
            .map(str::to_string))
    }
    fn label(&self) -> String {
        format!("tenants/{}", self.0.path().display())
    }
}

struct OnDisk<'a>(&'a Path);
impl Source for OnDisk<'_> {
    fn read(&self, name: &str) -> Result<Option<String>, MockError> {
        let path = self.0.join(name);
        match std::fs::read_to_string(&path) {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(MockError::Fixture {
                file: path.display().to_string(),
                message: e.to_string(),
            }),
        }
    }
    fn label(&self) -> String {
        self.0.display().to_string()
    }
}

fn parse(src: &dyn Source, name: &str) -> Result<Option<Value>, MockError> {
    let Some(text) = src.read(name)? else {
        return Ok(None);
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| MockError::Fixture {
            file: format!("{}/{}", src.label(), name),
            message: e.to_string(),
        })
}

/// A collection file may be a bare array or a Graph-style `{"value": [...]}`.
fn collection(src: &dyn Source, name: &str) -> Result<Vec<Value>, MockError> {
    match parse(src, name)? {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items),
        Some(Value::Object(mut o)) => match o.remove("value") {
            Some(Value::Array(items)) => Ok(items),
            _ => Err(MockError::Fixture {
                file: format!("{}/{}", src.label(), name),
                message: "expected an array or an object with a \"value\" array".into(),
            }),
        },
        Some(_) => Err(MockError::Fixture {
            file: format!("{}/{}", src.label(), name),
            message: "expected an array".into(),
        }),
    }
}

fn object(src: &dyn Source, name: &str) -> Result<Value, MockError> {
    match parse(src, name)? {
        None => Ok(Value::Object(Map::new())),
        Some(v @ Value::Object(_)) => Ok(v),
        Some(_) => Err(MockError::Fixture {
            file: format!("{}/{}", src.label(), name),
            message: "expected an object".into(),
        }),
    }
}

pub(crate) fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

impl Tenant {
    pub fn load_fixture(name: &str) -> Result<Tenant, MockError> {
        let dir = FIXTURES
            .get_dir(name)
            .ok_or_else(|| MockError::UnknownFixture(name.to_string()))?;
        Tenant::load(&Embedded(dir))
    }

    pub fn load_dir(path: &Path) -> Result<Tenant, MockError> {
        if !path.is_dir() {
            return Err(MockError::Fixture {
                file: path.display().to_string(),
                message: "not a directory".into(),
            });
        }
        Tenant::load(&OnDisk(path))
    }

    fn load(src: &dyn Source) -> Result<Tenant, MockError> {
        let organization = object(src, "organization.json")?;
        let id = str_field(&organization, "id")
            .ok_or_else(|| MockError::Fixture {
                file: format!("{}/organization.json", src.label()),
                message: "missing \"id\"".into(),
            })?
            .to_string();
        let domains = organization
            .get("verifiedDomains")
            .and_then(Value::as_array)
            .map(|ds| {
                ds.iter()
                    .filter_map(|d| str_field(d, "name"))
                    .map(str::to_lowercase)
                    .collect()
            })
            .unwrap_or_default();
        let mut device_management = object(src, "deviceManagement.json")?;
        if let Value::Object(o) = &mut device_management {
            o.entry("id").or_insert_with(|| json!(format!("{id}")));
        }
        let apps_raw = collection(src, "apps.json")?;
        let mut apps = Vec::new();
        for raw in apps_raw {
            let app: AppFile = serde_json::from_value(raw).map_err(|e| MockError::Fixture {
                file: format!("{}/apps.json", src.label()),
                message: e.to_string(),
            })?;
            apps.push(MockApp {
                display_name: if app.display_name.is_empty() {
                    app.name.clone()
                } else {
                    app.display_name
                },
                name: app.name,
                client_id: app.client_id,
                client_secret: app.client_secret.unwrap_or_default(),
                roles: app.roles,
                delegated_scopes: app.delegated_scopes,
                user_principal_name: app.user,
                managed_identity: app.managed_identity,
                federated_credentials: app.federated_credentials,
            });
        }
        let (groups, raw_members) = split_groups(collection(src, "groups.json")?);
        let mut devices = collection(src, "devices.json")?;
        let registered_owners = crate::relations::take_registered_owners(&mut devices);
        let mut tenant = Tenant {
            devices,
            registered_owners,
            domains,
            organization,
            device_management,
            subscribed_skus: collection(src, "subscribedSkus.json")?,
            users: Users::Fixture(collection(src, "users.json")?),
            groups,
            parents: HashMap::new(),
            members: HashMap::new(),
            transitive: HashMap::new(),
            mdm_policies: collection(src, "mdmPolicies.json")?,
            mam_policies: collection(src, "mamPolicies.json")?,
            enrollment_configurations: collection(src, "deviceEnrollmentConfigurations.json")?,
            device_registration_policy: object(src, "deviceRegistrationPolicy.json")?,
            managed_devices: collection(src, "managedDevices.json")?,
            troubleshooting_events: collection(src, "troubleshootingEvents.json")?,
            conditional_access_policies: collection(src, "conditionalAccessPolicies.json")?,
            assignment_filters: collection(src, "assignmentFilters.json")?,
            autopilot: crate::graph::autopilot::AutopilotData {
                devices: collection(src, "windowsAutopilotDeviceIdentities.json")?,
                profiles: collection(src, "windowsAutopilotDeploymentProfiles.json")?,
                imported: collection(src, "importedDeviceIdentities.json")?,
                events: collection(src, "autopilotEvents.json")?,
                serials: Default::default(),
            },
            apps,
            id,
            lookups: Lookups::default(),
            scanned: AtomicUsize::new(0),
        };
        tenant.index(raw_members);
        Ok(tenant)
    }

    /// A large tenant for benchmarks: contoso's settings, `users` generated users, and three
    /// groups whose membership follows the user index.
    pub fn generated(user_count: usize, seed: u64) -> Result<Tenant, MockError> {
        let (mut tenant, members) = Tenant::generated_unindexed(user_count, seed)?;
        tenant.index(members);
        Ok(tenant)
    }

    /// [`Tenant::generated`] before [`Tenant::index`], with the groups' direct members.
    fn generated_unindexed(
        user_count: usize,
        seed: u64,
    ) -> Result<(Tenant, HashMap<String, Vec<String>>), MockError> {
        let mut tenant = Tenant::load_fixture("contoso")?;
        let generator = Generator::new(user_count, seed);
        let tenant_id = generator.guid(u64::MAX);
        let contoso_id = std::mem::replace(&mut tenant.id, tenant_id.clone());
        let domain = generator.domain.clone();
        tenant.domains = vec![domain.clone()];
        if let Value::Object(o) = &mut tenant.organization {
            o.insert("id".into(), json!(tenant_id));
            o.insert("displayName".into(), json!(format!("Loadtest {seed}")));
            o.insert(
                "verifiedDomains".into(),
                json!([{ "capabilities": "Email, OfficeCommunicationsOnline", "isDefault": true,
                         "isInitial": true, "name": domain, "type": "Managed" }]),
            );
        }
        for sku in &mut tenant.subscribed_skus {
            if let (Some(sku_id), Value::Object(o)) =
                (str_field(sku, "skuId").map(str::to_string), &mut *sku)
            {
                o.insert("id".into(), json!(format!("{tenant_id}_{sku_id}")));
                o.insert("consumedUnits".into(), json!(user_count));
                o.insert(
                    "prepaidUnits".into(),
                    json!({"enabled": user_count + 100, "suspended": 0, "warning": 0, "lockedOut": 0}),
                );
            }
        }
        // groups: everyone / Intune scope (9 in 10) / pilot (1 in 100)
        let all = generator.guid(u64::MAX - 1);
        let intune = generator.guid(u64::MAX - 2);
        let pilot = generator.guid(u64::MAX - 3);
        let group = |id: &str, name: &str| {
            json!({"id": id, "displayName": name, "mailEnabled": false, "securityEnabled": true,
                   "groupTypes": [], "mailNickname": name.replace(' ', ""), "description": null})
        };
        let mut members: HashMap<String, Vec<String>> = HashMap::new();
        let ids: Vec<String> = (0..user_count).map(|i| generator.user_id(i)).collect();
        members.insert(
            intune.clone(),
            ids.iter()
                .enumerate()
                .filter(|(i, _)| i % 10 != 9)
                .map(|(_, id)| id.clone())
                .collect(),
        );
        members.insert(pilot.clone(), ids.iter().step_by(100).cloned().collect());
        members.insert(all.clone(), ids);
        // Point policies and restriction assignments at the generated groups of the same role.
        let remap: HashMap<String, String> = tenant
            .groups
            .iter()
            .filter_map(|g| {
                let id = str_field(g, "id")?.to_lowercase();
                let target = match str_field(g, "displayName")? {
                    "Pilot" => &pilot,
                    "All Staff" => &all,
                    _ => &intune,
                };
                Some((id, target.clone()))
            })
            .collect();
        for doc in tenant
            .mdm_policies
            .iter_mut()
            .chain(tenant.mam_policies.iter_mut())
            .chain(tenant.enrollment_configurations.iter_mut())
        {
            replace_strings(doc, &remap);
        }
        tenant.groups = vec![
            group(&all, "All Users"),
            group(&intune, "Intune Users"),
            group(&pilot, "Pilot"),
        ];
        // Default restriction ids embed the tenant id.
        for doc in tenant
            .enrollment_configurations
            .iter_mut()
            .chain(tenant.subscribed_skus.iter_mut())
        {
            replace_substring(doc, &contoso_id, &tenant_id);
        }
        tenant.devices.clear();
        tenant.managed_devices.clear();
        tenant.troubleshooting_events.clear();
        tenant.users = Users::Generated(generator);
        Ok((tenant, members))
    }

    /// [`Tenant::generated`] plus one Windows device per user for users `0..devices`: an Entra
    /// object (hybrid joined, every third one Entra joined), an Intune record unless the user is
    /// outside the Intune scope group (index % 10 == 9), a stale Entra duplicate with the same
    /// name every 50th device and an enrollment failure event every 20th.
    pub fn generated_fleet(
        user_count: usize,
        devices: usize,
        seed: u64,
    ) -> Result<Tenant, MockError> {
        let (mut tenant, members) = Tenant::generated_unindexed(user_count, seed)?;
        let Users::Generated(generator) = &tenant.users else {
            tenant.index(members);
            return Ok(tenant);
        };
        let g = Generator::new(generator.count, seed);
        let devices = devices.min(user_count);
        for i in 0..devices {
            let d = fleet_device(seed, i);
            let user_id = g.user_id(i);
            let managed = i % 10 != 9;
            let trust = if i % 3 == 0 { "AzureAd" } else { "ServerAd" };
            tenant.devices.push(json!({
                "id": g.guid((1 << 40) + i as u64),
                "deviceId": d.device_id,
                "displayName": d.name,
                "accountEnabled": true,
                "operatingSystem": "Windows",
                "operatingSystemVersion": "10.0.26100.7171",
                "trustType": trust,
                "profileType": "RegisteredDevice",
                "approximateLastSignInDateTime": "2026-11-25T08:12:44Z",
                "registrationDateTime": "2025-03-12T08:44:02Z",
                "isManaged": managed,
                "isCompliant": managed,
                "mdmAppId": if managed { json!("0000000a-0000-0000-c000-000000000000") } else { Value::Null },
                "managementType": if managed { json!("MDM") } else { Value::Null },
                "enrollmentType": if trust == "ServerAd" { "AzureDomainJoined" } else { "AzureADJoinUsingWhiteGlove" },
                "deviceOwnership": "Company",
                "onPremisesSyncEnabled": trust == "ServerAd",
                "alternativeSecurityIds": [],
            }));
            if i % 50 == 25 {
                tenant.devices.push(json!({
                    "id": g.guid((2 << 40) + i as u64),
                    "deviceId": g.guid((3 << 40) + i as u64),
                    "displayName": d.name,
                    "accountEnabled": true,
                    "operatingSystem": "Windows",
                    "operatingSystemVersion": "10.0.19045.4529",
                    "trustType": "AzureAd",
                    "profileType": "RegisteredDevice",
                    "approximateLastSignInDateTime": "2025-02-01T10:00:00Z",
                    "registrationDateTime": "2023-05-02T10:00:00Z",
                    "isManaged": false,
                    "deviceOwnership": "Company",
                    "alternativeSecurityIds": [],
                }));
            }
            if managed {
                tenant.managed_devices.push(json!({
                    "@odata.type": "#microsoft.graph.managedDevice",
                    "id": g.guid((4 << 40) + i as u64),
                    "userId": user_id,
                    "deviceName": d.name,
                    "userPrincipalName": d.user_principal_name,
                    "operatingSystem": "Windows",
                    "osVersion": "10.0.26100.7171",
                    "enrolledDateTime": "2026-11-26T09:05:31Z",
                    "lastSyncDateTime": "2026-11-26T22:05:31Z",
                    "complianceState": "compliant",
                    "managementAgent": "mdm",
                    "deviceEnrollmentType": "windowsAutoEnrollment",
                    "managedDeviceOwnerType": "company",
                    "managementState": "managed",
                    "deviceRegistrationState": "registered",
                    "azureADDeviceId": d.device_id,
                    "serialNumber": format!("5CG{i:07}"),
                }));
            }
            if i % 20 == 7 {
                tenant.troubleshooting_events.push(json!({
                    "@odata.type": "#microsoft.graph.enrollmentTroubleshootingEvent",
                    "id": g.guid((5 << 40) + i as u64),
                    "eventDateTime": "2026-11-25T14:10:04Z",
                    "correlationId": g.guid((6 << 40) + i as u64),
                    "managedDeviceIdentifier": "",
                    "operatingSystem": "Windows",
                    "osVersion": "10.0.26100.7171",
                    "userId": user_id,
                    "deviceId": d.device_id,
                    "enrollmentType": "windowsAutoEnrollment",
                    "failureCategory": "authorization",
                    "failureReason": "The user is not in the MDM user scope, so the device cannot enroll (0x8018002B).",
                    "eventName": "Enrollment failed",
                    "additionalInformation": [{ "name": "ErrorCode", "value": "0x8018002B" }],
                }));
            }
        }
        crate::graph::autopilot::generate_fleet(&mut tenant, seed, devices);
        tenant.index(members);
        Ok(tenant)
    }

    /// Builds the lookups once the data is final, so that no request scans a collection:
    /// key lookups, each group's direct and transitive member lists (`members`: group id,
    /// lowercase → direct member ids), the member → groups table, and the `$filter` tables
    /// (the device collections' now, the users' on first use: generated users exist only
    /// while a page is served).
    fn index(&mut self, members: HashMap<String, Vec<String>>) {
        let mut lookups = Lookups {
            users: FilterIndex::new(USER_INDEXED),
            devices: FilterIndex::new(DEVICE_INDEXED),
            managed_devices: FilterIndex::new(MANAGED_DEVICE_INDEXED),
            troubleshooting_events: FilterIndex::new(EVENT_INDEXED),
            ..Lookups::default()
        };
        if let Users::Fixture(users) = &self.users {
            for (i, u) in users.iter().enumerate() {
                for k in ["id", "userPrincipalName"] {
                    if let Some(v) = str_field(u, k) {
                        lookups.user_keys.entry(v.to_ascii_lowercase()).or_insert(i);
                    }
                }
            }
        }
        for (i, g) in self.groups.iter().enumerate() {
            if let Some(id) = str_field(g, "id") {
                lookups
                    .group_keys
                    .entry(id.to_ascii_lowercase())
                    .or_insert(i);
            }
        }
        self.lookups = lookups;

        self.parents.clear();
        for (group, list) in &members {
            for m in list {
                self.parents
                    .entry(m.clone())
                    .or_default()
                    .push(group.clone());
            }
        }
        for list in self.parents.values_mut() {
            list.sort();
        }

        let kind = |id: &str| {
            if self.find_group(id).is_some() {
                Kind::Group
            } else if self.user_exists(id) {
                Kind::User
            } else {
                Kind::Unknown
            }
        };
        let mut direct: HashMap<String, Arc<MemberList>> = HashMap::new();
        let mut transitive: HashMap<String, Arc<MemberList>> = HashMap::new();
        for group in members.keys() {
            let flat = flatten(&members, group);
            let list = Arc::new(MemberList::new(
                Arc::new(members.get(group).cloned().unwrap_or_default()),
                kind,
            ));
            let flat = if *flat == *list.ids {
                list.clone()
            } else {
                Arc::new(MemberList::new(Arc::new(flat), kind))
            };
            direct.insert(group.clone(), list);
            transitive.insert(group.clone(), flat);
        }
        self.members = direct;
        self.transitive = transitive;

        let scanned = |n: usize| {
            self.scanned.fetch_add(n, Ordering::Relaxed);
        };
        for (index, items) in [
            (&self.lookups.devices, &self.devices),
            (&self.lookups.managed_devices, &self.managed_devices),
            (
                &self.lookups.troubleshooting_events,
                &self.troubleshooting_events,
            ),
        ] {
            index.warm(items.len(), |i| items.get(i).map(Cow::Borrowed), &scanned);
        }
    }

    pub fn user_count(&self) -> usize {
        match &self.users {
            Users::Fixture(v) => v.len(),
            Users::Generated(g) => g.count,
        }
    }

    /// Counts items visited by a scan (see [`Tenant::scanned`]).
    pub fn note_scan(&self, items: usize) {
        self.scanned.fetch_add(items, Ordering::Relaxed);
    }

    pub fn user_at(&self, index: usize) -> Option<Value> {
        match &self.users {
            Users::Fixture(v) => v.get(index).cloned(),
            Users::Generated(g) => (index < g.count).then(|| g.user(index)),
        }
    }

    /// [`Tenant::user_at`] with only the properties `keep` accepts.
    pub fn user_at_fields(&self, index: usize, keep: &dyn Fn(&str) -> bool) -> Option<Value> {
        match &self.users {
            Users::Fixture(v) => v
                .get(index)
                .map(|u| crate::odata::keep_fields(u.clone(), keep)),
            Users::Generated(g) => (index < g.count).then(|| g.user_fields(index, None, keep)),
        }
    }

    /// The user `key` as a `directoryObject` (what [`Tenant::directory_object`] answers for a
    /// user), with only the properties `keep` accepts after `@odata.type`.
    pub fn user_object_fields(&self, key: &str, keep: &dyn Fn(&str) -> bool) -> Option<Value> {
        const USER_TYPE: &str = "#microsoft.graph.user";
        match &self.users {
            Users::Fixture(_) => self.find_user(key).map(|mut u| {
                set_type(&mut u, USER_TYPE);
                crate::odata::keep_fields(u, &|k| k == "@odata.type" || keep(k))
            }),
            Users::Generated(g) => g
                .index_of(key)
                .map(|i| g.user_fields(i, Some(USER_TYPE), keep)),
        }
    }

    /// Finds a user by object id or UPN (case-insensitive).
    pub fn find_user(&self, key: &str) -> Option<Value> {
        match &self.users {
            Users::Fixture(v) => self
                .lookups
                .user_keys
                .get(&key.to_ascii_lowercase())
                .and_then(|i| v.get(*i))
                .cloned(),
            Users::Generated(g) => g.find(key),
        }
    }

    /// Whether [`Tenant::find_user`] finds `key` (without building the user).
    pub fn user_exists(&self, key: &str) -> bool {
        match &self.users {
            Users::Fixture(_) => self
                .lookups
                .user_keys
                .contains_key(&key.to_ascii_lowercase()),
            Users::Generated(g) => g.index_of(key).is_some(),
        }
    }

    pub fn find_group(&self, id: &str) -> Option<&Value> {
        self.lookups
            .group_keys
            .get(&id.to_ascii_lowercase())
            .and_then(|i| self.groups.get(*i))
    }

    /// Every group `member_id` belongs to, directly or through nesting.
    pub fn transitive_groups(&self, member_id: &str) -> Vec<String> {
        let mut seen: HashSet<String> = HashSet::new();
        let mut order = Vec::new();
        let mut queue: VecDeque<String> = VecDeque::from([member_id.to_lowercase()]);
        while let Some(current) = queue.pop_front() {
            for parent in self.parents.get(&current).into_iter().flatten() {
                if seen.insert(parent.clone()) {
                    order.push(parent.clone());
                    queue.push_back(parent.clone());
                }
            }
        }
        order
    }

    /// The direct (or, with `transitive`, every) object inside `group_id`; `None` for a
    /// group without members.
    pub fn member_list(&self, group_id: &str, transitive: bool) -> Option<&Arc<MemberList>> {
        let key = group_id.to_lowercase();
        if transitive {
            self.transitive.get(&key)
        } else {
            self.members.get(&key)
        }
    }

    /// A user or group object as a `directoryObject` (with `@odata.type`).
    pub fn directory_object(&self, id: &str) -> Option<Value> {
        if let Some(g) = self.find_group(id) {
            let mut g = g.clone();
            set_type(&mut g, "#microsoft.graph.group");
            return Some(g);
        }
        self.find_user(id).map(|mut u| {
            set_type(&mut u, "#microsoft.graph.user");
            u
        })
    }

    pub fn find_sku(&self, sku_id: &str) -> Option<&Value> {
        self.subscribed_skus
            .iter()
            .find(|s| str_field(s, "skuId").is_some_and(|s| s.eq_ignore_ascii_case(sku_id)))
    }

    /// `licenseDetails` derived from the user's `assignedLicenses` and the tenant SKUs.
    pub fn license_details(&self, user: &Value) -> Vec<Value> {
        let user_id = str_field(user, "id").unwrap_or_default();
        let mut out = Vec::new();
        for license in user
            .get("assignedLicenses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(sku_id) = str_field(license, "skuId") else {
                continue;
            };
            let disabled: HashSet<String> = license
                .get("disabledPlans")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_lowercase)
                .collect();
            let sku = self.find_sku(sku_id);
            let plans: Vec<Value> = sku
                .and_then(|s| s.get("servicePlans"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|plan| {
                    let mut plan = plan.clone();
                    let off = str_field(&plan, "servicePlanId")
                        .is_some_and(|id| disabled.contains(&id.to_lowercase()));
                    if off && let Value::Object(o) = &mut plan {
                        o.insert("provisioningStatus".into(), json!("Disabled"));
                    }
                    plan
                })
                .collect();
            out.push(json!({
                "id": opaque_license_id(user_id, sku_id),
                "skuId": sku_id,
                "skuPartNumber": sku.and_then(|s| str_field(s, "skuPartNumber")),
                "servicePlans": plans,
            }));
        }
        out
    }
}

fn replace_strings(v: &mut Value, map: &HashMap<String, String>) {
    match v {
        Value::String(s) => {
            if let Some(new) = map.get(&s.to_lowercase()) {
                s.clone_from(new);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| replace_strings(i, map)),
        Value::Object(o) => o.values_mut().for_each(|i| replace_strings(i, map)),
        _ => {}
    }
}

fn replace_substring(v: &mut Value, old: &str, new: &str) {
    match v {
        Value::String(s) if s.contains(old) => *s = s.replace(old, new),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|i| replace_substring(i, old, new)),
        Value::Object(o) => o.values_mut().for_each(|i| replace_substring(i, old, new)),
        _ => {}
    }
}

fn set_type(v: &mut Value, odata_type: &str) {
    if let Value::Object(o) = v {
        let mut typed = Map::new();
        typed.insert("@odata.type".into(), json!(odata_type));
        for (k, val) in std::mem::take(o) {
            if k != "@odata.type" {
                typed.insert(k, val);
            }
        }
        *o = typed;
    }
}

/// Graph's licenseDetails ids are opaque base64url strings; derive a stable one.
fn opaque_license_id(user_id: &str, sku_id: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{user_id}/{sku_id}").as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..32])[..43].to_string()
}

/// Every object inside `group` (lowercase id), flattening nested groups breadth first
/// (nested groups included, each object once).
fn flatten(members: &HashMap<String, Vec<String>>, group: &str) -> Vec<String> {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut order = Vec::new();
    let mut queue: VecDeque<&str> = VecDeque::from([group]);
    while let Some(current) = queue.pop_front() {
        for member in members.get(current).into_iter().flatten() {
            if seen.insert(member) {
                order.push(member.clone());
                queue.push_back(member);
            }
        }
    }
    order
}

/// Moves each group's `members` array out of the object into a lookup table.
fn split_groups(raw: Vec<Value>) -> (Vec<Value>, HashMap<String, Vec<String>>) {
    let mut members = HashMap::new();
    let mut groups = Vec::new();
    for mut g in raw {
        if let Value::Object(o) = &mut g {
            let list: Vec<String> = match o.remove("members") {
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(|m| m.as_str().or_else(|| str_field(m, "id")))
                    .map(str::to_lowercase)
                    .collect(),
                _ => Vec::new(),
            };
            if let Some(id) = o.get("id").and_then(Value::as_str) {
                members.insert(id.to_lowercase(), list);
            }
        }
        groups.push(g);
    }
    (groups, members)
}

/// The identifiers of generated fleet device `index` (owned by generated user `index`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetDevice {
    /// Entra DeviceId (dsregcmd `DeviceId`).
    pub device_id: String,
    /// Host name (Entra displayName, Intune deviceName).
    pub name: String,
    /// The owning user's UPN.
    pub user_principal_name: String,
}

/// Device `index` of [`crate::MockConfig::generated_fleet`] with this seed.
pub fn fleet_device(seed: u64, index: usize) -> FleetDevice {
    let g = Generator::new(0, seed);
    let a = splitmix(seed ^ 0xDE71CE);
    FleetDevice {
        // The index sits in the last 12 hex digits, as in user ids.
        device_id: format!(
            "{:08x}-{:04x}-4{:03x}-b{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            (a >> 40) & 0xfff,
            index
        ),
        name: format!("PC{index:06}"),
        user_principal_name: format!("user{index:06}@{}", g.domain),
    }
}

/// The tenant id of a generated tenant with this seed.
pub fn generated_tenant_id(seed: u64) -> String {
    Generator::new(0, seed).guid(u64::MAX)
}

/// Deterministic user generator (no storage: users are built from their index).
pub(crate) struct Generator {
    pub count: usize,
    seed: u64,
    pub domain: String,
    /// What every user id starts with (see [`Generator::user_id`]).
    user_id_prefix: String,
    buckets: OnceLock<Box<[LicenseBucket; 4]>>,
}

const SPE_E3: &str = "05e9a617-0261-4cee-bb44-138d3ef5d965";
const ENTERPRISEPACK: &str = "6fd2c87f-b296-42f0-b197-1e91e994b900";
const INTUNE_A: &str = "c1ec4a95-1f05-45b3-a911-aa3fa01094f5";
const INTUNE_O365: &str = "882e1d05-acd1-4ccb-8708-6ee03664b117";
const EXCHANGE_S_ENTERPRISE: &str = "efb87545-963c-4e0d-99df-69c6916d9eb0";

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl Generator {
    fn new(count: usize, seed: u64) -> Generator {
        let a = splitmix(seed);
        Generator {
            count,
            seed,
            domain: format!("loadtest{seed}.onmicrosoft.com"),
            user_id_prefix: format!(
                "{:08x}-{:04x}-4{:03x}-a{:03x}-",
                a >> 32,
                (a >> 16) & 0xffff,
                a & 0xfff,
                (a >> 40) & 0xfff,
            ),
            buckets: OnceLock::new(),
        }
    }

    fn hash(&self, index: u64) -> u64 {
        splitmix(self.seed ^ splitmix(index))
    }

    /// A v4-shaped GUID from the seed and a number.
    fn guid(&self, n: u64) -> String {
        let a = self.hash(n);
        let b = splitmix(a);
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48 & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }

    /// User ids keep the index in the last 12 hex digits so lookups need no table.
    fn user_id(&self, index: usize) -> String {
        format!("{}{index:012x}", self.user_id_prefix)
    }

    fn find(&self, key: &str) -> Option<Value> {
        self.index_of(key).map(|i| self.user(i))
    }

    /// The index of the user whose id or UPN is `key` (case-insensitive).
    fn index_of(&self, key: &str) -> Option<usize> {
        let key = key.to_lowercase();
        let index = if let Some(local) = key.strip_suffix(&format!("@{}", self.domain)) {
            local.strip_prefix("user")?.parse::<usize>().ok()?
        } else {
            // `user_id` is a fixed prefix and the index as 12 lowercase hex digits.
            let tail = key.strip_prefix(self.user_id_prefix.as_str())?;
            if tail.len() != 12 || !tail.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                return None;
            }
            usize::from_str_radix(tail, 16).ok()?
        };
        (index < self.count).then_some(index)
    }

    fn user(&self, index: usize) -> Value {
        self.user_fields(index, None, &|_| true)
    }

    /// User `index` with only the properties `keep` accepts, in [`Generator::user`]'s order
    /// (what `odata::project` makes of the whole user, without building the rest), after
    /// `@odata.type` when `typed`.
    fn user_fields(&self, index: usize, typed: Option<&str>, keep: &dyn Fn(&str) -> bool) -> Value {
        let h = self.hash(index as u64);
        let mut o = Map::new();
        if let Some(t) = typed {
            o.insert("@odata.type".into(), json!(t));
        }
        let mut put = |k: &str, v: &dyn Fn() -> Value| {
            if keep(k) {
                o.insert(k.to_string(), v());
            }
        };
        let upn = || json!(format!("user{index:06}@{}", self.domain));
        put("id", &|| json!(self.user_id(index)));
        put("businessPhones", &|| json!([]));
        put("displayName", &|| json!(format!("User {index:06}")));
        put("givenName", &|| json!("User"));
        put("jobTitle", &|| Value::Null);
        put("mail", &upn);
        put("mobilePhone", &|| Value::Null);
        put("officeLocation", &|| Value::Null);
        put("preferredLanguage", &|| json!("en-US"));
        put("surname", &|| json!(format!("{index:06}")));
        put("userPrincipalName", &upn);
        put("accountEnabled", &|| json!(h % 40 != 3));
        put("usageLocation", &|| {
            if (h >> 8) % 50 == 7 {
                Value::Null
            } else {
                json!(["US", "GB", "DE", "FR", "NL"][((h >> 16) % 5) as usize])
            }
        });
        put("userType", &|| json!("Member"));
        put("onPremisesSyncEnabled", &|| Value::Null);
        let bucket = &self.license_buckets()[match h % 100 {
            0..=84 => 0,
            85..=91 => 1,
            92..=95 => 2,
            _ => 3,
        }];
        put("assignedLicenses", &|| bucket.licenses.clone());
        put("assignedPlans", &|| bucket.plans.clone());
        put("licenseAssignmentStates", &|| bucket.states.clone());
        Value::Object(o)
    }

    /// The four license assignments generated users have (85 % E3, 7 % E3 without Intune's
    /// plan on an Office SKU, 4 % none, 4 % E3 with Intune disabled).
    fn license_buckets(&self) -> &[LicenseBucket; 4] {
        self.buckets.get_or_init(|| {
            let when = "2025-01-06T09:30:00Z";
            let bucket = |licenses: Value, plans: Value| {
                let states: Vec<Value> = licenses
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|l| {
                        json!({ "assignedByGroup": null, "disabledPlans": l["disabledPlans"].clone(),
                                "error": "None", "lastUpdatedDateTime": when, "skuId": l["skuId"].clone(),
                                "state": "Active" })
                    })
                    .collect();
                LicenseBucket {
                    licenses,
                    plans,
                    states: Value::Array(states),
                }
            };
            Box::new([
                bucket(
                    json!([{ "disabledPlans": [], "skuId": SPE_E3 }]),
                    json!([
                        { "assignedDateTime": when, "capabilityStatus": "Enabled", "service": "SCO", "servicePlanId": INTUNE_A },
                        { "assignedDateTime": when, "capabilityStatus": "Enabled", "service": "exchange", "servicePlanId": EXCHANGE_S_ENTERPRISE }
                    ]),
                ),
                bucket(
                    json!([{ "disabledPlans": [], "skuId": ENTERPRISEPACK }]),
                    json!([
                        { "assignedDateTime": when, "capabilityStatus": "Enabled", "service": "SCO", "servicePlanId": INTUNE_O365 },
                        { "assignedDateTime": when, "capabilityStatus": "Enabled", "service": "exchange", "servicePlanId": EXCHANGE_S_ENTERPRISE }
                    ]),
                ),
                bucket(json!([]), json!([])),
                bucket(
                    json!([{ "disabledPlans": [INTUNE_A], "skuId": SPE_E3 }]),
                    json!([
                        { "assignedDateTime": when, "capabilityStatus": "Enabled", "service": "exchange", "servicePlanId": EXCHANGE_S_ENTERPRISE }
                    ]),
                ),
            ])
        })
    }
}

/// One of [`Generator::license_buckets`].
pub(crate) struct LicenseBucket {
    licenses: Value,
    plans: Value,
    states: Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_users_are_deterministic_and_findable() {
        let a = Generator::new(1000, 7);
        let b = Generator::new(1000, 7);
        assert_eq!(a.user(123), b.user(123));
        let u = a.user(42);
        let id = u["id"].as_str().unwrap_or_default();
        assert_eq!(a.find(id), Some(u.clone()));
        let upn = u["userPrincipalName"].as_str().unwrap_or_default();
        assert_eq!(a.find(upn), Some(u));
        assert_eq!(a.find("user001000@loadtest7.onmicrosoft.com"), None);
        assert_ne!(Generator::new(10, 8).user(1)["id"], a.user(1)["id"]);
    }

    #[test]
    fn generated_fleet_devices_match_their_identifiers() {
        let t = Tenant::generated_fleet(100, 60, 5).unwrap_or_else(|e| panic!("{e}"));
        let d = fleet_device(5, 25);
        let entra: Vec<&Value> = t
            .devices
            .iter()
            .filter(|x| x["displayName"] == d.name.as_str())
            .collect();
        // Device 25 has a stale duplicate with the same name.
        assert_eq!(entra.len(), 2);
        assert!(entra.iter().any(|x| x["deviceId"] == d.device_id.as_str()));
        let owner = t.find_user(&d.user_principal_name);
        let managed = t
            .managed_devices
            .iter()
            .find(|m| m["azureADDeviceId"] == d.device_id.as_str())
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            managed["userId"],
            owner.map(|u| u["id"].clone()).unwrap_or_default()
        );
        // Users outside the Intune scope group (index % 10 == 9) have no Intune record.
        let out = fleet_device(5, 19);
        assert!(
            !t.managed_devices
                .iter()
                .any(|m| m["azureADDeviceId"] == out.device_id.as_str())
        );
        assert_eq!(t.devices.len(), 60 + 1);
        assert_eq!(t.id, generated_tenant_id(5));
    }

    /// Cross-references inside each fixture resolve (ids typed by hand drift otherwise).
    #[test]
    fn fixture_references_resolve() {
        for name in fixture_names() {
            let t = Tenant::load_fixture(&name).unwrap_or_else(|e| panic!("{name}: {e}"));
            let known = |id: &str| t.directory_object(id).is_some();
            for (group, members) in &t.members {
                for m in members.ids.iter() {
                    assert!(known(m), "{name}: member {m} of group {group}");
                }
            }
            for p in t.mdm_policies.iter().chain(&t.mam_policies) {
                for g in p["includedGroups"].as_array().into_iter().flatten() {
                    assert!(
                        known(g.as_str().unwrap_or_default()),
                        "{name}: policy group {g}"
                    );
                }
            }
            for c in &t.enrollment_configurations {
                for a in c["assignments"].as_array().into_iter().flatten() {
                    if let Some(g) = a["target"]["groupId"].as_str() {
                        assert!(t.find_group(g).is_some(), "{name}: assignment group {g}");
                    }
                }
            }
            for d in t.managed_devices.iter().chain(&t.troubleshooting_events) {
                let user = d["userId"].as_str().unwrap_or_default();
                assert!(t.find_user(user).is_some(), "{name}: userId {user}");
            }
            for u in (0..t.user_count()).filter_map(|i| t.user_at(i)) {
                for l in u["assignedLicenses"].as_array().into_iter().flatten() {
                    let sku = l["skuId"].as_str().unwrap_or_default();
                    assert!(t.find_sku(sku).is_some(), "{name}: sku {sku}");
                }
            }
            for app in &t.apps {
                if let Some(upn) = &app.user_principal_name {
                    assert!(t.find_user(upn).is_some(), "{name}: app user {upn}");
                }
            }
        }
    }

    #[test]
    fn every_fixture_loads() {
        for name in fixture_names() {
            let t = Tenant::load_fixture(&name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(t.user_count() > 0, "{name} has users");
            assert!(!t.apps.is_empty(), "{name} has apps");
        }
    }
}
