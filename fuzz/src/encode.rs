//! Byte forms of one text: the encodings and line ends Windows tools write, and the NUL padding
//! some of them leave. enroll-doctor must reach the same verdict from every form.

/// An encoding a Windows tool writes text in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Utf16LeBom,
    Utf16BeBom,
    Utf16Le,
    Windows1252,
}

pub const ENCODINGS: [Encoding; 6] = [
    Encoding::Utf8,
    Encoding::Utf8Bom,
    Encoding::Utf16LeBom,
    Encoding::Utf16BeBom,
    Encoding::Utf16Le,
    Encoding::Windows1252,
];

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf8Bom => "utf-8-bom",
            Encoding::Utf16LeBom => "utf-16le-bom",
            Encoding::Utf16BeBom => "utf-16be-bom",
            Encoding::Utf16Le => "utf-16le",
            Encoding::Windows1252 => "windows-1252",
        }
    }
}

/// Line ends: `\n`, `\r\n` or a lone `\r`.
pub const LINE_ENDS: [&str; 3] = ["\n", "\r\n", "\r"];

/// The characters windows-1252 puts at 0x80–0x9F (None: unassigned).
const CP1252_HIGH: [Option<char>; 32] = [
    Some('\u{20AC}'),
    None,
    Some('\u{201A}'),
    Some('\u{0192}'),
    Some('\u{201E}'),
    Some('\u{2026}'),
    Some('\u{2020}'),
    Some('\u{2021}'),
    Some('\u{02C6}'),
    Some('\u{2030}'),
    Some('\u{0160}'),
    Some('\u{2039}'),
    Some('\u{0152}'),
    None,
    Some('\u{017D}'),
    None,
    None,
    Some('\u{2018}'),
    Some('\u{2019}'),
    Some('\u{201C}'),
    Some('\u{201D}'),
    Some('\u{2022}'),
    Some('\u{2013}'),
    Some('\u{2014}'),
    Some('\u{02DC}'),
    Some('\u{2122}'),
    Some('\u{0161}'),
    Some('\u{203A}'),
    Some('\u{0153}'),
    None,
    Some('\u{017E}'),
    Some('\u{0178}'),
];

fn cp1252_byte(c: char) -> Option<u8> {
    let u = c as u32;
    if u < 0x80 || (0xA0..=0xFF).contains(&u) {
        return u8::try_from(u).ok();
    }
    CP1252_HIGH
        .iter()
        .position(|h| *h == Some(c))
        .and_then(|i| u8::try_from(0x80 + i).ok())
}

/// `text` (line ends `\n`) written with `eol` line ends in `encoding`, then `pad` NUL bytes
/// (rounded up to whole UTF-16 units). None when windows-1252 cannot hold a character of it.
pub fn encode(text: &str, encoding: Encoding, eol: &str, pad: usize) -> Option<Vec<u8>> {
    let text = if eol == "\n" {
        text.to_string()
    } else {
        text.replace('\n', eol)
    };
    let mut out = match encoding {
        Encoding::Utf8 => text.into_bytes(),
        Encoding::Utf8Bom => [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat(),
        Encoding::Utf16LeBom | Encoding::Utf16Le => {
            let bom: &[u8] = if encoding == Encoding::Utf16LeBom {
                &[0xFF, 0xFE]
            } else {
                &[]
            };
            let mut v = bom.to_vec();
            v.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
            v
        }
        Encoding::Utf16BeBom => {
            let mut v = vec![0xFE, 0xFF];
            v.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
            v
        }
        Encoding::Windows1252 => text.chars().map(cp1252_byte).collect::<Option<Vec<u8>>>()?,
    };
    let utf16 = matches!(
        encoding,
        Encoding::Utf16LeBom | Encoding::Utf16BeBom | Encoding::Utf16Le
    );
    out.resize(out.len() + if utf16 { pad.div_ceil(2) * 2 } else { pad }, 0);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_round_trip_through_the_tools_decoder() {
        let text = "Device Name : PC-Ü1\nAzureAdJoined : YES\n€ 5\n";
        for enc in ENCODINGS {
            for eol in LINE_ENDS {
                for pad in [0, 3] {
                    let bytes = encode(text, enc, eol, pad).unwrap_or_default();
                    let d = enroll_doctor::device::text::decode(&bytes);
                    // The re-encoding check relies on the tool reading every form back.
                    let text_back = d.map(|d| d.text).unwrap_or_else(|e| e.to_string());
                    assert_eq!(text_back, text, "{} {eol:?} pad {pad}", enc.name());
                }
            }
        }
    }

    #[test]
    fn windows_1252_refuses_what_it_cannot_hold() {
        assert_eq!(
            encode("€", Encoding::Windows1252, "\n", 0),
            Some(vec![0x80])
        );
        assert_eq!(encode("ア", Encoding::Windows1252, "\n", 0), None);
        assert_eq!(
            encode("a", Encoding::Utf16Le, "\n", 1),
            Some(vec![b'a', 0, 0, 0])
        );
    }
}
