//! The sample devices' files (`mocks/devices/<device>/<file>`), embedded so the demo can ship
//! them inside the published binary: the demo's device list names them, this crate holds them.

use include_dir::{Dir, include_dir};

static DEVICES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/devices");

/// The bytes of `devices/<device>/<file>`, if that sample file exists.
pub fn device_file(device: &str, file: &str) -> Option<&'static [u8]> {
    DEVICES
        .get_file(format!("{device}/{file}"))
        .map(|f| f.contents())
}

#[cfg(test)]
mod tests {
    #[test]
    fn sample_files_are_found_and_others_are_not() {
        let dsreg = super::device_file("hybrid-enrolled", "dsregcmd.txt").unwrap();
        assert!(!dsreg.is_empty());
        assert!(super::device_file("hybrid-enrolled", "nope.txt").is_none());
        assert!(super::device_file("../tenants", "contoso").is_none());
    }
}
