//! `enroll-doctor explain`.

use crate::cli::{ExplainArgs, GlobalArgs};

pub fn run(_global: &GlobalArgs, _args: ExplainArgs) -> anyhow::Result<u8> {
    anyhow::bail!("`explain` is not available yet")
}
