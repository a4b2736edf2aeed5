//! `enroll-doctor demo`.

use crate::cli::{DemoArgs, GlobalArgs};

pub fn run(_global: &GlobalArgs, _args: DemoArgs) -> anyhow::Result<u8> {
    anyhow::bail!("`demo` is not available yet")
}
