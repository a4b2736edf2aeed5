//! Turning raw bytes into text by looking at the bytes (BOMs, NUL patterns), not the file name.

/// Text decoded from a file, with line endings normalised to `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    /// `utf-16le-bom`, `utf-16be-bom`, `utf-16le`, `utf-16be`, `utf-8-bom`, `utf-8`, `windows-1252`.
    pub encoding: &'static str,
    /// Set when the file was cut short or damaged but decoded as far as possible.
    pub damaged: Option<String>,
}

/// Why bytes are not text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("empty file")]
    Empty,
    #[error("empty file: only NUL bytes ({0} of them), an unwritten or zeroed export")]
    OnlyPadding(usize),
    #[error("binary file: {0}")]
    Binary(String),
}

/// How many leading bytes the UTF-16-without-BOM heuristic looks at.
const SNIFF_WINDOW: usize = 512;

/// Decodes bytes by content: UTF-16LE/BE with or without BOM, UTF-8 with or without BOM, and
/// the ANSI code page (Windows-1252). Trailing NUL padding (some tools pad exports to a block
/// size) is dropped whatever the encoding, and CRLF and lone CR line ends become LF. Binary
/// data (NUL bytes inside 8-bit text, invalid UTF-8, NUL characters in UTF-16) is rejected.
pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    if let Some(hint) = known_binary(bytes) {
        return Err(DecodeError::Binary(hint.to_string()));
    }
    // The content without its NUL padding; UTF-16 keeps one NUL when the padding ate the high
    // (LE) or low (BE) byte of the last code unit.
    let content = &bytes[..bytes.len() - bytes.iter().rev().take_while(|&&b| b == 0).count()];
    if content.is_empty() {
        return Err(DecodeError::OnlyPadding(bytes.len()));
    }
    let wide = &bytes[..bytes.len().min(content.len() + content.len() % 2)];
    let (decoded, encoding, damaged) = if let Some(rest) = wide.strip_prefix(&[0xFF, 0xFE]) {
        let (t, d) = decode_utf16(rest, Endian::Little);
        (t, "utf-16le-bom", d)
    } else if let Some(rest) = wide.strip_prefix(&[0xFE, 0xFF]) {
        let (t, d) = decode_utf16(rest, Endian::Big);
        (t, "utf-16be-bom", d)
    } else if let Some(rest) = content.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        (decode_utf8(rest, 3)?, "utf-8-bom", None)
    } else if let Some(endian) = utf16_without_bom(wide) {
        let (t, d) = decode_utf16(wide, endian);
        let name = match endian {
            Endian::Little => "utf-16le",
            Endian::Big => "utf-16be",
        };
        (t, name, d)
    } else {
        match decode_utf8(content, 0) {
            Ok(t) => (t, "utf-8", None),
            // cmd.exe `>` and Event Viewer write the ANSI code page: text with a few bytes
            // above 0x7F that are not UTF-8. Binary data is still rejected.
            Err(_) if looks_like_ansi_text(content) => {
                (decode_windows_1252(content), "windows-1252", None)
            }
            Err(e) => return Err(e),
        }
    };
    // UTF-16 padding made of whole NUL characters is gone already; anything else NUL is not
    // text.
    let trimmed = decoded.trim_end_matches('\0');
    if let Some(pos) = trimmed.find('\0') {
        return Err(DecodeError::Binary(format!(
            "NUL character at character {} of {encoding} text",
            trimmed[..pos].chars().count()
        )));
    }
    let text = normalise_newlines(trimmed);
    Ok(Decoded {
        text,
        encoding,
        damaged,
    })
}

/// Binary formats users often hand over instead of a text export, with what to do instead.
fn known_binary(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"ElfFile\0") {
        Some(
            "a binary .evtx event log, not read here; export it as text on Windows: `wevtutil qe FILE.evtx /lf:true /f:xml > FILE.xml` (the live log: `wevtutil qe LOG /f:xml`), or use the collector",
        )
    } else if bytes.starts_with(b"MSCF") {
        Some("a .cab archive; extract it, or create a .zip instead")
    } else if bytes.starts_with(b"regf") {
        Some("a binary registry hive; use `reg export KEY FILE` instead")
    } else {
        None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endian {
    Little,
    Big,
}

/// UTF-16 text of mostly ASCII has a zero in every other byte; binary data does not.
fn utf16_without_bom(bytes: &[u8]) -> Option<Endian> {
    let window = &bytes[..bytes.len().min(SNIFF_WINDOW)];
    let pairs = window.len() / 2;
    if pairs < 2 {
        return None;
    }
    let (mut zero_even, mut zero_odd) = (0usize, 0usize);
    for pair in window.chunks_exact(2) {
        zero_even += usize::from(pair[0] == 0);
        zero_odd += usize::from(pair[1] == 0);
    }
    // Three quarters of one lane zero (mostly-ASCII text with a run of other characters, e.g.
    // a localised name, near the top), and the other lane almost never zero: 8-bit text has no
    // NUL bytes at all, so this cannot take text for UTF-16 that is not.
    let mostly = |n: usize| n * 4 >= pairs * 3;
    let rarely = |n: usize| n * 10 <= pairs;
    if mostly(zero_odd) && rarely(zero_even) {
        Some(Endian::Little)
    } else if mostly(zero_even) && rarely(zero_odd) {
        Some(Endian::Big)
    } else {
        None
    }
}

fn decode_utf16(bytes: &[u8], endian: Endian) -> (String, Option<String>) {
    let mut problems = Vec::new();
    if bytes.len() % 2 == 1 {
        problems.push(format!(
            "odd byte count ({} bytes after the BOM): the file was cut short; the last byte was dropped",
            bytes.len()
        ));
    }
    let units = bytes.chunks_exact(2).map(|p| match endian {
        Endian::Little => u16::from_le_bytes([p[0], p[1]]),
        Endian::Big => u16::from_be_bytes([p[0], p[1]]),
    });
    let mut out = String::with_capacity(bytes.len() / 2);
    let mut bad = 0usize;
    let mut first_bad = None;
    for (i, r) in char::decode_utf16(units).enumerate() {
        match r {
            Ok(c) => out.push(c),
            Err(_) => {
                bad += 1;
                first_bad.get_or_insert(i);
                out.push(char::REPLACEMENT_CHARACTER);
            }
        }
    }
    if let Some(at) = first_bad {
        problems.push(format!(
            "{bad} unpaired UTF-16 surrogate(s), first at character {at} (truncated or damaged); replaced with U+FFFD"
        ));
    }
    let damaged = (!problems.is_empty()).then(|| problems.join("; "));
    (out, damaged)
}

fn decode_utf8(bytes: &[u8], offset: usize) -> Result<String, DecodeError> {
    if let Some(pos) = bytes.iter().position(|&b| b == 0) {
        return Err(DecodeError::Binary(format!(
            "NUL byte at offset {}",
            pos + offset
        )));
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_owned()),
        Err(e) => {
            let at = e.valid_up_to();
            let byte = bytes.get(at).copied().unwrap_or(0);
            Err(DecodeError::Binary(format!(
                "not valid UTF-8 (byte 0x{byte:02x} at offset {}); save text as UTF-8 or UTF-16",
                at + offset
            )))
        }
    }
}

/// 8-bit text: no NUL, no control bytes other than tab, CR, LF, form feed and the DOS end-of-file
/// mark, and bytes above 0x7F a minority (accented letters in names, not the structure). No line
/// end is required: an event export can be one line of XML (found by the fuzzer), and binary
/// data has control bytes.
fn looks_like_ansi_text(bytes: &[u8]) -> bool {
    let controls = bytes
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1a))
        .count();
    let high = bytes.iter().filter(|&&b| b >= 0x80).count();
    controls == 0 && high * 10 <= bytes.len()
}

/// Windows-1252 (the Western ANSI code page; OEM code pages differ only in accented letters,
/// which no parser here relies on). Bytes it leaves undefined become U+FFFD.
fn decode_windows_1252(bytes: &[u8]) -> String {
    const HIGH: [char; 32] = [
        '€', '\u{fffd}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{fffd}', 'Ž',
        '\u{fffd}', '\u{fffd}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ',
        '\u{fffd}', 'ž', 'Ÿ',
    ];
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => HIGH[usize::from(b - 0x80)],
            _ => char::from(b),
        })
        .collect()
}

/// CRLF and lone CR become LF, so line numbers are the same whatever the source.
fn normalise_newlines(s: &str) -> String {
    if !s.contains('\r') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    out
}

/// Asserts that `run` is linear: the input of `4n` items takes at most 8× the time of the input
/// of `n`. Time is the thread's CPU time where the platform has it (time spent waiting for a
/// core on a loaded machine does not count), and the runs alternate, five of each, the best of
/// each counting. `n` is chosen by the caller so that one run takes some milliseconds in a
/// debug build.
#[cfg(test)]
pub(crate) fn assert_scales_linearly(
    what: &str,
    n: usize,
    make: impl Fn(usize) -> String,
    run: impl Fn(&str),
) {
    let time = |input: &str| {
        let start = cpu_time();
        run(input);
        cpu_time().saturating_sub(start)
    };
    let (small, big) = (make(n), make(4 * n));
    let (mut t_small, mut t_big) = (std::time::Duration::MAX, std::time::Duration::MAX);
    for _ in 0..5 {
        t_small = t_small.min(time(&small));
        t_big = t_big.min(time(&big));
    }
    assert!(
        t_big <= t_small * 8,
        "{what}: {} items took {} µs, {n} took {} µs: more than 8 times for 4 times the input",
        4 * n,
        t_big.as_micros(),
        t_small.as_micros()
    );
}

/// CPU time of the calling thread.
#[cfg(all(test, unix))]
fn cpu_time() -> std::time::Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    std::time::Duration::new(
        u64::try_from(ts.tv_sec).unwrap_or(0),
        u32::try_from(ts.tv_nsec).unwrap_or(0),
    )
}

/// Wall time since the first call, where there is no per-thread CPU clock.
#[cfg(all(test, not(unix)))]
fn cpu_time() -> std::time::Duration {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

#[cfg(test)]
pub(crate) fn utf16le_bom(s: &str) -> Vec<u8> {
    let mut v = vec![0xFF, 0xFE];
    for u in s.encode_utf16() {
        v.extend_from_slice(&u.to_le_bytes());
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn utf16le_bom_crlf() {
        let d = decode(&utf16le_bom("+--+\r\n| Device State |\r\nÉté\r\n")).unwrap();
        assert_eq!(d.encoding, "utf-16le-bom");
        assert_eq!(d.text, "+--+\n| Device State |\nÉté\n");
        assert!(d.damaged.is_none());
    }

    #[test]
    fn utf16be_bom() {
        let mut v = vec![0xFE, 0xFF];
        for u in "REGEDIT4\r\n".encode_utf16() {
            v.extend_from_slice(&u.to_be_bytes());
        }
        let d = decode(&v).unwrap();
        assert_eq!(d.encoding, "utf-16be-bom");
        assert_eq!(d.text, "REGEDIT4\n");
    }

    #[test]
    fn utf16le_without_bom_is_detected() {
        let bytes: Vec<u8> = "Windows Registry Editor Version 5.00\r\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let d = decode(&bytes).unwrap();
        assert_eq!(d.encoding, "utf-16le");
        assert_eq!(d.text, "Windows Registry Editor Version 5.00\n");
        // A run of non-Latin characters near the top (found by the fuzzer: 11% of the first
        // 256 characters) still reads as UTF-16.
        let text = format!(
            "Device Name : {}\n{}",
            "\u{6709}".repeat(30),
            "AzureAdJoined : YES\n".repeat(20)
        );
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(
            decode(&le).map(|d| (d.encoding, d.text)),
            Ok(("utf-16le", text.clone()))
        );
        assert_eq!(
            decode(&be).map(|d| (d.encoding, d.text)),
            Ok(("utf-16be", text))
        );
    }

    #[test]
    fn utf8_with_and_without_bom() {
        let d = decode(b"\xEF\xBB\xBFhello\r\nworld").unwrap();
        assert_eq!((d.encoding, d.text.as_str()), ("utf-8-bom", "hello\nworld"));
        let d = decode("caf\u{e9}\n".as_bytes()).unwrap();
        assert_eq!((d.encoding, d.text.as_str()), ("utf-8", "caf\u{e9}\n"));
    }

    #[test]
    fn truncated_utf16_is_decoded_and_flagged() {
        let mut v = utf16le_bom("AzureAdJoined : YES\r\n");
        v.push(b'D'); // half a code unit
        let d = decode(&v).unwrap();
        assert_eq!(d.text, "AzureAdJoined : YES\n");
        assert!(d.damaged.unwrap().contains("odd byte count"));

        let mut v = utf16le_bom("abc");
        v.extend_from_slice(&0xD83Du16.to_le_bytes()); // high surrogate without its pair
        let d = decode(&v).unwrap();
        assert_eq!(d.text, "abc\u{FFFD}");
        assert!(d.damaged.unwrap().contains("surrogate"));
    }

    #[test]
    fn ansi_text_falls_back_to_windows_1252() {
        let d = decode(b"Upn (j.schmidt@muster.de), Ger\xe4t \x80 \x81\r\nnext\r\n")
            .expect("ANSI text");
        assert_eq!(d.encoding, "windows-1252");
        assert_eq!(
            d.text,
            "Upn (j.schmidt@muster.de), Gerät € \u{fffd}\nnext\n"
        );
        assert!(d.damaged.is_none());
    }

    #[test]
    fn binary_is_rejected_with_reason() {
        // An ELF header: NULs inside the data, not only at the end.
        let e = decode(b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00")
            .unwrap_err();
        assert!(e.to_string().contains("NUL byte at offset 7"), "{e}");
        let e = decode(b"\xC3\x28\xff\xfe\x81\x82 \x90x\n").unwrap_err();
        assert!(e.to_string().contains("not valid UTF-8"), "{e}");
        let e = decode(b"abc\xC3\x28def\x01\n").unwrap_err();
        assert!(e.to_string().contains("not valid UTF-8"), "{e}");
        assert_eq!(decode(b"").unwrap_err(), DecodeError::Empty);
    }

    #[test]
    fn evtx_gets_a_helpful_reason() {
        let e = decode(b"ElfFile\0\x01\x00\x00\x00").unwrap_err();
        assert!(e.to_string().contains(".evtx"), "{e}");
    }

    #[test]
    fn trailing_nul_padding_is_tolerated() {
        let mut v = utf16le_bom("x\r\n");
        v.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(decode(&v).unwrap().text, "x\n");
    }

    #[test]
    fn nul_padding_is_dropped_in_every_encoding() {
        let text = "Gerät: WS-2231\r\nAzureAdJoined : YES\r\n";
        for pad in [1usize, 2, 3, 511, 4096] {
            let nuls = vec![0u8; pad];
            for bytes in [
                [text.as_bytes(), &nuls].concat(),
                [b"\xEF\xBB\xBF", text.as_bytes(), &nuls].concat(),
                [
                    b"Ger\xe4t: WS-2231\r\nAzureAdJoined : YES\r\n" as &[u8],
                    &nuls,
                ]
                .concat(),
                [utf16le_bom(text), nuls.clone()].concat(),
                [utf16le_bom(text)[2..].to_vec(), nuls.clone()].concat(),
                [
                    vec![0xFE, 0xFF],
                    text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
                    nuls.clone(),
                ]
                .concat(),
            ] {
                let d = decode(&bytes).unwrap_or_else(|e| panic!("pad {pad}: {e}"));
                assert_eq!(d.text, "Gerät: WS-2231\nAzureAdJoined : YES\n", "pad {pad}");
                assert!(d.damaged.is_none(), "pad {pad}: {:?}", d.damaged);
            }
        }
        // A NUL inside the text is still binary, and a file of NULs only says so.
        let e = decode(b"abc\0def\n\0\0").unwrap_err();
        assert!(e.to_string().contains("NUL byte at offset 3"), "{e}");
        let e = decode(&[0u8; 64]).unwrap_err();
        assert_eq!(e, DecodeError::OnlyPadding(64));
        assert!(
            e.to_string().starts_with("empty file: only NUL bytes (64"),
            "{e}"
        );
    }

    #[test]
    fn ansi_and_utf8_with_lone_cr_line_ends() {
        let d = decode(b"Ger\xe4t : WS-2231\rAzureAdJoined : YES\r").expect("CR-only ANSI");
        assert_eq!(d.encoding, "windows-1252");
        assert_eq!(d.text, "Gerät : WS-2231\nAzureAdJoined : YES\n");
        let d = decode("Gerät\rnext\r".as_bytes()).expect("CR-only UTF-8");
        assert_eq!((d.encoding, d.text.as_str()), ("utf-8", "Gerät\nnext\n"));
        // One line of ANSI XML, no line end at all (found by the fuzzer).
        let d = decode(b"<Event><Data>Gr\xfc\xdfe</Data></Event>").expect("one-line ANSI");
        assert_eq!(
            (d.encoding, d.text.as_str()),
            ("windows-1252", "<Event><Data>Grüße</Data></Event>")
        );
    }

    /// Every way Windows tools write the same text.
    fn encodings(text: &str, pad: usize) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        for (eol_name, eol) in [("lf", "\n"), ("crlf", "\r\n"), ("cr", "\r")] {
            let t = text.replace('\n', eol);
            let le: Vec<u8> = t.encode_utf16().flat_map(u16::to_le_bytes).collect();
            let be: Vec<u8> = t.encode_utf16().flat_map(u16::to_be_bytes).collect();
            let mut forms = vec![
                ("utf-8", t.as_bytes().to_vec()),
                ("utf-8-bom", [&[0xEF, 0xBB, 0xBF], t.as_bytes()].concat()),
                ("utf-16le-bom", [vec![0xFF, 0xFE], le.clone()].concat()),
                ("utf-16be-bom", [vec![0xFE, 0xFF], be.clone()].concat()),
                ("utf-16le", le),
                ("utf-16be", be),
            ];
            if let Some(ansi) = encode_windows_1252(&t) {
                forms.push(("windows-1252", ansi));
            }
            for (name, mut bytes) in forms {
                bytes.extend(std::iter::repeat_n(0u8, pad));
                out.push((format!("{name} {eol_name} +{pad} NUL"), bytes));
            }
        }
        out
    }

    /// The Windows-1252 bytes of `s`, when every character has one.
    pub(crate) fn encode_windows_1252(s: &str) -> Option<Vec<u8>> {
        s.chars()
            .map(|c| match u32::from(c) {
                n @ (0..=0x7F | 0xA0..=0xFF) => u8::try_from(n).ok(),
                _ => (0x80u8..=0x9F).find(|&b| decode_windows_1252(&[b]).starts_with(c)),
            })
            .collect()
    }

    #[test]
    fn decode_scales_linearly() {
        // ANSI text with lone CR line ends and NUL padding: every step of the decoder.
        let make = |n: usize| {
            let mut s = "Ger\u{e4}t : WS-2231\r".repeat(n);
            s.push_str(&"\0".repeat(n));
            s
        };
        let encode = |s: &str| encode_windows_1252(s).unwrap_or_default();
        assert_eq!(
            decode(&encode(&make(2))).unwrap().text,
            "Gerät : WS-2231\n".repeat(2)
        );
        assert_scales_linearly("decode", 20_000, make, |t| {
            assert_eq!(decode(&encode(t)).unwrap().encoding, "windows-1252");
        });
    }

    proptest! {
        #[test]
        fn every_encoding_decodes_to_the_same_text(
            lines in proptest::collection::vec("[ -~]{10,40}[äöüßéÉ€–]?", 1..12),
            pad in prop_oneof![Just(0usize), 1usize..5, Just(512)],
        ) {
            // Mostly ASCII with some accented letters, like real exports (the UTF-16-without-BOM
            // and the ANSI heuristics both rely on that).
            let text = format!("AzureAdJoined : YES\n{}\n", lines.join("\n"));
            for (form, bytes) in encodings(&text, pad) {
                let d = decode(&bytes).map_err(|e| TestCaseError::fail(format!("{form}: {e}")))?;
                prop_assert_eq!(&d.text, &text, "{}", form);
                prop_assert!(d.damaged.is_none(), "{}: {:?}", form, d.damaged);
            }
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = decode(&bytes);
        }
    }
}
