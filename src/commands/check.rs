//! `enroll-doctor check`.

use crate::cli::{CheckArgs, GlobalArgs};

pub fn run(_global: &GlobalArgs, _args: CheckArgs) -> anyhow::Result<u8> {
    anyhow::bail!("`check` is not available yet")
}
