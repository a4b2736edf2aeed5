//! `enroll-doctor completions SHELL` and `enroll-doctor man`: generated from the clap
//! definitions (`clap_complete`, `clap_mangen`), so they never drift from `--help`.

use std::path::Path;

use anyhow::Context;
use clap::CommandFactory;

use super::context::print_stdout;
use crate::cli::{Cli, CompletionsArgs, ManArgs};

const BIN: &str = "enroll-doctor";

pub fn completions(args: CompletionsArgs) -> anyhow::Result<u8> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, BIN, &mut out);
    let text = String::from_utf8(out).context("the completion script is not UTF-8")?;
    print_stdout(&text)?;
    Ok(0)
}

pub fn man(args: ManArgs) -> anyhow::Result<u8> {
    let mut cmd = Cli::command();
    // Built once with the global options propagated, so each subcommand's page lists them
    // and its own arguments may refer to them.
    cmd.build();
    match args.output_dir {
        None => {
            let text = render(&cmd)?;
            print_stdout(&text)?;
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let mut written = 0usize;
            write_page(&dir, BIN, &cmd, &mut written)?;
            for sub in cmd
                .get_subcommands()
                .filter(|s| !s.is_hide_set() && s.get_name() != "help")
            {
                // A subcommand's page carries its full name (`enroll-doctor-diagnose`).
                let name = format!("{BIN}-{}", sub.get_name());
                write_page(&dir, &name, sub, &mut written)?;
            }
            eprintln!("Wrote {written} man pages to {}.", dir.display());
        }
    }
    Ok(0)
}

fn render(cmd: &clap::Command) -> anyhow::Result<String> {
    render_titled(cmd, BIN)
}

fn render_titled(cmd: &clap::Command, title: &str) -> anyhow::Result<String> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .title(title.to_string())
        .render(&mut out)
        .context("cannot render the man page")?;
    String::from_utf8(out).context("the man page is not UTF-8")
}

fn write_page(
    dir: &Path,
    name: &str,
    cmd: &clap::Command,
    written: &mut usize,
) -> anyhow::Result<()> {
    let path = dir.join(format!("{name}.1"));
    let text = render_titled(cmd, name)?;
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    *written += 1;
    Ok(())
}
