//! `enroll-doctor collector`: prints (or writes) the read-only PowerShell collector script.

use anyhow::Context;

use super::context::print_stdout;
use crate::cli::{CollectorArgs, GlobalArgs};
use enroll_doctor::device::COLLECTOR_SCRIPT;

pub fn run(_global: &GlobalArgs, args: CollectorArgs) -> anyhow::Result<u8> {
    // Windows PowerShell 5.1 reads a BOM-less script as ANSI: write a UTF-8 BOM and CRLF so
    // the file runs unchanged on the device.
    let script = COLLECTOR_SCRIPT.replace("\r\n", "\n").replace('\n', "\r\n");
    match args.output {
        Some(path) => {
            let mut bytes = Vec::with_capacity(script.len() + 3);
            bytes.extend_from_slice(b"\xEF\xBB\xBF");
            bytes.extend_from_slice(script.as_bytes());
            std::fs::write(&path, bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "Wrote {}. Run it on the device as the signed-in user (-Out part1.json), then elevated with -Merge part1.json.",
                path.display()
            );
        }
        None => {
            print_stdout(&script)?;
        }
    }
    Ok(0)
}
