//! The bundled sample scenarios with their `wevtutil` XML event exports as `.evtx` logs, written
//! at run time with `evtx_writer` (so both forms stay in step). Shared by the end-to-end tests
//! and the benches through `#[path]`; the includer declares `evtx_writer` at its root too.
#![allow(dead_code)]

use std::path::Path;

use enroll_doctor::device::events::parse_xml;

use crate::evtx_writer as w;

/// The `.evtx` form of a `wevtutil qe /f:xml` export: the same events, as Windows would have
/// saved them from the log.
pub fn evtx_of_xml(path: &Path) -> Vec<u8> {
    let text = std::fs::read_to_string(path).expect("read XML export");
    let parsed = parse_xml("export.xml", &text).expect("XML export parses");
    // Every event of a sample is of a provider the tool keeps: none is lost on the way.
    assert_eq!(parsed.total, parsed.events.len(), "{}", path.display());
    let events: Vec<w::Event> = parsed
        .events
        .iter()
        .map(|e| {
            w::event_from_fields(
                &e.provider,
                e.channel.as_deref(),
                e.event_id,
                e.level,
                e.time.and_then(|t| t.timestamp_nanos_opt()).map(i128::from),
                e.record_id,
                e.data
                    .iter()
                    .map(|d| (d.name.clone(), d.value.clone()))
                    .collect(),
            )
            .expect("writable as EVTX")
        })
        .collect();
    w::write_evtx(&events)
}

/// The files of the sample folder DIR (EXPECTED.md left out), sorted by name; with `evtx`,
/// each XML event export as `NAME.evtx` instead.
pub fn files_of(dir: &Path, evtx: bool) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("sample folder") {
        let path = entry.expect("dir entry").path();
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if file == "EXPECTED.md" {
            continue;
        }
        match file.strip_suffix(".xml") {
            Some(stem) if evtx => out.push((format!("{stem}.evtx"), evtx_of_xml(&path))),
            _ => out.push((file, std::fs::read(&path).expect("read sample file"))),
        }
    }
    out.sort();
    out
}

/// Writes FILES into the folder DIR (created).
pub fn write_folder(dir: &Path, files: &[(String, Vec<u8>)]) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).expect("create folder");
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).expect("write file");
    }
    dir.to_path_buf()
}
