//! UTF-16LE with a byte order mark, the encoding Windows PowerShell, `dsregcmd` redirection
//! and `reg export` write: read into text and written back. Shared by the end-to-end tests and
//! the benches through `#[path]`, so each includer may use only part of it.
#![allow(dead_code)]

/// The text of `bytes` when they start with a UTF-16LE byte order mark, else `None`.
/// Unpaired surrogates become U+FFFD; a trailing odd byte is dropped.
pub fn decode_bom(bytes: &[u8]) -> Option<String> {
    let rest = bytes.strip_prefix(&[0xFF, 0xFE])?;
    let units: Vec<u16> = rest
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    Some(String::from_utf16_lossy(&units))
}

/// `text` as UTF-16LE after a byte order mark (line endings kept as given).
pub fn encode_bom(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    out
}
