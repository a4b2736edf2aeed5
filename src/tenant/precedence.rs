//! Which enrollment restriction wins for a user, the way Intune decides it.
//!
//! Per family (Windows platform restriction, device limit), the winner is the configuration
//! assigned to the user (group target the user is a transitive member of, or an all-users target,
//! unless the user is in one of its exclusion groups) with the lowest priority number ≥ 1; when
//! none is assigned, the tenant default (priority 0, id `…_Default…`) applies. Windows has its
//! own priority list: the single-platform (beta) Windows restrictions plus any legacy
//! all-platform custom restrictions (which also restrict Windows), ordered by priority number
//! alone — Graph documents one rule, "users are subject only to the configuration with the
//! lowest priority value"; on a tie the single-platform restriction is taken.
//!
//! An assignment with an assignment filter holds only for the devices the filter's rule selects,
//! which Intune evaluates at enrollment. Without a device (a user's readiness) such a
//! configuration is not a winner: it is recorded in [`Winner::depends_on_filters`] and the next
//! one is looked at, so a verdict that would differ for the filtered devices is never silently
//! given as the answer. With a device ([`FilterContext`]) the rule is evaluated against what its
//! report says (`tenant/filter_rule.rs`): an include filter that matches (or an exclude filter
//! that does not) makes the configuration apply, the opposite makes it not apply, and only a
//! rule the report cannot decide leaves it a dependency. Each evaluation is kept in
//! [`Winner::filter_checks`] for the evidence.

use super::filter_rule::{FilterDevice, FilterOutcome, evaluate_rule};
use super::snapshot::{
    AssignmentFilter, ConfigurationFamily, EnrollmentConfiguration, GroupMemberships, Membership,
    TargetFilter, TargetKind, TenantSnapshot, User, single_platform_covers_windows,
};

/// Why a configuration applies (or not) to a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applicability {
    /// Assigned through this route: `group Pilot`, `all users`, `all devices`.
    Assigned(String),
    /// Assigned only through routes with an assignment filter (each route and its filter):
    /// whether it applies depends on the enrolling device, which the filter rules decide.
    Filtered(Vec<(String, TargetFilter)>),
    /// The user is in an exclusion group.
    Excluded(String),
    NotAssigned,
    /// The user's membership of these groups is not known.
    Unknown(Vec<String>),
}

/// The configuration that applies, with how it was chosen.
#[derive(Debug, Clone)]
pub struct Winner<'a> {
    pub config: &'a EnrollmentConfiguration,
    /// `group Pilot`, `all users`, or `default` for the tenant default.
    pub via: String,
    /// One line per configuration considered, most relevant first.
    pub reasoning: Vec<String>,
    /// True when some higher-priority configuration might apply but membership was unknown.
    pub uncertain: bool,
    /// Higher-priority configurations assigned to the user through an assignment filter: each
    /// wins instead when the enrolling device matches (include) or does not match (exclude) the
    /// filter. Empty when the winner does not depend on a filter.
    pub depends_on_filters: Vec<FilterDependency<'a>>,
    /// The assignment filters evaluated against the enrolling device on the way to the winner
    /// (empty without a device).
    pub filter_checks: Vec<FilterCheck<'a>>,
}

/// The enrolling device, for the assignment filters: what its report says and the tenant's
/// filters (`None` when they were not read).
#[derive(Debug, Clone, Copy)]
pub struct FilterContext<'a> {
    pub device: &'a FilterDevice,
    pub filters: Option<&'a [AssignmentFilter]>,
}

/// One assignment filter evaluated against the enrolling device.
#[derive(Debug, Clone)]
pub struct FilterCheck<'a> {
    pub config: &'a EnrollmentConfiguration,
    /// The route: `group All Staff`, `all users`.
    pub via: String,
    pub filter: TargetFilter,
    /// The filter's name and rule as read (`None` when the filter was not read).
    pub filter_name: Option<String>,
    pub rule: Option<String>,
    pub outcome: FilterOutcome,
    /// The device values the outcome rests on.
    pub facts: Vec<String>,
}

impl FilterCheck<'_> {
    /// Whether the configuration applies through this route: `None` when undecided.
    pub fn applies(&self) -> Option<bool> {
        match self.outcome {
            FilterOutcome::Match => Some(self.filter.include),
            FilterOutcome::NoMatch => Some(!self.filter.include),
            FilterOutcome::Unknown(_) => None,
        }
    }

    /// `assignment filter "Dell" (include, rule …) of "Dell block" (priority 1) via group All
    /// Staff, evaluated against the device: it matches (manufacturer is "Dell Inc."), so the
    /// restriction applies`.
    pub fn describe(&self) -> String {
        let name = self.filter_name.as_deref().unwrap_or(&self.filter.id);
        let rule = self
            .rule
            .as_deref()
            .map(|r| format!(", rule {r}"))
            .unwrap_or_default();
        let facts = if self.facts.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.facts.join(", "))
        };
        let (result, then) = match (&self.outcome, self.applies()) {
            (FilterOutcome::Match, Some(a)) => ("the device matches", a),
            (FilterOutcome::NoMatch, Some(a)) => ("the device does not match", a),
            (FilterOutcome::Unknown(why), _) => {
                return format!(
                    "assignment filter \"{name}\" ({}{rule}) of \"{}\" (priority {}) via {}: could not be decided from the device report: {why}",
                    self.mode(),
                    self.config.name(),
                    self.config.priority,
                    self.via
                );
            }
            _ => ("", false),
        };
        format!(
            "assignment filter \"{name}\" ({}{rule}) of \"{}\" (priority {}) via {}, evaluated against the device: {result}{facts}, so the restriction {}",
            self.mode(),
            self.config.name(),
            self.config.priority,
            self.via,
            if then { "applies" } else { "does not apply" }
        )
    }

    fn mode(&self) -> &'static str {
        if self.filter.include {
            "include"
        } else {
            "exclude"
        }
    }
}

/// Evaluates `filter` for the device: undecided when the filter or its rule was not read.
fn check_filter<'a>(
    ctx: &FilterContext,
    config: &'a EnrollmentConfiguration,
    via: &str,
    filter: &TargetFilter,
) -> FilterCheck<'a> {
    let found = ctx
        .filters
        .and_then(|l| l.iter().find(|f| f.id.eq_ignore_ascii_case(&filter.id)));
    let (outcome, facts) = match (ctx.filters, found) {
        (None, _) => (
            FilterOutcome::Unknown(
                "the assignment filters were not read (beta /deviceManagement/assignmentFilters)"
                    .into(),
            ),
            Vec::new(),
        ),
        (Some(_), None) => (
            FilterOutcome::Unknown(format!(
                "filter {} is not among the tenant's assignment filters",
                filter.id
            )),
            Vec::new(),
        ),
        (Some(_), Some(f)) => match f.rule.as_deref() {
            Some(rule) => {
                let ev = evaluate_rule(rule, ctx.device);
                (ev.outcome, ev.facts)
            }
            None => (
                FilterOutcome::Unknown("the filter has no rule".into()),
                Vec::new(),
            ),
        },
    };
    FilterCheck {
        config,
        via: via.to_string(),
        filter: filter.clone(),
        filter_name: found.map(|f| f.display_name.clone().unwrap_or_else(|| f.id.clone())),
        rule: found.and_then(|f| f.rule.clone()),
        outcome,
        facts,
    }
}

/// A higher-priority configuration assigned to the user through an assignment filter.
#[derive(Debug, Clone)]
pub struct FilterDependency<'a> {
    pub config: &'a EnrollmentConfiguration,
    /// The route: `group All Staff`, `all users`.
    pub via: String,
    pub filter: TargetFilter,
    /// Why the enrolling device's report could not decide the filter (`None` without a
    /// device).
    pub undecided: Option<String>,
}

impl FilterDependency<'_> {
    /// `"HP laptops" (priority 2) via group All Staff, for devices that match assignment filter
    /// "HP devices" ((device.manufacturer -eq "HP"))`; the filter by id when it was not read.
    pub fn describe(&self, filters: Option<&[AssignmentFilter]>) -> String {
        let f = filters.and_then(|l| {
            l.iter()
                .find(|f| f.id.eq_ignore_ascii_case(&self.filter.id))
        });
        let filter = match f {
            Some(f) => format!(
                "\"{}\"{}",
                f.display_name.as_deref().unwrap_or(&f.id),
                f.rule
                    .as_deref()
                    .map(|r| format!(" (rule {r})"))
                    .unwrap_or_default()
            ),
            None => self.filter.id.clone(),
        };
        let undecided = self
            .undecided
            .as_deref()
            .map(|why| format!(" (not decided from the device report: {why})"))
            .unwrap_or_default();
        format!(
            "\"{}\" (priority {}) via {}, for devices that {} assignment filter {filter}{undecided}",
            self.config.name(),
            self.config.priority,
            self.via,
            if self.filter.include {
                "match"
            } else {
                "do not match"
            }
        )
    }
}

impl Winner<'_> {
    pub fn is_default(&self) -> bool {
        self.via == "default"
    }

    /// `restriction "Pilot Windows block" (priority 1) via group Pilot`.
    pub fn describe(&self) -> String {
        if self.is_default() {
            format!(
                "restriction \"{}\" (priority {}, the tenant default)",
                self.config.name(),
                self.config.priority
            )
        } else {
            format!(
                "restriction \"{}\" (priority {}) via {}",
                self.config.name(),
                self.config.priority,
                self.via
            )
        }
    }

    /// Graph location of the configuration.
    pub fn location(&self) -> String {
        format!(
            "GET /beta/deviceManagement/deviceEnrollmentConfigurations/{}?$expand=assignments",
            self.config.id
        )
    }
}

/// Winners for both families the user checks need.
#[derive(Debug, Clone)]
pub struct WinningRestrictions<'a> {
    pub windows_platform: Option<Winner<'a>>,
    pub device_limit: Option<Winner<'a>>,
}

/// Does `config` apply to `user`? `memberships` may be absent (then groups are unknown).
pub fn applicability(
    config: &EnrollmentConfiguration,
    user: &User,
    memberships: Option<&GroupMemberships>,
) -> Applicability {
    let member = |g: &str| {
        memberships
            .map(|m| m.is_member(&user.id, g))
            .unwrap_or(Membership::Unknown)
    };
    let name = |g: &str| {
        memberships
            .map(|m| m.group_name(g))
            .unwrap_or_else(|| g.to_string())
    };
    let mut unknown_excluded = Vec::new();
    let mut unknown_included = Vec::new();
    for a in &config.assignments {
        if let TargetKind::ExcludedGroup(g) = a.target.kind() {
            match member(&g) {
                Membership::Member => {
                    return Applicability::Excluded(format!("group {}", name(&g)));
                }
                Membership::Unknown => unknown_excluded.push(name(&g)),
                Membership::NotMember => {}
            }
        }
    }
    let mut via = None;
    // A route through an assignment filter holds only for some devices; an unfiltered route
    // makes the configuration apply whatever the device.
    let mut filtered: Vec<(String, TargetFilter)> = Vec::new();
    for a in &config.assignments {
        let route = match a.target.kind() {
            TargetKind::AllUsers => "all users".to_string(),
            TargetKind::AllDevices => "all devices".to_string(),
            TargetKind::Group(g) => match member(&g) {
                Membership::Member => format!("group {}", name(&g)),
                Membership::Unknown => {
                    unknown_included.push(name(&g));
                    continue;
                }
                Membership::NotMember => continue,
            },
            TargetKind::ExcludedGroup(_) | TargetKind::Other(_) => continue,
        };
        if let Some(f) = a.target.filter() {
            filtered.push((route, f));
            continue;
        }
        // A group route explains more than "all users": prefer it.
        match &via {
            None => via = Some(route),
            Some(v) if v.starts_with("all ") && !route.starts_with("all ") => via = Some(route),
            Some(_) => {}
        }
    }
    if via.is_none() && !filtered.is_empty() {
        // An unknown membership (an exclusion, or another unfiltered route) leaves it open.
        if !unknown_excluded.is_empty() || !unknown_included.is_empty() {
            let mut groups = unknown_excluded;
            groups.extend(unknown_included);
            return Applicability::Unknown(groups);
        }
        return Applicability::Filtered(filtered);
    }
    match via {
        Some(v) if unknown_excluded.is_empty() => Applicability::Assigned(v),
        Some(_) => Applicability::Unknown(unknown_excluded),
        None if !unknown_included.is_empty() => Applicability::Unknown(unknown_included),
        None => Applicability::NotAssigned,
    }
}

/// Picks the winner among `candidates` (custom, any priority) falling back to `default`.
fn pick<'a>(
    lists: &[Vec<&'a EnrollmentConfiguration>],
    default: Option<&'a EnrollmentConfiguration>,
    user: &User,
    memberships: Option<&GroupMemberships>,
    device: Option<&FilterContext>,
) -> Option<Winner<'a>> {
    let mut reasoning = Vec::new();
    let mut uncertain = false;
    let mut depends_on_filters = Vec::new();
    let mut filter_checks: Vec<FilterCheck<'a>> = Vec::new();
    for list in lists {
        let mut sorted: Vec<&EnrollmentConfiguration> = list.clone();
        let legacy = |c: &EnrollmentConfiguration| {
            !matches!(c.family(), ConfigurationFamily::SinglePlatform(_))
        };
        sorted.sort_by(|a, b| {
            a.priority
                .cmp(&b.priority)
                .then(legacy(a).cmp(&legacy(b)))
                .then(a.id.cmp(&b.id))
        });
        for c in sorted {
            match applicability(c, user, memberships) {
                Applicability::Assigned(via) => {
                    reasoning.insert(
                        0,
                        format!(
                            "\"{}\" (priority {}) applies via {via} and has the lowest priority number among those assigned",
                            c.name(),
                            c.priority
                        ),
                    );
                    return Some(Winner {
                        config: c,
                        via,
                        reasoning,
                        uncertain,
                        depends_on_filters,
                        filter_checks,
                    });
                }
                Applicability::Filtered(routes) => {
                    let Some(ctx) = device else {
                        // No device: the first route stands for the dependency.
                        if let Some((via, filter)) = routes.into_iter().next() {
                            let dep = FilterDependency {
                                config: c,
                                via,
                                filter,
                                undecided: None,
                            };
                            reasoning.push(format!(
                                "{}: wins instead when the enrolling device is one of them (the filter rule is evaluated by Intune at enrollment)",
                                dep.describe(None)
                            ));
                            depends_on_filters.push(dep);
                        }
                        continue;
                    };
                    let checks: Vec<FilterCheck<'a>> = routes
                        .iter()
                        .map(|(via, f)| check_filter(ctx, c, via, f))
                        .collect();
                    let applies = checks.iter().find(|k| k.applies() == Some(true)).cloned();
                    let undecided = checks.iter().find(|k| k.applies().is_none()).cloned();
                    // An undecided filter is said once, with the dependency below.
                    for k in checks.iter().filter(|k| k.applies().is_some()) {
                        reasoning.push(k.describe());
                    }
                    filter_checks.extend(checks);
                    if let Some(k) = applies {
                        reasoning.insert(
                            0,
                            format!(
                                "\"{}\" (priority {}) applies via {} to this device (its assignment filter decides it) and has the lowest priority number among those assigned",
                                c.name(),
                                c.priority,
                                k.via
                            ),
                        );
                        return Some(Winner {
                            config: c,
                            via: format!(
                                "{}, assignment filter \"{}\"",
                                k.via,
                                k.filter_name.as_deref().unwrap_or(&k.filter.id)
                            ),
                            reasoning,
                            uncertain,
                            depends_on_filters,
                            filter_checks,
                        });
                    }
                    if let Some(k) = undecided {
                        let why = match &k.outcome {
                            FilterOutcome::Unknown(why) => why.clone(),
                            _ => String::new(),
                        };
                        let dep = FilterDependency {
                            config: c,
                            via: k.via,
                            filter: k.filter,
                            undecided: Some(why),
                        };
                        reasoning.push(format!(
                            "{}: wins instead when the enrolling device is one of them",
                            dep.describe(device.and_then(|d| d.filters))
                        ));
                        depends_on_filters.push(dep);
                    }
                }
                Applicability::Excluded(g) => reasoning.push(format!(
                    "\"{}\" (priority {}) skipped: the user is in its exclusion {g}",
                    c.name(),
                    c.priority
                )),
                Applicability::NotAssigned => reasoning.push(format!(
                    "\"{}\" (priority {}) not assigned to the user",
                    c.name(),
                    c.priority
                )),
                Applicability::Unknown(groups) => {
                    uncertain = true;
                    reasoning.push(format!(
                        "\"{}\" (priority {}) may apply: membership of {} unknown",
                        c.name(),
                        c.priority,
                        groups.join(", ")
                    ));
                }
            }
        }
    }
    default.map(|d| {
        reasoning.insert(
            0,
            format!(
                "default \"{}\" (priority {}) applies: no custom configuration is assigned to the user",
                d.name(),
                d.priority
            ),
        );
        Winner {
            config: d,
            via: "default".to_string(),
            reasoning,
            uncertain,
            depends_on_filters,
            filter_checks,
        }
    })
}

/// The Windows platform restriction and device limit that win for `user`.
/// `None` inside when the tenant returned no configuration of that family at all.
pub fn winning_restrictions<'a>(
    configs: &'a [EnrollmentConfiguration],
    user: &User,
    memberships: Option<&GroupMemberships>,
) -> WinningRestrictions<'a> {
    winning_restrictions_for(configs, user, memberships, None)
}

/// [`winning_restrictions`] for an enrolling device whose report decides the assignment filters
/// it can (`None`: no device, every filtered assignment is a dependency).
pub fn winning_restrictions_for<'a>(
    configs: &'a [EnrollmentConfiguration],
    user: &User,
    memberships: Option<&GroupMemberships>,
    device: Option<&FilterContext>,
) -> WinningRestrictions<'a> {
    // One Windows list: single-platform Windows and legacy all-platform customs together.
    let mut windows_custom = Vec::new();
    let mut legacy_default = None;
    let mut limit_custom = Vec::new();
    let mut limit_default = None;
    for c in configs {
        match c.family() {
            ConfigurationFamily::SinglePlatform(p)
                if single_platform_covers_windows(&p) && !c.is_default() =>
            {
                windows_custom.push(c);
            }
            ConfigurationFamily::PlatformRestrictions => {
                if c.is_default() {
                    legacy_default.get_or_insert(c);
                } else {
                    windows_custom.push(c);
                }
            }
            ConfigurationFamily::Limit => {
                if c.is_default() {
                    limit_default.get_or_insert(c);
                } else {
                    limit_custom.push(c);
                }
            }
            _ => {}
        }
    }
    WinningRestrictions {
        windows_platform: pick(&[windows_custom], legacy_default, user, memberships, device),
        device_limit: pick(&[limit_custom], limit_default, user, memberships, device),
    }
}

/// The tenant default Windows platform restriction as the winner, for enrollments that get only
/// the default: no enrolling user is known, or the device enrolls with its own credential
/// (co-management), for which Intune applies only the default restriction (memdocs
/// `enrollment-restrictions-set.md`). `why` is the first line of the reasoning.
pub fn default_windows_restriction<'a>(
    configs: &'a [EnrollmentConfiguration],
    why: &str,
) -> Option<Winner<'a>> {
    configs
        .iter()
        .find(|c| c.family() == ConfigurationFamily::PlatformRestrictions && c.is_default())
        .map(|c| Winner {
            config: c,
            via: "default".into(),
            reasoning: vec![format!("default \"{}\" applies: {why}", c.name())],
            uncertain: false,
            depends_on_filters: Vec::new(),
            filter_checks: Vec::new(),
        })
}

/// Why a co-managed device gets only the default restriction (evidence text).
pub const DEVICE_CREDENTIAL_DEFAULT_ONLY: &str = "the device enrolls with its device credential (co-management), and Intune applies only the default enrollment restriction to it";

/// Convenience over a snapshot: `None` when the configurations were not collected.
pub fn winning_restrictions_in<'a>(
    snapshot: &'a TenantSnapshot,
    user: &User,
) -> Option<WinningRestrictions<'a>> {
    let configs = snapshot.sources.enrollment_configurations.data()?;
    Some(winning_restrictions(
        configs,
        user,
        snapshot.sources.group_memberships.data(),
    ))
}

/// [`winning_restrictions_in`] for the enrolling device described by `device`: the tenant's
/// assignment filters are evaluated against it where its report decides them.
pub fn winning_restrictions_for_device<'a>(
    snapshot: &'a TenantSnapshot,
    user: &User,
    device: &FilterDevice,
) -> Option<WinningRestrictions<'a>> {
    let configs = snapshot.sources.enrollment_configurations.data()?;
    let ctx = FilterContext {
        device,
        filters: snapshot
            .sources
            .assignment_filters
            .data()
            .map(Vec::as_slice),
    };
    Some(winning_restrictions_for(
        configs,
        user,
        snapshot.sources.group_memberships.data(),
        Some(&ctx),
    ))
}

/// A Windows version `major.minor.build.rev`, compared numerically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct WindowsVersion(pub [u64; 4]);

impl WindowsVersion {
    /// Parses `10.0.19045`, `10.0.19045.3803`; missing parts are 0. `None` for non-numeric text.
    pub fn parse(s: &str) -> Option<WindowsVersion> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        let mut parts = [0u64; 4];
        for (i, p) in s.split('.').enumerate() {
            if i >= 4 {
                return None;
            }
            parts[i] = p.trim().parse().ok()?;
        }
        Some(WindowsVersion(parts))
    }

    /// What Windows reports at enrollment: no revision.
    pub fn at_enrollment(self) -> WindowsVersion {
        let [a, b, c, _] = self.0;
        WindowsVersion([a, b, c, 0])
    }

    pub fn build(self) -> u64 {
        self.0[2]
    }
}

impl std::fmt::Display for WindowsVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [a, b, c, d] = self.0;
        write!(f, "{a}.{b}.{c}.{d}")
    }
}

/// Does a restriction's min/max exclude a device version? `Some(reason)` when it does.
pub fn os_version_blocked(
    min: Option<&str>,
    max: Option<&str>,
    device: WindowsVersion,
) -> Option<String> {
    let seen = device.at_enrollment();
    if let Some(min) = min.and_then(WindowsVersion::parse)
        && seen < min
    {
        let why = if device.build() == min.build() && min.0[3] != 0 {
            " (Windows does not send its revision at enrollment, so a minimum with a revision blocks every device of that build)"
        } else {
            ""
        };
        return Some(format!(
            "device version {device} is reported as {seen} at enrollment, below the minimum {min}{why}"
        ));
    }
    if let Some(max) = max.and_then(WindowsVersion::parse)
        && seen > max
    {
        return Some(format!(
            "device version {device} is above the maximum {max}"
        ));
    }
    None
}

#[cfg(test)]
mod tests;
