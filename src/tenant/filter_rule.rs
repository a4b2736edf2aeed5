//! Intune assignment filter rules: the parser and a three-valued evaluator against what a device
//! report says.
//!
//! The grammar is the one Microsoft documents for the rule syntax editor (MicrosoftDocs/memdocs
//! `intune/intune-service/fundamentals/filters-device-properties.md`, "Advanced rule editing"):
//! `(device.property -operator value)` comparisons joined by `and` / `or` (with or without a
//! leading `-`), parentheses nested at will, properties, operators and values case
//! insensitive, strings in double quotes, arrays as `["a", "b"]`, and `Null` / `$Null` as a
//! value. The documented operators are `-eq`, `-ne`, `-startsWith`, `-in`, `-notIn`,
//! `-contains`, `-notContains`, and for `operatingSystemVersion` also `-gt`, `-ge`, `-lt`,
//! `-le` on an unquoted version. `-notStartsWith`, `-endsWith`, `-notEndsWith`, `-match` and
//! `-notMatch` (Entra dynamic-group operators) are read but not documented for filters, so a
//! rule that uses one is never decided. A comparison mixing `and` and `or` at one level without
//! parentheses is refused: the documentation gives no precedence between them.
//!
//! Evaluation is for **enrollment restrictions on Windows**: the device is not enrolled yet, so
//! Intune evaluates only a subset of properties (memdocs
//! `intune/intune-service/enrollment/create-device-platform-restrictions.md`, "Supported filter
//! properties"): manufacturer and model (from Windows 11 22H2 with KB5035942, OS builds
//! 22621.3374 and 22631.3374), OS version, operating system SKU, ownership and enrollment
//! profile name; `filters-supported-workloads.md` names `osVersion`, `operatingSystemSKU` and
//! `enrollmentProfileName`. Each comparison is true, false or unknown: unknown when the report
//! does not hold the value (Kleene logic then still decides `false and x` and `true or x`), and
//! the whole rule is undecided when it names a property or operator Intune does not evaluate at
//! enrollment, because what Intune then does is not documented. Nothing here panics on any
//! input.

use std::fmt;

use thiserror::Error;

use crate::device::autopilot::ProfileSource;
use crate::device::report::DeviceReport;

/// Longest rule read (Intune allows 3,072 characters per filter; `filters.md`, "Restrictions").
pub const MAX_RULE_CHARS: usize = 16_384;
/// Deepest nesting of parentheses read.
pub const MAX_DEPTH: usize = 32;

/// A parsed rule: comparisons under `and` / `or`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Cmp(Comparison),
}

/// `device.manufacturer -eq "Dell Inc."`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// `device` (or `app` on a managed-app filter), as written.
    pub entity: String,
    /// `manufacturer`, as written.
    pub property: String,
    pub op: Op,
    pub value: Value,
    /// 1-based character position of the property in the rule.
    pub at: usize,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    StartsWith,
    NotStartsWith,
    EndsWith,
    NotEndsWith,
    Contains,
    NotContains,
    In,
    NotIn,
    Match,
    NotMatch,
    Gt,
    Ge,
    Lt,
    Le,
}

const OPERATORS: &[(&str, Op)] = &[
    ("eq", Op::Eq),
    ("ne", Op::Ne),
    ("startswith", Op::StartsWith),
    ("notstartswith", Op::NotStartsWith),
    ("endswith", Op::EndsWith),
    ("notendswith", Op::NotEndsWith),
    ("contains", Op::Contains),
    ("notcontains", Op::NotContains),
    ("in", Op::In),
    ("notin", Op::NotIn),
    ("match", Op::Match),
    ("notmatch", Op::NotMatch),
    ("gt", Op::Gt),
    ("ge", Op::Ge),
    ("lt", Op::Lt),
    ("le", Op::Le),
];

impl Op {
    /// `-startsWith`, as the documentation writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "-eq",
            Op::Ne => "-ne",
            Op::StartsWith => "-startsWith",
            Op::NotStartsWith => "-notStartsWith",
            Op::EndsWith => "-endsWith",
            Op::NotEndsWith => "-notEndsWith",
            Op::Contains => "-contains",
            Op::NotContains => "-notContains",
            Op::In => "-in",
            Op::NotIn => "-notIn",
            Op::Match => "-match",
            Op::NotMatch => "-notMatch",
            Op::Gt => "-gt",
            Op::Ge => "-ge",
            Op::Lt => "-lt",
            Op::Le => "-le",
        }
    }

    /// Documented for Intune filters (on some property).
    pub fn documented(self) -> bool {
        !matches!(
            self,
            Op::NotStartsWith | Op::EndsWith | Op::NotEndsWith | Op::Match | Op::NotMatch
        )
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `"Dell Inc."` (quotes removed).
    Str(String),
    /// `["Enterprise", "Education"]`.
    List(Vec<String>),
    /// `Null` or `$Null`.
    Null,
    /// An unquoted token: `10.0.22000.1000`, `True`.
    Bare(String),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => write!(f, "\"{s}\""),
            Value::List(l) => {
                f.write_str("[")?;
                for (i, s) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "\"{s}\"")?;
                }
                f.write_str("]")
            }
            Value::Null => f.write_str("$null"),
            Value::Bare(s) => f.write_str(s),
        }
    }
}

/// Why a rule could not be read, and where (1-based character position).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{kind} at character {position}")]
pub struct RuleError {
    pub kind: RuleErrorKind,
    pub position: usize,
}

/// What is wrong with a rule.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RuleErrorKind {
    #[error("the rule is empty")]
    Empty,
    #[error("the rule is longer than {MAX_RULE_CHARS} characters")]
    TooLong,
    #[error("parentheses nested deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("a string is not closed")]
    UnterminatedString,
    #[error("expected a property such as device.manufacturer, found {0}")]
    ExpectedProperty(String),
    #[error("expected an operator such as -eq, found {0}")]
    ExpectedOperator(String),
    #[error("unknown operator {0}")]
    UnknownOperator(String),
    #[error("expected a value, found {0}")]
    ExpectedValue(String),
    #[error("expected a string in the list, found {0}")]
    ExpectedListItem(String),
    #[error("expected `)`, found {0}")]
    ExpectedClose(String),
    #[error("expected `and` or `or`, found {0}")]
    ExpectedJoin(String),
    #[error(
        "`and` and `or` are mixed without parentheses (the filter documentation gives no precedence between them)"
    )]
    MixedAndOr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Str(String),
    Word(String),
}

impl Tok {
    fn show(&self) -> String {
        match self {
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::LBracket => "`[`".into(),
            Tok::RBracket => "`]`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Str(s) => format!("\"{s}\""),
            Tok::Word(w) => format!("`{w}`"),
        }
    }
}

/// Tokens with their 1-based character positions.
fn tokenize(rule: &str) -> Result<Vec<(Tok, usize)>, RuleError> {
    let mut out = Vec::new();
    let mut chars = rule.chars().enumerate().peekable();
    while let Some((i, c)) = chars.next() {
        let pos = i + 1;
        let tok = match c {
            c if c.is_whitespace() => continue,
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '[' => Tok::LBracket,
            ']' => Tok::RBracket,
            ',' => Tok::Comma,
            '"' => {
                let mut s = String::new();
                let mut closed = false;
                for (_, c) in chars.by_ref() {
                    if c == '"' {
                        closed = true;
                        break;
                    }
                    s.push(c);
                }
                if !closed {
                    return Err(RuleError {
                        kind: RuleErrorKind::UnterminatedString,
                        position: pos,
                    });
                }
                Tok::Str(s)
            }
            c => {
                let mut w = String::from(c);
                while let Some(&(_, n)) = chars.peek() {
                    if n.is_whitespace() || matches!(n, '(' | ')' | '[' | ']' | ',' | '"') {
                        break;
                    }
                    w.push(n);
                    chars.next();
                }
                Tok::Word(w)
            }
        };
        out.push((tok, pos));
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    i: usize,
    end: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Join {
    And,
    Or,
}

fn join_of(t: &Tok) -> Option<Join> {
    let Tok::Word(w) = t else { return None };
    let w = w.strip_prefix('-').unwrap_or(w);
    if w.eq_ignore_ascii_case("and") {
        Some(Join::And)
    } else if w.eq_ignore_ascii_case("or") {
        Some(Join::Or)
    } else {
        None
    }
}

fn is_ident(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

impl Parser {
    fn peek(&self) -> Option<&(Tok, usize)> {
        self.toks.get(self.i)
    }

    fn next(&mut self) -> Option<(Tok, usize)> {
        let t = self.toks.get(self.i).cloned();
        if t.is_some() {
            self.i += 1;
        }
        t
    }

    fn err(&self, kind: RuleErrorKind, position: usize) -> RuleError {
        RuleError { kind, position }
    }

    /// What is at the current token, for an error: its text and position (or the end).
    fn here(&self) -> (String, usize) {
        match self.peek() {
            Some((t, p)) => (t.show(), *p),
            None => ("the end of the rule".into(), self.end),
        }
    }

    /// A sequence of primaries joined by one kind of join.
    fn expr(&mut self, depth: usize) -> Result<Expr, RuleError> {
        let mut items = vec![self.primary(depth)?];
        let mut kind: Option<Join> = None;
        while let Some((t, p)) = self.peek() {
            let p = *p;
            let Some(j) = join_of(t) else { break };
            match kind {
                Some(k) if k != j => return Err(self.err(RuleErrorKind::MixedAndOr, p)),
                _ => kind = Some(j),
            }
            self.i += 1;
            items.push(self.primary(depth)?);
        }
        Ok(match (kind, items.len()) {
            (_, 1) => items.pop().unwrap_or(Expr::And(Vec::new())),
            (Some(Join::Or), _) => Expr::Or(items),
            _ => Expr::And(items),
        })
    }

    fn primary(&mut self, depth: usize) -> Result<Expr, RuleError> {
        match self.peek() {
            Some((Tok::LParen, p)) => {
                let p = *p;
                if depth >= MAX_DEPTH {
                    return Err(self.err(RuleErrorKind::TooDeep, p));
                }
                self.i += 1;
                let e = self.expr(depth + 1)?;
                match self.next() {
                    Some((Tok::RParen, _)) => Ok(e),
                    Some((t, p)) => Err(self.err(RuleErrorKind::ExpectedClose(t.show()), p)),
                    None => Err(self.err(
                        RuleErrorKind::ExpectedClose("the end of the rule".into()),
                        self.end,
                    )),
                }
            }
            _ => self.comparison().map(Expr::Cmp),
        }
    }

    fn comparison(&mut self) -> Result<Comparison, RuleError> {
        let (found, at) = self.here();
        let (entity, property) = match self.next() {
            Some((Tok::Word(w), _)) => match w.split_once('.') {
                Some((e, p)) if is_ident(e) && is_ident(p) => (e.to_string(), p.to_string()),
                _ => return Err(self.err(RuleErrorKind::ExpectedProperty(found), at)),
            },
            _ => return Err(self.err(RuleErrorKind::ExpectedProperty(found), at)),
        };
        let (found, op_at) = self.here();
        let op = match self.next() {
            Some((Tok::Word(w), _)) => {
                let name = w.strip_prefix('-').unwrap_or(&w);
                match OPERATORS.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
                    Some((_, op)) => *op,
                    None if w.starts_with('-') => {
                        return Err(self.err(RuleErrorKind::UnknownOperator(w.clone()), op_at));
                    }
                    None => return Err(self.err(RuleErrorKind::ExpectedOperator(found), op_at)),
                }
            }
            _ => return Err(self.err(RuleErrorKind::ExpectedOperator(found), op_at)),
        };
        let value = self.value()?;
        Ok(Comparison {
            entity,
            property,
            op,
            value,
            at,
        })
    }

    fn value(&mut self) -> Result<Value, RuleError> {
        let (found, at) = self.here();
        match self.next() {
            Some((Tok::Str(s), _)) => Ok(Value::Str(s)),
            Some((Tok::Word(w), _)) if join_of(&Tok::Word(w.clone())).is_some() => {
                Err(self.err(RuleErrorKind::ExpectedValue(found), at))
            }
            Some((Tok::Word(w), _)) => {
                if w.eq_ignore_ascii_case("null") || w.eq_ignore_ascii_case("$null") {
                    Ok(Value::Null)
                } else {
                    Ok(Value::Bare(w))
                }
            }
            Some((Tok::LBracket, _)) => {
                let mut items = Vec::new();
                if let Some((Tok::RBracket, _)) = self.peek() {
                    self.i += 1;
                    return Ok(Value::List(items));
                }
                loop {
                    let (found, at) = self.here();
                    match self.next() {
                        Some((Tok::Str(s), _)) => items.push(s),
                        _ => return Err(self.err(RuleErrorKind::ExpectedListItem(found), at)),
                    }
                    let (found, at) = self.here();
                    match self.next() {
                        Some((Tok::Comma, _)) => {}
                        Some((Tok::RBracket, _)) => return Ok(Value::List(items)),
                        _ => return Err(self.err(RuleErrorKind::ExpectedListItem(found), at)),
                    }
                }
            }
            _ => Err(self.err(RuleErrorKind::ExpectedValue(found), at)),
        }
    }
}

/// Parses a filter rule.
pub fn parse(rule: &str) -> Result<Expr, RuleError> {
    let len = rule.chars().count();
    if len > MAX_RULE_CHARS {
        return Err(RuleError {
            kind: RuleErrorKind::TooLong,
            position: MAX_RULE_CHARS + 1,
        });
    }
    let toks = tokenize(rule)?;
    if toks.is_empty() {
        return Err(RuleError {
            kind: RuleErrorKind::Empty,
            position: 1,
        });
    }
    let mut p = Parser {
        toks,
        i: 0,
        end: len + 1,
    };
    let e = p.expr(0)?;
    if let Some((t, pos)) = p.peek() {
        return Err(RuleError {
            kind: RuleErrorKind::ExpectedJoin(t.show()),
            position: *pos,
        });
    }
    Ok(e)
}

// ---------------------------------------------------------------------------------------------
// Evaluation

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cmp(p: &str, op: Op, v: Value) -> Expr {
        Expr::Cmp(Comparison {
            entity: "device".into(),
            property: p.into(),
            op,
            value: v,
            at: 0,
        })
    }

    /// The tree without positions.
    fn strip(e: Expr) -> Expr {
        match e {
            Expr::And(v) => Expr::And(v.into_iter().map(strip).collect()),
            Expr::Or(v) => Expr::Or(v.into_iter().map(strip).collect()),
            Expr::Cmp(c) => Expr::Cmp(Comparison { at: 0, ..c }),
        }
    }

    fn p(rule: &str) -> Expr {
        parse(rule)
            .map(strip)
            .unwrap_or_else(|e| panic!("{rule}: {e}"))
    }

    fn err(rule: &str) -> RuleError {
        match parse(rule) {
            Ok(e) => panic!("{rule} parsed: {e:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn documented_examples_parse() {
        assert_eq!(
            p(
                r#"(device.osVersion -startsWith "10.0.22") and (device.manufacturer -eq "Dell Inc.")"#
            ),
            Expr::And(vec![
                cmp("osVersion", Op::StartsWith, Value::Str("10.0.22".into())),
                cmp("manufacturer", Op::Eq, Value::Str("Dell Inc.".into())),
            ])
        );
        assert_eq!(
            p(r#"device.operatingSystemSKU -in ["Enterprise","Education"]"#),
            cmp(
                "operatingSystemSKU",
                Op::In,
                Value::List(vec!["Enterprise".into(), "Education".into()])
            )
        );
        // Operators and joins with or without the dash, in any case; null; bare versions.
        assert_eq!(
            p(
                r#"(device.model NOTCONTAINS "Virtual") -OR (device.enrollmentProfileName -ne $Null)"#
            ),
            Expr::Or(vec![
                cmp("model", Op::NotContains, Value::Str("Virtual".into())),
                cmp("enrollmentProfileName", Op::Ne, Value::Null),
            ])
        );
        assert_eq!(
            p("(device.operatingSystemVersion -ge 10.0.22000.1000)"),
            cmp(
                "operatingSystemVersion",
                Op::Ge,
                Value::Bare("10.0.22000.1000".into())
            )
        );
        // Nested parentheses and multi-line rules.
        assert_eq!(
            p(
                "((device.manufacturer -eq \"HP\")\n  or (device.manufacturer -eq \"Dell Inc.\"))\nand (device.osVersion -startsWith \"10.0.2\")"
            ),
            Expr::And(vec![
                Expr::Or(vec![
                    cmp("manufacturer", Op::Eq, Value::Str("HP".into())),
                    cmp("manufacturer", Op::Eq, Value::Str("Dell Inc.".into())),
                ]),
                cmp("osVersion", Op::StartsWith, Value::Str("10.0.2".into())),
            ])
        );
        assert_eq!(
            p(r#"device.deviceName -in []"#),
            cmp("deviceName", Op::In, Value::List(vec![]))
        );
    }

    #[test]
    fn errors_name_what_and_where() {
        let e = err(r#"(device.manufacturer -eq "Dell"#);
        assert_eq!(e.kind, RuleErrorKind::UnterminatedString);
        assert_eq!(e.position, 26);
        assert_eq!(e.to_string(), "a string is not closed at character 26");
        let e = err(r#"(device.manufacturer -like "x")"#);
        assert_eq!(
            (e.kind, e.position),
            (RuleErrorKind::UnknownOperator("-like".into()), 22)
        );
        let e = err(
            r#"(device.manufacturer -eq "a") and (device.model -eq "b") or (device.model -eq "c")"#,
        );
        assert_eq!((e.kind, e.position), (RuleErrorKind::MixedAndOr, 58));
        assert_eq!(err("").kind, RuleErrorKind::Empty);
        assert_eq!(err("   \n").kind, RuleErrorKind::Empty);
        assert!(matches!(
            err(r#"(device.model -eq "a""#).kind,
            RuleErrorKind::ExpectedClose(_)
        ));
        assert!(matches!(
            err(r#"manufacturer -eq "a""#).kind,
            RuleErrorKind::ExpectedProperty(_)
        ));
        assert!(matches!(
            err(r#"device.model -in ["a" "b"]"#).kind,
            RuleErrorKind::ExpectedListItem(_)
        ));
        assert!(matches!(
            err(r#"device.model -eq"#).kind,
            RuleErrorKind::ExpectedValue(_)
        ));
        assert!(matches!(
            err(r#"device.model -eq "a" (device.model -eq "b")"#).kind,
            RuleErrorKind::ExpectedJoin(_)
        ));
        let deep = format!(
            "{}device.model -eq \"a\"{}",
            "(".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        assert_eq!(err(&deep).kind, RuleErrorKind::TooDeep);
        assert_eq!(
            err(&"x".repeat(MAX_RULE_CHARS + 1)).kind,
            RuleErrorKind::TooLong
        );
        // Positions count characters, not bytes.
        let e = err("(device.model -eq \"é\") ?");
        assert_eq!(e.position, 24);
    }

    fn dell_11_23h2() -> FilterDevice {
        FilterDevice {
            os_build: Some(22631),
            os_ubr: Some(4460),
            edition_id: Some("Enterprise".into()),
            manufacturer: Some("Dell Inc.".into()),
            model: Some("Latitude 7440".into()),
            enrollment_profile_name: None,
        }
    }

    fn outcome(rule: &str, d: &FilterDevice) -> FilterOutcome {
        evaluate_rule(rule, d).outcome
    }

    #[test]
    fn decided_rules_match_or_not() {
        let d = dell_11_23h2();
        assert_eq!(
            outcome(
                r#"(device.osVersion -startsWith "10.0.22") and (device.manufacturer -eq "dell inc.")"#,
                &d
            ),
            FilterOutcome::Match
        );
        assert_eq!(
            outcome(
                r#"device.operatingSystemSKU -in ["Enterprise","Education"]"#,
                &d
            ),
            FilterOutcome::Match
        );
        assert_eq!(
            outcome(r#"device.operatingSystemSKU -eq "Core""#, &d),
            FilterOutcome::NoMatch
        );
        assert_eq!(
            outcome(
                r#"(device.model -contains "latitude") and (device.manufacturer -ne "HP")"#,
                &d
            ),
            FilterOutcome::Match
        );
        assert_eq!(
            outcome(r#"device.model -notContains "Latitude""#, &d),
            FilterOutcome::NoMatch
        );
        assert_eq!(
            outcome(r#"device.manufacturer -notIn ["HP", "Lenovo"]"#, &d),
            FilterOutcome::Match
        );
        assert_eq!(
            outcome(r#"device.manufacturer -ne $null"#, &d),
            FilterOutcome::Match
        );
        // The revision is not sent at enrollment: both forms agree here.
        assert_eq!(
            outcome(r#"device.osVersion -in ["10.0.22631", "10.0.22631.0"]"#, &d),
            FilterOutcome::Match
        );
        assert_eq!(
            outcome(r#"device.osVersion -startsWith "10.0.22631.4460""#, &d),
            FilterOutcome::NoMatch
        );
        // Facts used are named.
        let ev = evaluate_rule(r#"device.operatingSystemSKU -eq "Enterprise""#, &d);
        assert_eq!(
            ev.facts,
            vec!["operatingSystemSKU is \"Enterprise\"".to_string()]
        );
    }

    #[test]
    fn what_the_report_cannot_decide_is_unknown_naming_the_property() {
        let d = dell_11_23h2();
        // The exact form differs between "10.0.22631" and "10.0.22631.0".
        let FilterOutcome::Unknown(why) = outcome(r#"device.osVersion -eq "10.0.22631""#, &d)
        else {
            panic!("decided")
        };
        assert!(why.contains("osVersion"), "{why}");
        // Not evaluated at enrollment: the whole rule is undecided, even beside a false part.
        for (rule, named) in [
            (
                r#"(device.deviceName -startsWith "PC") and (device.operatingSystemSKU -eq "Core")"#,
                "deviceName",
            ),
            (r#"device.cpuArchitecture -eq "arm64""#, "cpuArchitecture"),
            (
                r#"device.operatingSystemVersion -ge 10.0.22000"#,
                "operatingSystemVersion",
            ),
            (r#"device.manufacturer -endsWith "Inc.""#, "-endsWith"),
            (r#"app.appVersion -eq "1""#, "app.appVersion"),
        ] {
            let FilterOutcome::Unknown(why) = outcome(rule, &d) else {
                panic!("{rule} decided")
            };
            assert!(why.contains(named), "{rule}: {why}");
        }
        // Manufacturer and model only from 22621.3374 / 22631.3374.
        let old = FilterDevice {
            os_build: Some(22631),
            os_ubr: Some(3000),
            ..dell_11_23h2()
        };
        let FilterOutcome::Unknown(why) = outcome(r#"device.manufacturer -eq "Dell Inc.""#, &old)
        else {
            panic!("decided")
        };
        assert!(
            why.contains("KB5035942") && why.contains("10.0.22631.3000"),
            "{why}"
        );
        let w10 = FilterDevice {
            os_build: Some(19045),
            ..dell_11_23h2()
        };
        assert!(matches!(
            outcome(r#"device.model -eq "x""#, &w10),
            FilterOutcome::Unknown(_)
        ));
        let w11_24h2 = FilterDevice {
            os_build: Some(26100),
            os_ubr: None,
            ..dell_11_23h2()
        };
        assert_eq!(
            outcome(r#"device.model -eq "Latitude 7440""#, &w11_24h2),
            FilterOutcome::Match
        );
        // A value the report lacks: Kleene logic still decides what it can.
        let bare = FilterDevice {
            edition_id: Some("Enterprise".into()),
            os_build: Some(26100),
            ..Default::default()
        };
        assert!(matches!(
            outcome(r#"device.manufacturer -eq "Dell Inc.""#, &bare),
            FilterOutcome::Unknown(why) if why.contains("manufacturer")
        ));
        assert_eq!(
            outcome(
                r#"(device.manufacturer -eq "Dell Inc.") and (device.operatingSystemSKU -eq "Core")"#,
                &bare
            ),
            FilterOutcome::NoMatch
        );
        assert_eq!(
            outcome(
                r#"(device.manufacturer -eq "Dell Inc.") or (device.operatingSystemSKU -eq "Enterprise")"#,
                &bare
            ),
            FilterOutcome::Match
        );
        assert!(matches!(
            outcome(r#"device.deviceOwnership -eq "Corporate""#, &bare),
            FilterOutcome::Unknown(why) if why.contains("deviceOwnership")
        ));
        assert!(matches!(
            outcome(r#"device.enrollmentProfileName -eq "Autopilot""#, &bare),
            FilterOutcome::Unknown(why) if why.contains("enrollmentProfileName")
        ));
        // An edition the documentation names ambiguously is not guessed.
        let n = FilterDevice {
            edition_id: Some("ProfessionalN".into()),
            ..bare.clone()
        };
        assert!(matches!(
            outcome(
                r#"device.operatingSystemSKU -startsWith "Professional""#,
                &n
            ),
            FilterOutcome::Unknown(_)
        ));
        // An operator that does not fit the value.
        assert!(matches!(
            outcome(r#"device.operatingSystemSKU -in "Enterprise""#, &bare),
            FilterOutcome::Unknown(_)
        ));
        assert!(matches!(
            outcome(r#"device.operatingSystemSKU -gt "Enterprise""#, &bare),
            FilterOutcome::Unknown(_)
        ));
        // A rule that cannot be read is undecided, with the parse error.
        assert!(matches!(
            outcome("(device.model -eq", &bare),
            FilterOutcome::Unknown(why) if why.contains("could not be read")
        ));
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_input(s in "\\PC{0,300}") {
            let _ = parse(&s);
            let _ = evaluate_rule(&s, &dell_11_23h2());
        }

        #[test]
        fn never_panics_on_rule_like_input(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("(".to_string()), Just(")".to_string()), Just("[".to_string()),
                    Just("]".to_string()), Just(",".to_string()), Just("\"".to_string()),
                    Just(" and ".to_string()), Just(" -or ".to_string()),
                    Just("device.manufacturer".to_string()), Just("device.osVersion".to_string()),
                    Just(" -eq ".to_string()), Just(" -in ".to_string()), Just(" -startsWith ".to_string()),
                    Just("\"Dell Inc.\"".to_string()), Just("$null".to_string()), Just("10.0.22631".to_string()),
                    "\\PC{0,4}",
                ],
                0..60,
            )
        ) {
            let s = parts.concat();
            let _ = parse(&s);
            let _ = evaluate_rule(&s, &dell_11_23h2());
        }
    }
}
