//! `tpmtool getdeviceinformation`: the attestation lines the TPM checks read.
//!
//! ```text
//! -TPM Present: True
//! -TPM Version: 2.0
//! -Is Capable For Attestation: True
//! -Ready For Attestation: True
//! ```
//! English output only; other lines and languages are ignored.

/// What the output says; every field `None` when its line is absent or not `True`/`False`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TpmToolInfo {
    pub present: Option<bool>,
    pub attestation_capable: Option<bool>,
    pub attestation_ready: Option<bool>,
}

pub fn parse(text: &str) -> TpmToolInfo {
    let mut out = TpmToolInfo::default();
    for line in text.lines() {
        let line = line.trim().trim_start_matches('-').trim();
        let Some((label, value)) = line.split_once(':') else {
            continue;
        };
        let value = match value.trim() {
            v if v.eq_ignore_ascii_case("true") => Some(true),
            v if v.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        };
        match label.trim().to_ascii_lowercase().as_str() {
            "tpm present" => out.present = value,
            "is capable for attestation" => out.attestation_capable = value,
            "ready for attestation" => out.attestation_ready = value,
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn attestation_lines() {
        let t = parse(
            "\r\n-TPM Present: True\r\n-TPM Version: 2.0\r\n-Is Capable For Attestation: True\r\n-Ready For Attestation: False\r\n",
        );
        assert_eq!(t.present, Some(true));
        assert_eq!(t.attestation_capable, Some(true));
        assert_eq!(t.attestation_ready, Some(false));
        assert_eq!(parse("Bereit: Ja"), TpmToolInfo::default());
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,300}") {
            let _ = parse(&s);
        }
    }
}
