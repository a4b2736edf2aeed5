//! `enroll-doctor diagnose`.

use crate::cli::{DiagnoseArgs, GlobalArgs};

pub fn run(_global: &GlobalArgs, _args: DiagnoseArgs) -> anyhow::Result<u8> {
    anyhow::bail!("`diagnose` is not available yet")
}
