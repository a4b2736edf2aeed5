//! Display width: how many terminal columns a text takes (a CJK character two, a combining mark
//! none), by the `unicode-width` tables that `tabled` measures with too. Every wrap, cut and pad
//! of the human formats goes through here, so a table border stays straight whatever the names
//! in it.
//!
//! A colour escape (`ESC [ … m`, what [`super::colour`] adds to a table's statuses) takes no
//! column: it is skipped when measuring and never split. Text from outside cannot smuggle one
//! in: `text_safety` shows its control characters as `\u{1b}` before anything is measured.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The length in bytes of the CSI escape sequence (`ESC [` parameters, final byte) at the start
/// of `s`, or 0 when `s` does not start with one.
fn escape_len(s: &str) -> usize {
    let b = s.as_bytes();
    if b.len() < 2 || b[0] != 0x1b || b[1] != b'[' {
        return 0;
    }
    match b[2..].iter().position(|c| (0x40..=0x7e).contains(c)) {
        Some(end) => end + 3,
        None => 0,
    }
}

/// The characters of `s` with their byte index and the columns each takes (0 for every
/// character of a colour escape).
fn measured(s: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut skip_until = 0;
    s.char_indices().map(move |(i, c)| {
        if i < skip_until {
            return (i, 0);
        }
        let esc = escape_len(&s[i..]);
        if esc > 0 {
            skip_until = i + esc;
            return (i, 0);
        }
        (i, UnicodeWidthChar::width(c).unwrap_or(0))
    })
}

/// Columns `s` takes in a terminal (colour escapes take none).
pub fn cols(s: &str) -> usize {
    if !s.contains('\u{1b}') {
        return UnicodeWidthStr::width(s);
    }
    let (mut total, mut rest) = (0, s);
    while let Some(at) = rest.find('\u{1b}') {
        total += UnicodeWidthStr::width(&rest[..at]);
        let esc = escape_len(&rest[at..]).max(1);
        rest = &rest[at + esc..];
    }
    total + UnicodeWidthStr::width(rest)
}

/// Splits `s` after as many characters as fit in `n` columns (at least one character, so a
/// caller that loops always advances). A colour escape is never cut.
pub fn split_at_cols(s: &str, n: usize) -> (&str, &str) {
    let mut used = 0;
    let mut seen_visible = false;
    for (i, w) in measured(s) {
        if w > 0 {
            if used + w > n && seen_visible {
                return s.split_at(i);
            }
            seen_visible = true;
        }
        used += w;
    }
    (s, "")
}

/// The byte index after the first `n` characters of `s` (or its length).
pub fn char_index(s: &str, n: usize) -> usize {
    s.char_indices().nth(n).map(|(i, _)| i).unwrap_or(s.len())
}

/// `s` cut to at most `room` columns, ending in `…` when cut.
pub fn truncate(s: &str, room: usize) -> String {
    if cols(s) <= room {
        return s.to_string();
    }
    let (head, _) = split_at_cols(s, room.saturating_sub(1));
    let mut t = head.trim_end().to_string();
    t.push('…');
    t
}

/// `s` padded with spaces to `width` columns (unchanged when already as wide).
pub fn pad(s: &str, width: usize) -> String {
    let mut t = s.to_string();
    t.extend(std::iter::repeat_n(' ', width.saturating_sub(cols(s))));
    t
}

/// Greedy word wrap to `width` columns (at least 20 after the prefix); every output line
/// starts with `prefix` and ends with a newline; a word longer than a line keeps its own line.
pub fn wrap_indented(text: &str, prefix: &str, width: usize) -> String {
    let width = width.saturating_sub(cols(prefix)).max(20);
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && cols(&line) + 1 + cols(word) > width {
            out.push_str(prefix);
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(prefix);
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_and_zero_width_characters_are_measured_as_a_terminal_shows_them() {
        assert_eq!(cols("PC0042"), 6);
        assert_eq!(cols("東京支社"), 8);
        assert_eq!(cols("e\u{301}"), 1);
        assert_eq!(split_at_cols("東京支社", 5), ("東京", "支社"));
        assert_eq!(split_at_cols("東", 1), ("東", ""));
        assert_eq!(truncate("東京支社の端末", 7), "東京支…");
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(pad("東京", 6), "東京  ");
        assert_eq!(char_index("aé東", 2), 3);
    }

    #[test]
    fn colour_escapes_take_no_column_and_are_never_cut() {
        let red = "\u{1b}[31mFAIL\u{1b}[0m";
        assert_eq!(cols(red), 4);
        assert_eq!(cols(&format!("│ {red} │")), 8);
        assert_eq!(pad(red, 6), format!("{red}  "));
        assert_eq!(split_at_cols(red, 2), ("\u{1b}[31mFA", "IL\u{1b}[0m"));
        assert_eq!(split_at_cols("\u{1b}[2mSKIP", 0), ("\u{1b}[2mS", "KIP"));
        // Not a complete escape: measured as the characters it is.
        assert_eq!(cols("\u{1b}[31"), 3);
        assert_eq!(cols("\u{1b}x"), 1);
    }
}
