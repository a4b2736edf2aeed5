//! Display width: how many terminal columns a text takes (a CJK character two, a combining mark
//! none), by the `unicode-width` tables that `tabled` measures with too. Every wrap, cut and pad
//! of the human formats goes through here, so a table border stays straight whatever the names
//! in it.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Columns `s` takes in a terminal.
pub fn cols(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// Splits `s` after as many characters as fit in `n` columns (at least one character, so a
/// caller that loops always advances).
pub fn split_at_cols(s: &str, n: usize) -> (&str, &str) {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        let w = UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > n && i > 0 {
            return s.split_at(i);
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
}
