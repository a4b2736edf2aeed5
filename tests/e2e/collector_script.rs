//! The collector script itself (`src/device/collector.ps1`), checked with a real PowerShell
//! parser (the tree-sitter PowerShell grammar): it parses without an error node, and every
//! command, type literal, `New-Object` type and method call is in the Constrained Language
//! Mode allow-list kept as data in `tests/fixtures/collector/clm-allowlist.txt`.

use std::collections::{BTreeSet, HashMap};

use tree_sitter::{Node, Parser, Tree};

const SCRIPT: &str = include_str!("../../src/device/collector.ps1");
const ALLOWLIST: &str = include_str!("../fixtures/collector/clm-allowlist.txt");

/// Suffix of the functions allowed to use types outside the Constrained Language Mode list.
const FULL_ONLY_SUFFIX: &str = "FullLanguage";

struct Allow {
    sections: HashMap<String, BTreeSet<String>>,
}

impl Allow {
    fn load() -> Self {
        let mut sections: HashMap<String, BTreeSet<String>> = HashMap::new();
        let mut current = String::new();
        for line in ALLOWLIST.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']'))
                && !line.contains("[]")
            {
                current = name.to_string();
                continue;
            }
            sections
                .entry(current.clone())
                .or_default()
                .insert(line.to_ascii_lowercase());
        }
        Allow { sections }
    }

    fn has(&self, section: &str, item: &str) -> bool {
        self.sections
            .get(section)
            .is_some_and(|s| s.contains(&item.to_ascii_lowercase()))
    }

    /// A type literal's text is allowed in Constrained Language Mode (`T[]` when T is).
    fn clm_type(&self, ty: &str) -> bool {
        let t = ty.trim();
        let t = t.strip_prefix("System.").unwrap_or(t);
        self.has("clm-types", t)
            || self.has("clm-types", ty.trim())
            || t.strip_suffix("[]").is_some_and(|e| self.clm_type(e))
    }
}

fn parse(source: &str) -> Tree {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .expect("grammar loads");
    parser.parse(source, None).expect("parser returns a tree")
}

fn text<'a>(n: Node<'_>, src: &'a str) -> &'a str {
    &src[n.byte_range()]
}

fn line(n: Node<'_>) -> usize {
    n.start_position().row + 1
}

/// The name of the function a node sits in, if any.
fn enclosing_function<'a>(mut n: Node<'_>, src: &'a str) -> Option<&'a str> {
    while let Some(p) = n.parent() {
        if p.kind() == "function_statement" {
            let mut c = p.walk();
            return p
                .children(&mut c)
                .find(|x| x.kind() == "function_name")
                .map(|x| text(x, src));
        }
        n = p;
    }
    None
}

fn in_full_only_function(n: Node<'_>, src: &str) -> bool {
    enclosing_function(n, src).is_some_and(|f| f.ends_with(FULL_ONLY_SUFFIX))
}

/// True when an `if` whose condition tests `$IsFullLanguage` encloses the node's statement.
fn guarded_by_full_language(mut n: Node<'_>, src: &str) -> bool {
    while let Some(p) = n.parent() {
        if p.kind() == "if_statement"
            && let Some(cond) = p.child_by_field_name("condition")
            && text(cond, src).contains("$IsFullLanguage")
            && cond.id() != n.id()
        {
            return true;
        }
        n = p;
    }
    false
}

fn walk<'t>(n: Node<'t>, out: &mut Vec<Node<'t>>) {
    out.push(n);
    let mut c = n.walk();
    for child in n.children(&mut c) {
        walk(child, out);
    }
}

/// The command a `command` node runs: a cmdlet/function name, or the program file name of
/// `& "...\System32\tool.exe"`, or the variable of `& $Exe`.
fn command_name(cmd: Node<'_>, src: &str) -> Option<String> {
    let name = cmd.child_by_field_name("command_name")?;
    let raw = text(name, src).trim();
    if raw.starts_with('$') {
        return Some(raw.to_string());
    }
    let unquoted = raw.trim_matches(['"', '\'']);
    Some(
        unquoted
            .rsplit(['\\', '/'])
            .next()
            .unwrap_or(unquoted)
            .to_string(),
    )
}

/// Violations of the allow-list in `src`, one line each.
fn violations(src: &str, allow: &Allow) -> Vec<String> {
    let tree = parse(src);
    let mut nodes = Vec::new();
    walk(tree.root_node(), &mut nodes);
    let functions: BTreeSet<String> = nodes
        .iter()
        .filter(|n| n.kind() == "function_name")
        .map(|n| text(*n, src).to_ascii_lowercase())
        .collect();
    let mut bad = Vec::new();
    for n in &nodes {
        let n = *n;
        if n.is_error() || n.is_missing() {
            bad.push(format!(
                "line {}: parse error at '{}'",
                line(n),
                text(n, src).chars().take(40).collect::<String>()
            ));
        }
        let full_only = in_full_only_function(n, src);
        match n.kind() {
            "command" => {
                let Some(name) = command_name(n, src) else {
                    continue;
                };
                let lower = name.to_ascii_lowercase();
                if functions.contains(&lower) {
                    if name.ends_with(FULL_ONLY_SUFFIX) && !guarded_by_full_language(n, src) {
                        bad.push(format!(
                            "line {}: {name} called without an `if ($IsFullLanguage)` guard",
                            line(n)
                        ));
                    }
                } else if !allow.has("commands", &name) {
                    bad.push(format!(
                        "line {}: command '{name}' not in the allow-list",
                        line(n)
                    ));
                }
                if lower == "new-object"
                    && let Some(elements) = n.child_by_field_name("command_elements")
                {
                    let mut c = elements.walk();
                    let ty = elements
                        .children(&mut c)
                        .find(|e| e.kind() == "generic_token")
                        .map(|e| text(e, src).to_string())
                        .unwrap_or_default();
                    let ok =
                        allow.clm_type(&ty) || (full_only && allow.has("full-language-only", &ty));
                    if !ok {
                        bad.push(format!(
                            "line {}: New-Object {ty} is not an allowed type",
                            line(n)
                        ));
                    }
                }
                if lower == "add-type" || lower == "invoke-expression" {
                    bad.push(format!("line {}: {name} is not allowed", line(n)));
                }
            }
            "type_literal" => {
                let raw = text(n, src);
                let spec = raw.strip_prefix('[').unwrap_or(raw);
                let spec = spec.strip_suffix(']').unwrap_or(spec);
                let ok =
                    allow.clm_type(spec) || (full_only && allow.has("full-language-only", spec));
                if !ok {
                    bad.push(format!(
                        "line {}: type [{spec}] is not an allowed type",
                        line(n)
                    ));
                }
            }
            "invokation_expression" => {
                let mut c = n.walk();
                let children: Vec<Node<'_>> = n.children(&mut c).collect();
                let Some(method) = children
                    .iter()
                    .rev()
                    .find(|x| x.kind() == "member_name")
                    .map(|x| text(*x, src))
                else {
                    continue;
                };
                // `[T]::M()` on an allowed type T is checked through T's literal.
                let on_type = children.first().is_some_and(|x| x.kind() == "type_literal");
                if !on_type && !full_only && !allow.has("methods", method) {
                    bad.push(format!(
                        "line {}: method .{method}() is not in the allow-list",
                        line(n)
                    ));
                }
            }
            _ => {}
        }
    }
    bad
}

#[test]
fn collector_parses_as_powershell() {
    let tree = parse(SCRIPT);
    assert!(
        !tree.root_node().has_error(),
        "the collector has PowerShell syntax errors: {:?}",
        violations(SCRIPT, &Allow::load())
            .into_iter()
            .filter(|v| v.contains("parse error"))
            .collect::<Vec<_>>()
    );
    // The grammar really read the script: its functions are there.
    let mut nodes = Vec::new();
    walk(tree.root_node(), &mut nodes);
    let functions = nodes
        .iter()
        .filter(|n| n.kind() == "function_statement")
        .count();
    assert!(functions >= 15, "only {functions} functions found");
}

#[test]
fn collector_uses_only_constrained_language_calls() {
    let bad = violations(SCRIPT, &Allow::load());
    assert!(
        bad.is_empty(),
        "outside the CLM allow-list:\n{}",
        bad.join("\n")
    );
}

#[test]
fn allowlist_check_can_fail() {
    let allow = Allow::load();
    let old = r#"
$id = [Security.Principal.WindowsIdentity]::GetCurrent()
$tmp = Join-Path ([IO.Path]::GetTempPath()) 'x.reg'
[IO.File]::WriteAllText($tmp, 'x')
$notes = New-Object System.Collections.Generic.List[string]
Add-Type -TypeDefinition 'public class X {}'
$list.Add('x')
function Get-XFullLanguage { New-Object System.Net.Sockets.TcpClient }
Get-XFullLanguage
"#;
    let bad = violations(old, &allow);
    for needle in [
        "[Security.Principal.WindowsIdentity]",
        "[IO.Path]",
        "[IO.File]",
        "New-Object System.Collections.Generic.List[string]",
        "Add-Type is not allowed",
        ".Add()",
        "Get-XFullLanguage called without",
    ] {
        assert!(
            bad.iter().any(|b| b.contains(needle)),
            "{needle} not reported in {bad:?}"
        );
    }
    assert!(
        !violations("$x = [ordered]@{ a = [int]'1' }\n$x.a.ToString()\n", &allow)
            .iter()
            .any(|b| b.contains("type"))
    );
    assert!(
        violations("if ($a { }\n", &allow)
            .iter()
            .any(|b| b.contains("parse error"))
    );
}

#[test]
fn allowlist_types_are_the_documented_ones() {
    // Spot checks against about_Language_Modes: allowed, and famous non-allowed ones.
    let allow = Allow::load();
    for t in [
        "ordered",
        "pscustomobject",
        "datetime",
        "string[]",
        "byte[]",
        "uri",
        "X509Certificate",
    ] {
        assert!(allow.clm_type(t), "{t}");
    }
    for t in [
        "IO.File",
        "System.IO.Path",
        "System.Net.WebClient",
        "Environment",
        "math",
    ] {
        assert!(!allow.clm_type(t), "{t}");
    }
}
