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

mod eval;
pub use eval::*;

#[cfg(test)]
mod tests;
