//! The JUnit output checked against the vendored JUnit XSD (`tests/fixtures/junit/`, the
//! Jenkins xUnit plugin's `junit-10.xsd`) in two ways:
//!
//! - in Rust, always: the schema's element declarations are read from the XSD itself (which
//!   attributes each element may have and which it must, which elements it may hold, whether
//!   it may hold text), and the document is walked against them; this schema declares every
//!   element globally with no namespace, which is all this reader needs to understand;
//! - with `xmllint --schema` (libxml2's validator, a full XSD implementation), when it is
//!   installed; `.ci/run` installs it, and under CI (`CI` set) or with
//!   `ENROLL_DOCTOR_REQUIRE_XMLLINT` set a missing `xmllint` fails the test.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::Command;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

pub fn xsd_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/junit/junit-10.xsd")
}

/// What the schema says about one element.
#[derive(Default, Debug)]
pub struct Decl {
    attributes: BTreeSet<String>,
    required: BTreeSet<String>,
    children: BTreeSet<String>,
    text: bool,
}

/// The schema's global elements by name.
pub struct Schema {
    elements: BTreeMap<String, Decl>,
}

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.try_get_attribute(name).ok().flatten().and_then(|a| {
        a.normalized_value(XmlVersion::Implicit1_0)
            .ok()
            .map(|v| v.into_owned())
    })
}

impl Schema {
    /// Reads the element declarations of the vendored XSD.
    pub fn load() -> Schema {
        let text = std::fs::read_to_string(xsd_path()).unwrap_or_else(|e| panic!("XSD: {e}"));
        let mut reader = Reader::from_str(&text);
        let mut elements: BTreeMap<String, Decl> = BTreeMap::new();
        // Named complex types (their content is what an element of that type may hold).
        let mut types: BTreeMap<String, Decl> = BTreeMap::new();
        // The global element or named type being read, and how deep inside the schema.
        let mut current: Option<(bool, String)> = None;
        let mut depth = 0usize;
        loop {
            let ev = reader
                .read_event()
                .unwrap_or_else(|e| panic!("XSD does not parse: {e}"));
            let (e, empty) = match &ev {
                Event::Start(e) => (e.clone(), false),
                Event::Empty(e) => (e.clone(), true),
                Event::End(_) => {
                    depth -= 1;
                    if depth == 1 {
                        current = None;
                    }
                    continue;
                }
                Event::Eof => break,
                _ => continue,
            };
            let local = e.local_name().into_inner().to_string();
            if depth == 1 {
                let name = attr(&e, "name").unwrap_or_default();
                match local.as_str() {
                    "element" => {
                        let mut d = Decl::default();
                        // `type="xs:string"`: text only; a named type: filled in below.
                        if let Some(t) = attr(&e, "type") {
                            d.text = t == "xs:string";
                            if !d.text {
                                d.children.insert(format!("type:{t}"));
                            }
                        }
                        elements.insert(name.clone(), d);
                        current = Some((true, name));
                    }
                    "complexType" => {
                        let d = Decl {
                            text: attr(&e, "mixed").as_deref() == Some("true"),
                            ..Decl::default()
                        };
                        types.insert(name.clone(), d);
                        current = Some((false, name));
                    }
                    _ => current = None,
                }
            } else if let Some((is_element, name)) = &current {
                let d = if *is_element {
                    elements.get_mut(name)
                } else {
                    types.get_mut(name)
                };
                if let Some(d) = d {
                    match local.as_str() {
                        "complexType" if attr(&e, "mixed").as_deref() == Some("true") => {
                            d.text = true;
                        }
                        "attribute" => {
                            let a = attr(&e, "name").unwrap_or_default();
                            if attr(&e, "use").as_deref() == Some("required") {
                                d.required.insert(a.clone());
                            }
                            d.attributes.insert(a);
                        }
                        "element" => {
                            if let Some(r) = attr(&e, "ref").or_else(|| attr(&e, "name")) {
                                d.children.insert(r);
                            }
                        }
                        _ => {}
                    }
                }
            }
            if !empty {
                depth += 1;
            }
        }
        // An element of a named type takes the type's content.
        for d in elements.values_mut() {
            let named: Vec<String> = d
                .children
                .iter()
                .filter_map(|c| c.strip_prefix("type:").map(str::to_string))
                .collect();
            for t in named {
                d.children.remove(&format!("type:{t}"));
                let t = types
                    .get(&t)
                    .unwrap_or_else(|| panic!("type {t} not in the XSD"));
                d.attributes.extend(t.attributes.iter().cloned());
                d.required.extend(t.required.iter().cloned());
                d.children.extend(t.children.iter().cloned());
                d.text |= t.text;
            }
        }
        assert!(
            [
                "testsuites",
                "testsuite",
                "testcase",
                "failure",
                "error",
                "skipped"
            ]
            .iter()
            .all(|e| elements.contains_key(*e)),
            "the XSD lacks a JUnit element: {:?}",
            elements.keys().collect::<Vec<_>>()
        );
        Schema { elements }
    }

    /// Every way XML breaks the schema (empty when it is valid), the root `<testsuites>`.
    pub fn violations(&self, xml: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut reader = Reader::from_str(xml);
        let mut stack: Vec<String> = Vec::new();
        let mut roots = 0;
        loop {
            let ev = match reader.read_event() {
                Ok(ev) => ev,
                Err(e) => {
                    out.push(format!("not well-formed XML: {e}"));
                    break;
                }
            };
            let (e, empty) = match &ev {
                Event::Start(e) => (e.clone(), false),
                Event::Empty(e) => (e.clone(), true),
                Event::End(_) => {
                    stack.pop();
                    continue;
                }
                Event::Text(t) => {
                    let raw = t.clone().into_inner().into_owned();
                    if !raw.trim().is_empty() {
                        match stack.last() {
                            Some(p) if self.elements.get(p).is_some_and(|d| d.text) => {}
                            Some(p) => out.push(format!("text in <{p}>: {raw:.60}")),
                            None => out.push(format!("text outside the root: {raw:.60}")),
                        }
                    }
                    continue;
                }
                // `&lt;` and the like: text where text may be.
                Event::GeneralRef(_) => {
                    if !stack
                        .last()
                        .is_some_and(|p| self.elements.get(p).is_some_and(|d| d.text))
                    {
                        out.push(format!("a character reference in <{}>", stack.join("/")));
                    }
                    continue;
                }
                Event::CData(_) => {
                    if !stack
                        .last()
                        .is_some_and(|p| self.elements.get(p).is_some_and(|d| d.text))
                    {
                        out.push(format!("CDATA in <{}>", stack.join("/")));
                    }
                    continue;
                }
                Event::Eof => {
                    if let Some(open) = stack.last() {
                        out.push(format!("not well-formed XML: <{open}> is not closed"));
                    }
                    break;
                }
                Event::Decl(_) | Event::Comment(_) => continue,
                other => {
                    out.push(format!("unexpected XML: {other:?}"));
                    continue;
                }
            };
            let name = e.name().into_inner().to_string();
            match stack.last() {
                None => {
                    roots += 1;
                    if name != "testsuites" {
                        out.push(format!("root is <{name}>, not <testsuites>"));
                    }
                }
                Some(parent) => {
                    let ok = self
                        .elements
                        .get(parent)
                        .is_some_and(|d| d.children.contains(&name));
                    if !ok {
                        out.push(format!("<{name}> not allowed in <{parent}>"));
                    }
                }
            }
            match self.elements.get(&name) {
                None => out.push(format!("<{name}> is not a JUnit element")),
                Some(d) => {
                    let mut seen = BTreeSet::new();
                    for a in e.attributes() {
                        match a {
                            Ok(a) => {
                                let k = a.key.into_inner().to_string();
                                if !d.attributes.contains(&k) {
                                    out.push(format!("<{name}> has no attribute {k}"));
                                }
                                seen.insert(k);
                            }
                            Err(err) => out.push(format!("<{name}>: bad attribute: {err}")),
                        }
                    }
                    for r in d.required.difference(&seen) {
                        out.push(format!("<{name}> lacks the required {r}"));
                    }
                }
            }
            if !empty {
                stack.push(name);
            }
        }
        if roots != 1 {
            out.push(format!("{roots} root elements"));
        }
        out
    }
}

fn xmllint_required() -> bool {
    ["CI", "ENROLL_DOCTOR_REQUIRE_XMLLINT"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
}

/// `xmllint --schema` on XML: `Some(errors)` (empty when valid), `None` when xmllint is not
/// installed and not required.
pub fn xmllint(xml: &str) -> Option<Vec<String>> {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let file = dir.path().join("results.xml");
    let mut f = std::fs::File::create(&file).unwrap_or_else(|e| panic!("{e}"));
    f.write_all(xml.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    drop(f);
    let out = match Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(xsd_path())
        .arg(&file)
        .output()
    {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            assert!(
                !xmllint_required(),
                "xmllint is not installed (CI or ENROLL_DOCTOR_REQUIRE_XMLLINT requires it): \
                 `apt-get install -y libxml2-utils` (.ci/run does it)"
            );
            eprintln!(
                "!!!!!!!! xmllint is not installed: the JUnit XML was checked against the XSD \
                 by the Rust reader only (`.ci/run` installs libxml2-utils) !!!!!!!!"
            );
            return None;
        }
        Err(e) => panic!("cannot run xmllint: {e}"),
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        assert!(stderr.contains("validates"), "xmllint: {stderr}");
        return Some(Vec::new());
    }
    Some(
        stderr
            .lines()
            .filter(|l| !l.ends_with("fails to validate"))
            .map(str::to_string)
            .collect(),
    )
}

/// Valid against the XSD by both checks (the second when xmllint is there).
pub fn assert_valid(xml: &str) {
    let v = Schema::load().violations(xml);
    assert!(v.is_empty(), "not valid JUnit (XSD):\n{}", v.join("\n"));
    if let Some(errors) = xmllint(xml) {
        assert!(
            errors.is_empty(),
            "xmllint: not valid JUnit:\n{}",
            errors.join("\n")
        );
    }
}

#[test]
fn the_schema_reader_refuses_what_the_xsd_refuses() {
    let s = Schema::load();
    let ok = "<?xml version=\"1.0\"?>\n<testsuites name=\"x\" tests=\"1\">\
              <testsuite name=\"s\" tests=\"1\" failures=\"1\" errors=\"0\" skipped=\"0\">\
              <properties><property name=\"k\" value=\"v\"/></properties>\
              <testcase name=\"c\" classname=\"s\"><failure message=\"m\">text</failure>\
              <system-out>o</system-out></testcase></testsuite></testsuites>";
    assert_eq!(s.violations(ok), Vec::<String>::new());
    for (bad, why) in [
        (
            ok.replace(" failures=\"1\"", ""),
            "lacks the required failures",
        ),
        (
            ok.replace("<testsuites name", "<testsuites skipped=\"0\" name"),
            "no attribute skipped",
        ),
        (
            ok.replace("<system-out>o</system-out>", "<warning/>"),
            "<warning> not allowed",
        ),
        (
            ok.replace("<properties>", "text<properties>"),
            "text in <testsuite>",
        ),
        (ok.replace("</testsuites>", ""), "not well-formed"),
        (ok.replace("testsuites", "results"), "root is <results>"),
    ] {
        let v = s.violations(&bad);
        assert!(v.iter().any(|l| l.contains(why)), "{why}: {v:?}");
        if let Some(errors) = xmllint(&bad) {
            assert!(!errors.is_empty(), "xmllint took {bad}");
        }
    }
    if let Some(errors) = xmllint(ok) {
        assert!(errors.is_empty(), "{errors:?}");
    }
}
