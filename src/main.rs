//! Thin binary: parse arguments, run the command, map the outcome to an exit code.

#[cfg(test)]
mod ci_docs;
mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of the system allocator: evaluating many users allocates and frees millions
/// of small strings on every core (see docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc's `mimalloc.h` (15 in v3, which the crate builds, and
/// in v2; the Rust bindings have no constant for it): how long freed memory stays committed
/// before it goes back to the OS.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> ExitCode {
    // Purge at once: a fleet's run frees what each device's analysis used, and with mimalloc's
    // default delay (10 ms) the peak resident set of a 10,000-device run was 20% higher, for no
    // measurable gain in speed (docs/benchmarks.md).
    // SAFETY: sets a plain option value; called before any other thread exists.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            // An error may quote a file name or a server's message: control characters escaped,
            // and the lines of a multi-line message (a TOML parse error's caret diagram)
            // indented, so no text can pose as another `enroll-doctor:` line.
            let msg = enroll_doctor::text_safety::into_safe_text(one_line(&err));
            eprintln!("enroll-doctor: error: {}", msg.replace('\n', "\n  "));
            ExitCode::from(2)
        }
    }
}

/// The whole context chain on one line, naming the file or field. Library errors often repeat
/// their source in their own message (`cannot read X: {source}`): such a cause is not printed twice.
fn one_line(err: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if msg.contains(&text) {
            continue;
        }
        if !msg.is_empty() {
            msg.push_str(": ");
        }
        msg.push_str(&text);
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn a_cause_repeated_in_its_parents_message_is_printed_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let err = anyhow::Error::new(io).context("cannot read snapshot s.json: No such file");
        assert_eq!(one_line(&err), "cannot read snapshot s.json: No such file");
        let err = anyhow::anyhow!("EOF at line 2").context("snapshot s.json is not valid JSON");
        assert_eq!(
            one_line(&err),
            "snapshot s.json is not valid JSON: EOF at line 2"
        );
    }
}
