//! Colour for the statuses of table output: `FAIL` and `ERROR` red, `WARN` yellow, `PASS`
//! green, `SKIP` dim. Only the table gets it (Markdown, JSON, CSV and the rest are read by
//! programs or pasted elsewhere), and only when [`enabled`] says so.
//!
//! The colour is laid over the finished text, line by line ([`paint_line`], [`Painter`]), after
//! every cell was escaped, measured and padded: the table is laid out exactly as without colour,
//! and a raw escape character from outside data can never reach the terminal (`text_safety`
//! shows it as `\u{1b}` before it is measured). A status is painted where it stands as a word of
//! its own in upper case (a table cell, `PASS → FAIL`), never inside a longer word.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::io::Write;

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColourChoice {
    /// Colour when stdout is a terminal, unless `NO_COLOR` says otherwise; `CLICOLOR_FORCE`
    /// colours a pipe too.
    #[default]
    Auto,
    Always,
    Never,
}

/// What [`enabled`] looks at besides `--color`: the environment and whether stdout is a
/// terminal.
#[derive(Debug, Clone, Copy, Default)]
pub struct ColourEnv<'a> {
    /// `NO_COLOR` (<https://no-color.org>): present and not empty turns colour off.
    pub no_color: Option<&'a OsStr>,
    /// `CLICOLOR_FORCE`: present, not empty and not `0` turns colour on even for a pipe.
    pub clicolor_force: Option<&'a OsStr>,
    /// `CLICOLOR=0` turns colour off for a terminal.
    pub clicolor: Option<&'a OsStr>,
    /// `TERM=dumb` turns colour off for a terminal.
    pub term: Option<&'a OsStr>,
    pub stdout_is_terminal: bool,
}

/// Whether table output is coloured. `--color always` and `never` win over everything; with
/// `auto`, `NO_COLOR` wins over `CLICOLOR_FORCE`, which wins over the terminal test (as
/// `anstream`, the colour layer of clap's own help, decides).
pub fn enabled(choice: ColourChoice, env: &ColourEnv<'_>) -> bool {
    let set = |v: Option<&OsStr>| v.is_some_and(|v| !v.is_empty());
    match choice {
        ColourChoice::Always => true,
        ColourChoice::Never => false,
        ColourChoice::Auto => {
            if set(env.no_color) {
                false
            } else if set(env.clicolor_force) && env.clicolor_force != Some(OsStr::new("0")) {
                true
            } else if env.clicolor == Some(OsStr::new("0")) || env.term == Some(OsStr::new("dumb"))
            {
                false
            } else {
                env.stdout_is_terminal
            }
        }
    }
}

/// The escape that starts a status's colour (SGR: 31 red, 33 yellow, 32 green, 2 dim).
fn style(word: &str) -> Option<&'static str> {
    match word {
        "FAIL" | "ERROR" => Some("\u{1b}[31m"),
        "WARN" => Some("\u{1b}[33m"),
        "PASS" => Some("\u{1b}[32m"),
        "SKIP" => Some("\u{1b}[2m"),
        _ => None,
    }
}

const RESET: &str = "\u{1b}[0m";

/// What may stand before a status: the start of the line, a space, a table border, `(`.
fn opens(c: Option<char>) -> bool {
    c.is_none_or(|c| c.is_whitespace() || matches!(c, '│' | '(' | '['))
}

/// What may stand after it: the end of the line, a space, a border, punctuation.
fn closes(c: Option<char>) -> bool {
    c.is_none_or(|c| c.is_whitespace() || matches!(c, '│' | ')' | ']' | ',' | ':' | ';'))
}

/// LINE with each status word coloured (unchanged, borrowed, when it has none).
pub fn paint_line(line: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut done = 0;
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_uppercase() {
            i += 1;
            continue;
        }
        let end = i + bytes[i..]
            .iter()
            .take_while(|b| b.is_ascii_uppercase())
            .count();
        let word = &line[i..end];
        let before = line[..i].chars().next_back();
        let after = line[end..].chars().next();
        if let Some(start) = style(word)
            && opens(before)
            && closes(after)
        {
            out.push_str(&line[done..i]);
            out.push_str(start);
            out.push_str(word);
            out.push_str(RESET);
            done = end;
        }
        i = end;
    }
    if done == 0 {
        return Cow::Borrowed(line);
    }
    out.push_str(&line[done..]);
    Cow::Owned(out)
}

/// A writer that colours the statuses of each complete line written through it (a line is
/// painted once it has its newline, so a status split across two writes is still found).
pub struct Painter<W: Write> {
    inner: W,
    line: Vec<u8>,
}

impl<W: Write> Painter<W> {
    pub fn new(inner: W) -> Painter<W> {
        Painter {
            inner,
            line: Vec::new(),
        }
    }

    fn emit(&mut self, upto: usize) -> std::io::Result<()> {
        let chunk: Vec<u8> = self.line.drain(..upto).collect();
        match std::str::from_utf8(&chunk) {
            Ok(text) => self.inner.write_all(paint_line(text).as_bytes()),
            // Not text: passed on as it is.
            Err(_) => self.inner.write_all(&chunk),
        }
    }
}

impl<W: Write> Write for Painter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.line.extend_from_slice(buf);
        while let Some(nl) = self.line.iter().position(|b| *b == b'\n') {
            self.emit(nl + 1)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.line.is_empty() {
            let n = self.line.len();
            self.emit(n)?;
        }
        self.inner.flush()
    }
}

impl<W: Write> Drop for Painter<W> {
    fn drop(&mut self) {
        // What is left of the last line; an error here has nowhere to go (flush reports it).
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(tty: bool) -> ColourEnv<'static> {
        ColourEnv {
            stdout_is_terminal: tty,
            ..Default::default()
        }
    }

    #[test]
    fn auto_colours_a_terminal_and_not_a_pipe() {
        assert!(enabled(ColourChoice::Auto, &env(true)));
        assert!(!enabled(ColourChoice::Auto, &env(false)));
    }

    #[test]
    fn always_and_never_win_over_the_environment() {
        let mut e = env(false);
        e.no_color = Some(OsStr::new("1"));
        assert!(enabled(ColourChoice::Always, &e));
        let mut e = env(true);
        e.clicolor_force = Some(OsStr::new("1"));
        assert!(!enabled(ColourChoice::Never, &e));
    }

    #[test]
    fn no_color_wins_over_auto_and_over_clicolor_force() {
        let mut e = env(true);
        e.no_color = Some(OsStr::new("1"));
        assert!(!enabled(ColourChoice::Auto, &e));
        e.clicolor_force = Some(OsStr::new("1"));
        assert!(!enabled(ColourChoice::Auto, &e));
        // An empty NO_COLOR is not set (no-color.org).
        e.no_color = Some(OsStr::new(""));
        assert!(enabled(ColourChoice::Auto, &e));
    }

    #[test]
    fn clicolor_force_colours_a_pipe_unless_it_is_zero() {
        let mut e = env(false);
        e.clicolor_force = Some(OsStr::new("1"));
        assert!(enabled(ColourChoice::Auto, &e));
        e.clicolor_force = Some(OsStr::new("0"));
        assert!(!enabled(ColourChoice::Auto, &e));
    }

    #[test]
    fn clicolor_zero_and_a_dumb_terminal_turn_auto_off() {
        let mut e = env(true);
        e.clicolor = Some(OsStr::new("0"));
        assert!(!enabled(ColourChoice::Auto, &e));
        let mut e = env(true);
        e.term = Some(OsStr::new("dumb"));
        assert!(!enabled(ColourChoice::Auto, &e));
    }

    #[test]
    fn statuses_are_painted_as_words_of_their_own() {
        assert_eq!(
            paint_line("│ FAIL   │ USR003 │"),
            "│ \u{1b}[31mFAIL\u{1b}[0m   │ USR003 │"
        );
        assert_eq!(
            paint_line("USR003 PASS → FAIL: x"),
            "USR003 \u{1b}[32mPASS\u{1b}[0m → \u{1b}[31mFAIL\u{1b}[0m: x"
        );
        assert_eq!(paint_line("│ WARN │"), "│ \u{1b}[33mWARN\u{1b}[0m │");
        assert_eq!(paint_line("│ SKIP │"), "│ \u{1b}[2mSKIP\u{1b}[0m │");
        assert_eq!(paint_line("│ ERROR │"), "│ \u{1b}[31mERROR\u{1b}[0m │");
        // Inside a longer word, in lower case, or alone: left as it is.
        for plain in [
            "FAILED",
            "ERROR_CODE",
            "fail",
            "PASSWORD",
            "xFAIL",
            "no status",
        ] {
            assert!(matches!(paint_line(plain), Cow::Borrowed(_)), "{plain}");
        }
    }

    #[test]
    fn painting_keeps_the_measured_width() {
        let line = "│ FAIL   │ 東京 │ PASS │";
        assert_eq!(
            crate::report::width::cols(&paint_line(line)),
            crate::report::width::cols(line)
        );
    }

    #[test]
    fn the_painter_finds_a_status_split_across_writes() {
        let mut out = Vec::new();
        {
            let mut p = Painter::new(&mut out);
            p.write_all(b"| FA").unwrap();
            p.write_all(b"IL |\nlast PASS").unwrap();
            p.flush().unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "| \u{1b}[31mFAIL\u{1b}[0m |\nlast \u{1b}[32mPASS\u{1b}[0m"
        );
    }
}
