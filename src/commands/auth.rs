//! `enroll-doctor auth`.

use crate::cli::{AuthCommand, GlobalArgs};

pub fn run(_global: &GlobalArgs, _args: AuthCommand) -> anyhow::Result<u8> {
    anyhow::bail!("`auth` is not available yet")
}
