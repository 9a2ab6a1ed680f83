//! Command-line parsing and dispatch; the work lives in the library,
//! which never imports this module.

mod args;
mod bench_cmd;
mod compare_cmd;
mod flags;
mod progress;
mod report_cmd;
mod sweep_cmd;
mod train_cmd;

use std::ffi::OsString;

use clap::Parser;

use crate::error::Result;
pub use args::{Cli, Command, TrainArgs};
pub use flags::Flags;

/// Parses `argv` and runs the command; returns the exit code.
pub fn run<I: IntoIterator<Item = OsString>>(argv: I) -> Result<u8> {
    let cli = match Cli::try_parse_from(argv) {
        Ok(c) => c,
        Err(e) => {
            // --help and --version are not errors.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return Ok(code);
        }
    };
    match cli.command {
        Command::Train(a) => train_cmd::run(&a),
        Command::Report(a) => report_cmd::report(&a),
        Command::Reproduce(a) => report_cmd::reproduce(&a),
        Command::Sweep(a) => sweep_cmd::run(&a),
        Command::Bench(a) => bench_cmd::run(&a),
        Command::Compare(a) => compare_cmd::run(&a),
    }
}
