//! Evaluating a parsed rule against what a device report says (see the parent module for the
//! properties Intune evaluates at enrollment and the three-valued logic).

use super::*;

/// What the device report says about the properties Intune evaluates at enrollment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterDevice {
    /// `CurrentBuildNumber` (22631).
    pub os_build: Option<u32>,
    /// `UBR` (3374).
    pub os_ubr: Option<u32>,
    /// `EditionID` (Enterprise, Professional, …).
    pub edition_id: Option<String>,
    /// `Win32_ComputerSystem` manufacturer and model (collector hardware section).
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    /// The Autopilot profile the device holds (`DeploymentProfileName`), when exactly one name
    /// is known.
    pub enrollment_profile_name: Option<String>,
}

fn non_empty(v: Option<&str>) -> Option<String> {
    v.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl FilterDevice {
    /// The facts from a device report.
    pub fn from_report(report: &DeviceReport) -> FilterDevice {
        let os = report.os.as_ref();
        let hw = report.hardware.as_ref();
        let mut names: Vec<String> = report
            .autopilot
            .as_ref()
            .map(|a| {
                a.profiles
                    .iter()
                    .filter(|p| {
                        matches!(
                            p.source,
                            ProfileSource::Registry | ProfileSource::DdsZtdFile
                        )
                    })
                    .filter_map(|p| non_empty(p.profile_name.as_deref()))
                    .collect()
            })
            .unwrap_or_default();
        names.sort_by_key(|n| n.to_lowercase());
        names.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        FilterDevice {
            os_build: os.and_then(|o| o.build),
            os_ubr: os.and_then(|o| o.ubr),
            edition_id: os.and_then(|o| non_empty(o.edition_id.as_deref())),
            manufacturer: hw.and_then(|h| non_empty(h.manufacturer.as_deref())),
            model: hw.and_then(|h| non_empty(h.model.as_deref())),
            enrollment_profile_name: (names.len() == 1).then(|| names.remove(0)),
        }
    }
}

/// The result of evaluating a rule for one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterOutcome {
    Match,
    NoMatch,
    /// Not decidable from the report; why.
    Unknown(String),
}

/// An outcome with the device values it was decided on (`operatingSystemSKU Enterprise
/// (EditionID)`), for the evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub outcome: FilterOutcome,
    pub facts: Vec<String>,
}

/// The operating system SKU values the filter documentation lists that are spelled like the
/// `EditionID` Windows writes. Left out: `ProfessionalN` and `BusinessN`, which the
/// documentation's table gives to other editions than their names suggest (Professional for
/// Workstations N and Professional N), and `ProfessionalWorkstationN`, which it does not list.
const SKU_VALUES: &[&str] = &[
    "CloudEdition",
    "CloudEditionN",
    "Core",
    "CoreCountrySpecific",
    "CoreN",
    "CoreSingleLanguage",
    "Education",
    "EducationN",
    "Enterprise",
    "EnterpriseEval",
    "EnterpriseG",
    "EnterpriseGN",
    "EnterpriseN",
    "EnterpriseNEval",
    "EnterpriseS",
    "EnterpriseSEval",
    "EnterpriseSN",
    "Holographic",
    "IoTUAP",
    "IoTUAPCommercial",
    "IoTEnterprise",
    "PPIPro",
    "Professional",
    "ProfessionalEducation",
    "ProfessionalEducationN",
    "ProfessionalWorkstation",
    "ProfessionalSingleLanguage",
    "ServerRdsh",
];

/// A property's value as Intune would see it at enrollment.
enum Resolved {
    /// Every form Intune may see; a comparison is decided when all forms agree.
    Values(Vec<String>),
    /// Intune has a value, the report does not (why).
    Missing(String),
    /// Intune does not evaluate it at enrollment, or how is not documented (why).
    Undefined(String),
}

const UNSUPPORTED_AT_ENROLLMENT: &str = "is not among the filter properties Intune evaluates for Windows enrollment restrictions (memdocs intune/intune-service/enrollment/create-device-platform-restrictions.md, \"Supported filter properties\")";

fn resolve(c: &Comparison, d: &FilterDevice) -> Resolved {
    if !c.entity.eq_ignore_ascii_case("device") {
        return Resolved::Undefined(format!(
            "{}.{} is not a device property",
            c.entity, c.property
        ));
    }
    let p = c.property.to_ascii_lowercase();
    match p.as_str() {
        "osversion" => match d.os_build {
            // Windows does not send its revision at enrollment (memdocs
            // create-device-platform-restrictions.md): the version is 10.0.<build>, with or
            // without a zero revision.
            Some(b) => Resolved::Values(vec![format!("10.0.{b}"), format!("10.0.{b}.0")]),
            None => Resolved::Missing("the report holds no OS build (CurrentBuildNumber)".into()),
        },
        "operatingsystemsku" => match d.edition_id.as_deref() {
            Some(e) => match SKU_VALUES.iter().find(|s| s.eq_ignore_ascii_case(e)) {
                Some(s) => Resolved::Values(vec![(*s).to_string()]),
                None => Resolved::Missing(format!(
                    "the edition {e} (EditionID) has no unambiguous operatingSystemSKU value in the filter documentation"
                )),
            },
            None => Resolved::Missing("the report holds no edition (EditionID)".into()),
        },
        "manufacturer" | "model" => {
            let value = if p == "manufacturer" {
                &d.manufacturer
            } else {
                &d.model
            };
            match (d.os_build, d.os_ubr) {
                (Some(b), _) if b > 22631 => {}
                (Some(22621 | 22631), Some(u)) if u >= 3374 => {}
                (Some(b), u) => {
                    return Resolved::Undefined(format!(
                        "{} is evaluated at enrollment only from Windows 11 22H2 with KB5035942 (OS builds 22621.3374 and 22631.3374; memdocs intune/intune-service/enrollment/create-device-platform-restrictions.md), and the device runs {}",
                        c.property,
                        match u {
                            Some(u) => format!("10.0.{b}.{u}"),
                            None => format!("build {b} (revision unknown)"),
                        }
                    ));
                }
                (None, _) => {
                    return Resolved::Undefined(format!(
                        "{} is evaluated at enrollment only from OS builds 22621.3374 and 22631.3374, and the report holds no OS build",
                        c.property
                    ));
                }
            }
            match value {
                Some(v) => Resolved::Values(vec![v.clone()]),
                None => Resolved::Missing(format!(
                    "the report holds no {} (collector hardware section)",
                    c.property
                )),
            }
        }
        "enrollmentprofilename" => match &d.enrollment_profile_name {
            Some(n) => Resolved::Values(vec![n.clone()]),
            None => Resolved::Missing(
                "the report holds no single Autopilot profile name (DeploymentProfileName)".into(),
            ),
        },
        "deviceownership" => Resolved::Missing(
            "the ownership Intune gives the device at enrollment is not in the device report"
                .into(),
        ),
        "cpuarchitecture" => Resolved::Undefined(
            "cpuArchitecture: enrollment scenarios don't support it (memdocs intune/intune-service/fundamentals/filters-device-properties.md)"
                .into(),
        ),
        "operatingsystemversion" => Resolved::Undefined(format!(
            "operatingSystemVersion (preview) {UNSUPPORTED_AT_ENROLLMENT}; osVersion is"
        )),
        _ => Resolved::Undefined(format!("{} {UNSUPPORTED_AT_ENROLLMENT}", c.property)),
    }
}

/// Three-valued truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tri {
    T,
    F,
    U,
}

impl Tri {
    fn of(b: bool) -> Tri {
        if b { Tri::T } else { Tri::F }
    }
}

/// One string comparison, case-insensitive (the documentation: "The properties, operations,
/// and values are case insensitive"). `None` when the operator or value is not one that is
/// documented for a string property.
fn compare(op: Op, value: &Value, actual: &str) -> Option<bool> {
    let a = actual.to_lowercase();
    let s = |v: &str| v.to_lowercase();
    Some(match (op, value) {
        (Op::Eq, Value::Str(v)) => a == s(v),
        (Op::Ne, Value::Str(v)) => a != s(v),
        // A known value is not null.
        (Op::Eq, Value::Null) => false,
        (Op::Ne, Value::Null) => true,
        (Op::StartsWith, Value::Str(v)) => a.starts_with(&s(v)),
        (Op::Contains, Value::Str(v)) => a.contains(&s(v)),
        (Op::NotContains, Value::Str(v)) => !a.contains(&s(v)),
        (Op::In, Value::List(l)) => l.iter().any(|v| a == s(v)),
        (Op::NotIn, Value::List(l)) => !l.iter().any(|v| a == s(v)),
        _ => return None,
    })
}

struct Eval<'a> {
    device: &'a FilterDevice,
    missing: Vec<String>,
    undefined: Vec<String>,
    facts: Vec<String>,
}

fn push_once(list: &mut Vec<String>, s: String) {
    if !list.contains(&s) {
        list.push(s);
    }
}

impl Eval<'_> {
    fn expr(&mut self, e: &Expr) -> Tri {
        match e {
            Expr::And(items) => {
                let r: Vec<Tri> = items.iter().map(|x| self.expr(x)).collect();
                if r.contains(&Tri::F) {
                    Tri::F
                } else if r.contains(&Tri::U) {
                    Tri::U
                } else {
                    Tri::T
                }
            }
            Expr::Or(items) => {
                let r: Vec<Tri> = items.iter().map(|x| self.expr(x)).collect();
                if r.contains(&Tri::T) {
                    Tri::T
                } else if r.contains(&Tri::U) {
                    Tri::U
                } else {
                    Tri::F
                }
            }
            Expr::Cmp(c) => self.cmp(c),
        }
    }

    fn cmp(&mut self, c: &Comparison) -> Tri {
        let shown = format!("{}.{} {} {}", c.entity, c.property, c.op, c.value);
        if !c.op.documented() {
            push_once(
                &mut self.undefined,
                format!(
                    "the operator {} is not documented for Intune filters ({shown})",
                    c.op
                ),
            );
            return Tri::U;
        }
        match resolve(c, self.device) {
            Resolved::Undefined(why) => {
                push_once(&mut self.undefined, why);
                Tri::U
            }
            Resolved::Missing(why) => {
                push_once(&mut self.missing, format!("{}: {why}", c.property));
                Tri::U
            }
            Resolved::Values(forms) => {
                let results: Vec<Option<bool>> =
                    forms.iter().map(|f| compare(c.op, &c.value, f)).collect();
                let Some(first) = results.first().copied().flatten() else {
                    push_once(
                        &mut self.undefined,
                        format!(
                            "{shown}: the operator or value is not one the documentation gives for {}",
                            c.property
                        ),
                    );
                    return Tri::U;
                };
                if results.iter().any(|r| r.is_none()) {
                    push_once(
                        &mut self.undefined,
                        format!(
                            "{shown}: the operator or value is not one the documentation gives for {}",
                            c.property
                        ),
                    );
                    return Tri::U;
                }
                let values = forms
                    .iter()
                    .map(|f| format!("\"{f}\""))
                    .collect::<Vec<_>>()
                    .join(" or ");
                if results.iter().all(|r| *r == Some(first)) {
                    push_once(&mut self.facts, format!("{} is {values}", c.property));
                    Tri::of(first)
                } else {
                    push_once(
                        &mut self.missing,
                        format!(
                            "{shown}: the device's {} is {values} at enrollment (the exact form Intune sees is not documented), and the forms answer differently",
                            c.property
                        ),
                    );
                    Tri::U
                }
            }
        }
    }
}

/// Evaluates a parsed rule for a Windows device at enrollment.
pub fn evaluate(rule: &Expr, device: &FilterDevice) -> Evaluation {
    let mut ev = Eval {
        device,
        missing: Vec::new(),
        undefined: Vec::new(),
        facts: Vec::new(),
    };
    let r = ev.expr(rule);
    let outcome = if !ev.undefined.is_empty() {
        FilterOutcome::Unknown(ev.undefined.join("; "))
    } else {
        match r {
            Tri::T => FilterOutcome::Match,
            Tri::F => FilterOutcome::NoMatch,
            Tri::U => FilterOutcome::Unknown(ev.missing.join("; ")),
        }
    };
    Evaluation {
        outcome,
        facts: ev.facts,
    }
}

/// Parses and evaluates a rule; a rule that cannot be read is undecided, naming why.
pub fn evaluate_rule(rule: &str, device: &FilterDevice) -> Evaluation {
    match parse(rule) {
        Ok(e) => evaluate(&e, device),
        Err(e) => Evaluation {
            outcome: FilterOutcome::Unknown(format!("the rule could not be read: {e}")),
            facts: Vec::new(),
        },
    }
}
