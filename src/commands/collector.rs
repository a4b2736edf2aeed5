//! `enroll-doctor collector`.

use crate::cli::{CollectorArgs, GlobalArgs};

pub fn run(_global: &GlobalArgs, _args: CollectorArgs) -> anyhow::Result<u8> {
    anyhow::bail!("`collector` is not available yet")
}
