//! Mutations of one input: byte-level damage, structure-aware splices and tokens, huge lines,
//! re-encodings and NUL padding, and folder-level changes (a file dropped, doubled, renamed).

use crate::encode::{ENCODINGS, LINE_ENDS, encode};
use crate::rng::Rng;

/// One device input: files by name, as in a device folder.
pub type Folder = Vec<(String, Vec<u8>)>;

/// Tokens of the formats enroll-doctor reads; splicing them in reaches parser branches random
/// bytes rarely do.
const TOKENS: &[&str] = &[
    "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>",
    "</Event>",
    "<EventID>76</EventID>",
    "<Data Name='ErrorCode'>0x80180018</Data>",
    "<TimeCreated SystemTime='2026-11-20T10:00:00.0000000Z'/>",
    "<![CDATA[",
    "&#x0;",
    "&amp;",
    "AzureAdJoined : YES\n",
    "DomainJoined : NO\n",
    "AzureAdPrt : NO\n",
    "TenantId : 00000000-0000-0000-0000-000000000000\n",
    "+----------------------------------------------------------------------+\n",
    "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Enrollments\\",
    "\"EnrollmentState\"=dword:00000001\n",
    "\"ProviderID\"=\"MS DM Server\"\n",
    "=hex(2):41,00,42,00,\\\n  43,00\n",
    "HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\CurrentVersion\\MDM\n    AutoEnrollMDM    REG_DWORD    0x1\n",
    "\"TaskName\",\"Next Run Time\",\"Status\"\n",
    "Level,Date and Time,Source,Event ID,Task Category\n",
    "{\"Id\":76,\"TimeCreated\":\"/Date(1700000000000)/\",\"Message\":\"",
    "[{\"",
    "\"}]",
    "0x8018002B",
    "0xCAA20003",
    "9999999999999999999999",
    "-1",
    "\u{FEFF}",
    "\u{1b}[2J",
    "\r",
    "\r\n",
    "\0",
    "\"",
    "\\",
    ",",
    ":",
    "<",
    ">",
    "{",
    "}",
];

fn mutate_bytes(rng: &mut Rng, data: &mut Vec<u8>, donors: &[&[u8]]) {
    let len = data.len();
    match rng.below(15) {
        0 if len > 0 => {
            let i = rng.below(len);
            data[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            const INTERESTING: [u8; 10] =
                [0, 0xFF, 0x7F, 0x80, b'\r', b'\n', 0x1B, b'"', b'<', 0xFE];
            let i = rng.below(len);
            data[i] = if rng.one_in(2) {
                INTERESTING[rng.below(INTERESTING.len())]
            } else {
                rng.next_u64() as u8
            };
        }
        2 => {
            let at = rng.below(len + 1);
            let n = 1 + rng.below(16);
            let bytes: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
            data.splice(at..at, bytes);
        }
        3 if len > 0 => {
            let at = rng.below(len);
            let n = 1 + rng.below((len - at).min(256));
            data.drain(at..at + n);
        }
        4 if len > 0 => {
            // Repeat a chunk: many events, many keys, long continuation runs.
            let at = rng.below(len);
            let n = 1 + rng.below((len - at).min(512));
            let chunk = data[at..at + n].to_vec();
            let times = 1 + rng.below(64);
            let insert: Vec<u8> = chunk.iter().copied().cycle().take(n * times).collect();
            data.splice(at..at, insert);
        }
        5 if len > 0 => data.truncate(rng.below(len)),
        6 => {
            if let Some(donor) = rng.pick(donors).filter(|d| !d.is_empty()) {
                let from = rng.below(donor.len());
                let n = 1 + rng.below((donor.len() - from).min(2048));
                let at = rng.below(len + 1);
                data.splice(at..at, donor[from..from + n].iter().copied());
            }
        }
        7 | 8 => {
            if let Some(tok) = rng.pick(TOKENS) {
                let at = rng.below(len + 1);
                data.splice(at..at, tok.bytes());
            }
        }
        9 if rng.one_in(8) => {
            // A huge line (up to 256 KiB) without a line end.
            let at = rng.below(len + 1);
            let byte = *rng.pick(b"A0 \t<\\\"").unwrap_or(&b'A');
            let n = 4096 + rng.below(256 * 1024);
            data.splice(at..at, std::iter::repeat_n(byte, n));
        }
        10 => reencode(rng, data),
        11 => data.resize(len + 1 + rng.below(64), 0),
        12 => {
            // Swap two lines.
            let lines: Vec<&[u8]> = data.split_inclusive(|b| *b == b'\n').collect();
            if lines.len() > 1 {
                let (a, b) = (rng.below(lines.len()), rng.below(lines.len()));
                let mut lines = lines;
                lines.swap(a, b);
                *data = lines.concat();
            }
        }
        13 => {
            // A number made huge, negative or zero.
            if let Some(start) = (0..len)
                .map(|_| rng.below(len))
                .find(|&i| data[i].is_ascii_digit())
            {
                let end = data[start..]
                    .iter()
                    .position(|b| !b.is_ascii_digit())
                    .map_or(len, |p| start + p);
                let with: &[u8] = match rng.below(4) {
                    0 => b"99999999999999999999999999",
                    1 => b"-1",
                    2 => b"0",
                    _ => b"4294967296",
                };
                data.splice(start..end, with.iter().copied());
            }
        }
        _ => {
            if len > 0 {
                let i = rng.below(len);
                data[i] = data[i].wrapping_add(1);
            }
        }
    }
}

/// The file in another encoding, line end and padding, when it is text.
fn reencode(rng: &mut Rng, data: &mut Vec<u8>) {
    let Ok(decoded) = enroll_doctor::device::text::decode(data) else {
        return;
    };
    let enc = ENCODINGS[rng.below(ENCODINGS.len())];
    let eol = LINE_ENDS[rng.below(LINE_ENDS.len())];
    if let Some(bytes) = encode(&decoded.text, enc, eol, 0) {
        *data = bytes;
    }
}

/// Applies 1–8 mutations to a copy of `folder`; `donors` are other seeds' files to splice from.
pub fn mutate(rng: &mut Rng, folder: &Folder, donors: &[&[u8]]) -> Folder {
    let mut out = folder.clone();
    let rounds = 1 + rng.below(8);
    for _ in 0..rounds {
        if out.is_empty() {
            break;
        }
        if rng.one_in(24) {
            match rng.below(3) {
                0 if out.len() > 1 => {
                    out.remove(rng.below(out.len()));
                }
                1 => {
                    let (name, bytes) = out[rng.below(out.len())].clone();
                    out.push((format!("copy-{name}"), bytes));
                }
                _ => {
                    const EXTS: [&str; 6] = [".txt", ".xml", ".reg", ".csv", ".json", ""];
                    let i = rng.below(out.len());
                    let ext = EXTS[rng.below(EXTS.len())];
                    out[i].0 = format!("renamed{i}{ext}");
                }
            }
            continue;
        }
        let i = rng.below(out.len());
        mutate_bytes(rng, &mut out[i].1, donors);
    }
    out
}

/// Applies 1–8 byte mutations to one file.
pub fn mutate_one(rng: &mut Rng, data: &[u8], donors: &[&[u8]]) -> Vec<u8> {
    let mut out = data.to_vec();
    for _ in 0..1 + rng.below(8) {
        mutate_bytes(rng, &mut out, donors);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_change_inputs_and_are_reproducible() {
        let folder: Folder = vec![("dsregcmd.txt".into(), b"AzureAdJoined : YES\n".to_vec())];
        let donors: Vec<&[u8]> = vec![b"<Event/>"];
        let (mut a, mut b) = (Rng::new(3), Rng::new(3));
        let mut changed = 0;
        for _ in 0..200 {
            let x = mutate(&mut a, &folder, &donors);
            assert_eq!(x, mutate(&mut b, &folder, &donors));
            if x != folder {
                changed += 1;
            }
        }
        assert!(changed > 150, "only {changed} of 200 mutated");
    }
}
