//! Streaming XML for the device parsers (event exports, `MDMDiagReport.xml`): one pass over the
//! text with line numbers counted as it goes, memory bounded by the nesting depth instead of a
//! tree of the whole document. Well-formedness is checked as a tree parser would (matching end
//! tags, one reference per `&`, well-formed attributes, nothing left open); a DTD is refused, so
//! no entity is ever expanded.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};

/// What the walk reports, in document order.
pub(crate) enum Node<'a, 'b> {
    /// An element opens (an empty element opens and closes at once). `depth` is 1 for a
    /// top-level element; `line` is 1-based.
    Open {
        name: &'b str,
        depth: usize,
        line: usize,
        attributes: &'b [(&'a str, Cow<'a, str>)],
    },
    /// Character data (text, CDATA, a resolved reference) directly inside the innermost open
    /// element (or between top-level elements, at depth 0).
    Text(&'b str),
    /// A comment or processing instruction inside the innermost open element.
    Other,
    /// The innermost open element (at `depth`) closes.
    Close { depth: usize },
}

/// Walks `text` calling `on` for each node; `Err` names what makes it not well-formed XML.
pub(crate) fn walk(text: &str, mut on: impl FnMut(Node<'_, '_>)) -> Result<(), String> {
    let mut reader = Reader::from_str(text);
    let config = reader.config_mut();
    config.expand_empty_elements = true;
    config.check_end_names = true;
    let bytes = text.as_bytes();
    let (mut counted, mut line) = (0usize, 1usize);
    let mut depth = 0usize;
    loop {
        let start = usize::try_from(reader.buffer_position())
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        let event = reader.read_event().map_err(|e| {
            let at = usize::try_from(reader.error_position()).unwrap_or(0);
            let line = 1 + bytes[..at.min(bytes.len())]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            format!("not valid XML: {e} (line {line})")
        })?;
        match event {
            Event::Start(e) => {
                line += bytes[counted.min(start)..start]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count();
                counted = start;
                depth += 1;
                let attributes =
                    read_attributes(&e).map_err(|r| format!("not valid XML: {r} (line {line})"))?;
                on(Node::Open {
                    name: local_name(&e),
                    depth,
                    line,
                    attributes: &attributes,
                });
            }
            Event::End(_) => {
                on(Node::Close { depth });
                depth = depth.saturating_sub(1);
            }
            Event::Text(t) => on(Node::Text(&t.xml10_content())),
            Event::CData(t) => on(Node::Text(&t.xml10_content())),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => resolve_predefined_entity(&r)
                        .ok_or_else(|| {
                            format!("not valid XML: unknown entity &{};", truncate(&r, 40))
                        })?
                        .to_string(),
                    Err(e) => return Err(format!("not valid XML: {e}")),
                };
                on(Node::Text(&resolved));
            }
            Event::Comment(_) | Event::PI(_) => on(Node::Other),
            Event::Decl(_) => {}
            Event::DocType(_) => {
                return Err("not valid XML: a DTD is not accepted (no entity is expanded)".into());
            }
            Event::Eof => break,
            // `expand_empty_elements` turns every empty element into Start and End.
            Event::Empty(_) => {}
        }
    }
    if depth > 0 {
        return Err(format!(
            "not valid XML: {depth} element(s) not closed at the end of the text"
        ));
    }
    Ok(())
}

fn local_name<'b>(e: &'b BytesStart<'_>) -> &'b str {
    e.local_name().into_inner()
}

/// Every attribute of an element, checked (no duplicates, quoted values, known references).
fn read_attributes<'e>(e: &'e BytesStart<'_>) -> Result<Vec<(&'e str, Cow<'e, str>)>, String> {
    let mut out = Vec::new();
    for attr in e.attributes() {
        let attr = attr.map_err(|e| e.to_string())?;
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| e.to_string())?;
        out.push((attr.key.local_name().into_inner(), value));
    }
    Ok(out)
}

/// The value of the attribute with this local name.
pub(crate) fn attribute<'b>(attributes: &'b [(&str, Cow<'_, str>)], name: &str) -> Option<&'b str> {
    attributes
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.as_ref())
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(text: &str) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        walk(text, |n| {
            out.push(match n {
                Node::Open {
                    name,
                    depth,
                    line,
                    attributes,
                } => format!(
                    "<{name} d{depth} l{line}{}>",
                    attributes
                        .iter()
                        .map(|(k, v)| format!(" {k}={v}"))
                        .collect::<String>()
                ),
                Node::Text(t) => format!("'{t}'"),
                Node::Other => "other".to_string(),
                Node::Close { depth } => format!("</ d{depth}>"),
            })
        })?;
        Ok(out)
    }

    #[test]
    fn walks_elements_text_and_references() {
        let t = trace("<?xml version='1.0'?>\n<e:A xmlns:e='x' k='a&amp;b'>x&lt;<![CDATA[y]]>&#65;<!--c--><B/>\n</e:A>")
            .unwrap();
        assert_eq!(
            t,
            [
                "'\n'",
                "<A d1 l2 e=x k=a&b>",
                "'x'",
                "'<'",
                "'y'",
                "'A'",
                "other",
                "<B d2 l2>",
                "</ d2>",
                "'\n'",
                "</ d1>"
            ]
        );
    }

    #[test]
    fn refuses_what_is_not_well_formed() {
        for (bad, why) in [
            ("<a><b></a>", "not valid XML"),
            ("<a>", "not closed"),
            ("<a x='1' x='2'/>", "not valid XML"),
            ("<a>&ent;</a>", "unknown entity &ent;"),
            ("<!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>", "DTD"),
            ("</a>", "not valid XML"),
        ] {
            let e = trace(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
