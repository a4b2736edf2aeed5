//! `enroll-doctor audit`.

use crate::cli::{AuditArgs, GlobalArgs};

pub fn run(_global: &GlobalArgs, _args: AuditArgs) -> anyhow::Result<u8> {
    anyhow::bail!("`audit` is not available yet")
}
