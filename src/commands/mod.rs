//! One module per subcommand, and `context` for what they share (no subcommand module imports
//! another). This is the binary edge: `anyhow` is allowed here.

mod audit;
mod auth;
mod check;
mod collector;
mod completions;
mod context;
mod demo;
mod diagnose;
mod diff;
mod explain;

use crate::cli::{Cli, Command};

/// Runs a command and returns the process exit code (0 clean, 1 findings, 2 incomplete).
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    let g = &cli.global;
    context::set_colour(g.color);
    match cli.command {
        Command::Diagnose(a) => diagnose::run(g, a),
        Command::Explain(a) => explain::run(g, a),
        Command::Collector(a) => collector::run(g, a),
        Command::Audit(a) => audit::run(g, a),
        Command::Check(a) => check::run(g, a),
        Command::Auth(a) => auth::run(g, a),
        Command::Demo(a) => demo::run(g, a),
        Command::Diff(a) => diff::run(g, a),
        Command::Completions(a) => completions::completions(a),
        Command::Man(a) => completions::man(a),
    }
}
