//! What the Autopilot checks read: one device's Autopilot evidence (`report.autopilot`, its
//! hardware, TPM and edition) beside the tenant's Autopilot records, and the shared preambles —
//! whether the device is on the Autopilot path at all, its registration, its groups.

use std::collections::BTreeSet;

use crate::checks::correlate::facts::CorrelationFacts;
use crate::device::autopilot::AutopilotEvidence;
use crate::model::{CheckMeta, Evidence, Finding, SkipReason, Subject};
use crate::tenant::autopilot::{
    AutopilotDeviceIdentity, AutopilotProfile, ProfileResolution, find_identity, profile_named,
    resolve_profile,
};
use crate::tenant::snapshot::MissingReason;

/// What to collect for the serial number.
pub const COLLECT_SERIAL: &str = "the device's serial number (the collector bundle's hardware section, or MdmDiagnosticsTool's DeviceHash_*.csv)";
/// What to collect for the device's Autopilot evidence.
pub const COLLECT_AUTOPILOT: &str = "the Autopilot registry keys and event log (`reg export HKLM\\SOFTWARE\\Microsoft\\Provisioning\\Diagnostics\\Autopilot`, the ModernDeployment-Diagnostics-Provider/Autopilot log, or `MdmDiagnosticsTool -area Autopilot`)";
/// What AP002–AP004 need first.
pub const COLLECT_REGISTRATION: &str =
    "the device's Autopilot registration in this tenant (see AP001)";

/// The subject-less name of the path a check does not apply to.
pub const NOT_AUTOPILOT: &str = "non-Autopilot";

/// The device's Autopilot registration as the tenant answers for its serial number.
#[derive(Debug, Clone, Copy)]
pub enum Registration<'a> {
    /// Registered: the identity with the device's serial (and manufacturer).
    Found(&'a AutopilotDeviceIdentity, &'a str),
    /// The identities were read and none has the serial (the endpoint they came from).
    NotFound(&'a str),
    /// The report names no serial number.
    NoSerial,
    /// The identities were not read.
    Missing(&'a MissingReason),
}

/// One device and the tenant, for the Autopilot checks.
pub struct AutopilotFacts<'a> {
    pub cf: &'a CorrelationFacts<'a>,
    pub subject: &'a Subject,
    pub evidence: Option<&'a AutopilotEvidence>,
    /// `Win32_BIOS` serial, else the first serial of the Autopilot files.
    pub serial: Option<&'a str>,
    pub manufacturer: Option<&'a str>,
    pub model: Option<&'a str>,
    pub registration: Registration<'a>,
}

fn non_empty(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|s| !s.is_empty())
}

impl<'a> AutopilotFacts<'a> {
    pub fn new(cf: &'a CorrelationFacts<'a>) -> AutopilotFacts<'a> {
        let evidence = cf.report.autopilot.as_ref();
        let hw = cf.report.hardware.as_ref();
        let serial = cf.report.lookup_serial();
        let manufacturer = non_empty(hw.and_then(|h| h.manufacturer.as_deref()));
        let model = non_empty(hw.and_then(|h| h.model.as_deref()));
        let registration = match (serial, cf.snap.sources.autopilot_devices.get()) {
            (None, _) => Registration::NoSerial,
            (Some(_), Err(r)) => Registration::Missing(r),
            (Some(s), Ok((list, ep))) => match find_identity(list, s, manufacturer) {
                Some(i) => Registration::Found(i, ep),
                None => Registration::NotFound(ep),
            },
        };
        AutopilotFacts {
            cf,
            subject: cf.subject,
            evidence,
            serial,
            manufacturer,
            model,
            registration,
        }
    }

    /// The device shows an Autopilot deployment of its own: a profile (even an empty one, how
    /// an unregistered device looks), Autopilot events, or the ESP's tracking.
    pub fn went_through(&self) -> bool {
        self.evidence.is_some_and(|e| {
            !e.profiles.is_empty()
                || !e.events.is_empty()
                || e.esp.is_some()
                || !e.first_sync.is_empty()
        })
    }

    /// The registered identity, if any.
    pub fn identity(&self) -> Option<&'a AutopilotDeviceIdentity> {
        match self.registration {
            Registration::Found(i, _) => Some(i),
            _ => None,
        }
    }

    /// The check applies: the device went through Autopilot or is registered with it. Not
    /// applicable when neither the device nor the tenant shows Autopilot; when the tenant's
    /// identities could not be read and the device shows nothing, the skip names the missing
    /// source (its permission).
    pub fn on_path(&self, meta: &CheckMeta) -> Result<(), Box<Finding>> {
        if self.went_through() || self.identity().is_some() {
            return Ok(());
        }
        match self.registration {
            Registration::Missing(r) => Err(Box::new(r.finding_of(
                meta,
                self.subject.clone(),
                "the Autopilot device identities",
            ))),
            _ => Err(Box::new(self.not_autopilot(meta))),
        }
    }

    /// The skip of a device that neither went through Autopilot nor is registered.
    pub fn not_autopilot(&self, meta: &CheckMeta) -> Finding {
        let mut f = meta.skip(
            self.subject.clone(),
            SkipReason::NotApplicable {
                path: NOT_AUTOPILOT.into(),
            },
        );
        f.evidence.push(Evidence::new(
            "autopilot",
            match (self.serial, self.evidence.is_some()) {
                (Some(s), _) => format!(
                    "the device shows no Autopilot deployment and serial {s} is not registered in this tenant"
                ),
                (None, true) => "the device's Autopilot evidence shows no deployment".to_string(),
                (None, false) => "the report holds no Autopilot evidence and no serial number".to_string(),
            },
        ));
        f
    }

    /// The registered identity, or the finding that ends a check needing it: the identities
    /// were not read (say why), no serial, or not registered (AP001 says so).
    pub fn registered(
        &self,
        meta: &CheckMeta,
    ) -> Result<(&'a AutopilotDeviceIdentity, &'a str), Box<Finding>> {
        match self.registration {
            Registration::Found(i, ep) => Ok((i, ep)),
            Registration::Missing(r) => Err(Box::new(r.finding_of(
                meta,
                self.subject.clone(),
                "the Autopilot device identities",
            ))),
            Registration::NoSerial => Err(Box::new(meta.skip(
                self.subject.clone(),
                SkipReason::NoEvidence {
                    collect: COLLECT_SERIAL.into(),
                },
            ))),
            Registration::NotFound(_) => Err(Box::new(meta.skip(
                self.subject.clone(),
                SkipReason::NoEvidence {
                    collect: COLLECT_REGISTRATION.into(),
                },
            ))),
        }
    }

    /// The Entra deviceId of the device: the report's, else its Autopilot identity's.
    pub fn entra_device_id(&self) -> Option<String> {
        self.cf
            .keys
            .device_id
            .clone()
            .or_else(|| {
                self.identity()
                    .and_then(|i| i.entra_device_id())
                    .map(str::to_string)
            })
            .map(|d| d.to_ascii_lowercase())
    }

    /// The device's transitive groups: `Ok(None)` when the device has no Entra object yet (or
    /// its groups were not looked up), `Err` with the missing reason when the source was not
    /// read at all.
    pub fn device_groups(&self) -> Result<Option<&'a BTreeSet<String>>, &'a MissingReason> {
        let m = match self.cf.snap.sources.device_group_memberships.get() {
            Ok((m, _)) => m,
            Err(r) => return Err(r),
        };
        Ok(self.entra_device_id().and_then(|d| m.groups_of(&d)))
    }

    /// A group's name for evidence.
    pub fn group_name(&self, id: &'a str) -> &'a str {
        self.cf
            .snap
            .sources
            .device_group_memberships
            .data()
            .map(|m| m.group_name(id))
            .unwrap_or(id)
    }

    /// The enrolling user's transitive groups, when known.
    pub fn user_groups(&self) -> Option<&'a BTreeSet<String>> {
        let user = self.cf.user?;
        self.cf
            .snap
            .sources
            .group_memberships
            .data()?
            .members
            .get(&user.id.to_ascii_lowercase())
    }

    /// The deployment profile the device is on, best evidence first: the one Intune applies by
    /// the device's groups, else the profile the device names.
    pub fn profile(&self, profiles: &'a [AutopilotProfile]) -> Option<&'a AutopilotProfile> {
        if let Ok(Some(groups)) = self.device_groups()
            && let Some(p) = resolve_profile(profiles, groups).applied
        {
            return Some(p);
        }
        let named = self
            .evidence
            .and_then(|e| e.profiles.iter().find_map(|p| p.profile_name.as_deref()));
        named.and_then(|n| profile_named(profiles, n))
    }

    /// The profiles reaching the device, when its groups are known.
    pub fn resolution(&self, profiles: &'a [AutopilotProfile]) -> Option<ProfileResolution<'a>> {
        match self.device_groups() {
            Ok(Some(groups)) => Some(resolve_profile(profiles, groups)),
            _ => None,
        }
    }
}

/// Evidence from Graph.
pub fn graph(detail: impl Into<String>, at: impl Into<String>) -> Evidence {
    Evidence::new("graph", detail).at(at)
}

/// One line about a registered identity.
pub fn describe_identity(i: &AutopilotDeviceIdentity) -> String {
    format!(
        "Autopilot device {} ({} {}): enrollmentState {}, profile {}, group tag {}",
        i.name(),
        i.manufacturer.as_deref().unwrap_or("?"),
        i.model.as_deref().unwrap_or("?"),
        i.enrollment_state.as_deref().unwrap_or("unknown"),
        i.deployment_profile_assignment_status
            .as_deref()
            .unwrap_or("unknown (beta property not read)"),
        i.group_tag.as_deref().unwrap_or("none"),
    )
}

/// Where an identity is read from.
pub fn identity_location(i: &AutopilotDeviceIdentity) -> String {
    format!(
        "GET /beta/deviceManagement/windowsAutopilotDeviceIdentities/{}",
        i.id
    )
}

/// Where a profile is read from.
pub fn profile_location(p: &AutopilotProfile) -> String {
    format!(
        "GET /beta/deviceManagement/windowsAutopilotDeploymentProfiles/{}?$expand=assignments",
        p.id
    )
}
