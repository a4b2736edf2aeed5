//! Thin binary: parse arguments, run the command, map the outcome to an exit code.

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            // `{:#}` prints the whole context chain on one line, naming the file or field.
            eprintln!("enroll-doctor: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
