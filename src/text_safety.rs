//! Text from outside the tool (a device file, a file name, a Graph or identity server) made
//! safe to show: control characters are written out as escapes, never passed to a terminal,
//! a table or Markdown, and never dropped silently.
//!
//! What is escaped ([`is_unsafe`]): the C0 controls U+0000–U+001F (ESC starts a terminal
//! escape or OSC sequence, BEL, CR overwrites a line, …), DEL U+007F, the C1 controls
//! U+0080–U+009F (U+009B is a one-character CSI), the bidirectional embeddings, overrides and
//! isolates U+202A–U+202E and U+2066–U+2069 (they reorder what a reader sees), and the line
//! and paragraph separators U+2028/U+2029. A newline is kept only in text that is a block of
//! lines ([`escape_text`]); a name, a location or a heading keeps everything on one line
//! ([`escape_line`]).
//!
//! The escaped form is Rust's: `\u{1b}` for ESC, `\u{7}` for BEL, `\u{a}` for a newline in a
//! one-line value, `\u{202e}` for a right-to-left override (lower-case hex, no padding). A
//! backslash is not escaped (registry paths stay readable), so a name that literally holds the
//! six characters `\u{1b}` reads the same as one that held an ESC; the JSON output keeps the
//! exact value.
//!
//! The checks and facts keep the raw data and the JSON keeps exact values: this is applied by
//! the renderers, at the point where a value becomes text for a reader.

use std::borrow::Cow;
use std::fmt;

/// Whether `c` is escaped before it is shown (see the module documentation).
pub fn is_unsafe(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// A one-line value (a name, a location, a code): every unsafe character escaped, a newline
/// included. Borrows when there is nothing to escape.
pub fn escape_line(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// A block of text (a summary, a fix, an explanation): as [`escape_line`], but a newline
/// stays a newline, and a CR before it (a Windows line end) is dropped with it.
pub fn escape_text(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

/// One-line values, each through [`escape_line`], joined by `sep` (which may be a newline).
pub fn escape_joined(values: &[String], sep: &str) -> String {
    values
        .iter()
        .map(|v| escape_line(v))
        .collect::<Vec<_>>()
        .join(sep)
}

/// [`escape_text`] of a whole rendered block, keeping the string when there is nothing to
/// escape: the last guard of a renderer, after its values were escaped one by one.
pub fn into_safe_text(s: String) -> String {
    match escape_text(&s) {
        Cow::Borrowed(_) => s,
        Cow::Owned(escaped) => escaped,
    }
}

/// [`escape_line`] as a `Display` value, for a `format!` that quotes outside text (an error
/// naming a file, a message naming a server's value).
pub fn shown(s: &str) -> Shown<'_> {
    Shown(s)
}

/// See [`shown`].
#[derive(Clone, Copy)]
pub struct Shown<'a>(&'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape_line(self.0))
    }
}

fn escape(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if keep_newlines && c == '\n' {
            out.push('\n');
        } else if keep_newlines && c == '\r' && chars.peek() == Some(&'\n') {
            // CRLF: the LF is kept on the next turn.
        } else if is_unsafe(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_controls_are_shown_escaped_not_dropped() {
        assert_eq!(escape_line("PC\u{1b}[2J1"), "PC\\u{1b}[2J1");
        assert_eq!(
            escape_line("\u{1b}]8;;http://x\u{7}link\u{1b}]8;;\u{7}"),
            "\\u{1b}]8;;http://x\\u{7}link\\u{1b}]8;;\\u{7}"
        );
        assert_eq!(escape_line("a\u{9b}31mb"), "a\\u{9b}31mb");
        assert_eq!(escape_line("a\u{7f}"), "a\\u{7f}");
        assert_eq!(escape_line("\u{202e}gpj.exe"), "\\u{202e}gpj.exe");
        assert_eq!(escape_line("x\u{2067}y\u{2069}"), "x\\u{2067}y\\u{2069}");
        assert_eq!(escape_line("a\u{2028}b"), "a\\u{2028}b");
        assert_eq!(escape_line("a\tb\0"), "a\\u{9}b\\u{0}");
    }

    #[test]
    fn a_line_escapes_newlines_a_block_keeps_them() {
        assert_eq!(escape_line("a\nb\r\nc"), "a\\u{a}b\\u{d}\\u{a}c");
        assert_eq!(escape_text("a\nb\r\nc\rd"), "a\nb\nc\\u{d}d");
        assert_eq!(escape_text("end\r"), "end\\u{d}");
    }

    #[test]
    fn clean_text_is_borrowed_and_escaping_twice_changes_nothing() {
        for s in ["PC-01", r"HKLM\SOFTWARE\Microsoft", "Zoë → ünïcode ✓", ""] {
            assert!(matches!(escape_line(s), Cow::Borrowed(_)), "{s}");
            assert!(matches!(escape_text(s), Cow::Borrowed(_)), "{s}");
        }
        let once = escape_text("\u{1b}[31mred\u{1b}[0m\r\nnext\u{85}");
        assert!(!once.chars().any(|c| c != '\n' && is_unsafe(c)), "{once}");
        assert_eq!(escape_text(&once), once);
        assert_eq!(escape_line(&escape_line("a\nb")), "a\\u{a}b");
    }

    #[test]
    fn shown_formats_the_escaped_line() {
        assert_eq!(
            format!("cannot read {}", shown("a\u{1b}[2Jb.txt")),
            "cannot read a\\u{1b}[2Jb.txt"
        );
    }
}
