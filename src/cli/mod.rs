//! Command-line parsing and dispatch; the work lives in the library,
//! which never imports this module.

mod args;
mod bench_cmd;
mod compare_cmd;
mod flags;
mod paper_cmd;
mod progress;
mod report_cmd;
mod sweep_cmd;
mod train_cmd;

use std::ffi::OsString;

use clap::Parser;

use crate::error::{Error, Result};
pub use args::{Cli, Command, TrainArgs};
pub use flags::Flags;

/// Parses `argv` and runs the command; returns the exit code.
pub fn run<I: IntoIterator<Item = OsString>>(argv: I) -> Result<u8> {
    let cli = match Cli::try_parse_from(argv) {
        Ok(c) => c,
        // --help and --version are not errors.
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return Ok(0);
        }
        // No subcommand: the help, as a usage error.
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            return Ok(2);
        }
        // Usage errors are one line, like every other error.
        Err(e) => return Err(Error::usage(one_line(&e))),
    };
    match cli.command {
        Command::Train(a) => train_cmd::run(&a),
        Command::Report(a) => report_cmd::report(&a),
        Command::Reproduce(a) if a.case == "paper" => paper_cmd::run(&a),
        Command::Reproduce(a) => report_cmd::reproduce(&a),
        Command::Sweep(a) => sweep_cmd::run(&a),
        Command::Bench(a) => bench_cmd::run(&a),
        Command::Compare(a) => compare_cmd::run(&a),
    }
}

/// clap's error as one line: its message without the `error: ` prefix,
/// the usage and the tips, pointing to `--help` instead.
fn one_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("invalid command line");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    format!("{first} (see --help)")
}
