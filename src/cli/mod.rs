//! Command-line parsing and dispatch, part of the `preinterp` binary
//! only; the work lives in the library (`preinterp::...`), which has no
//! clap.

mod args;
mod bench_cmd;
mod compare_cmd;
mod env_help;
mod fetch_cmd;
mod flags;
mod paper_cmd;
mod progress;
mod report_cmd;
mod sweep_cmd;
mod train_cmd;

use std::ffi::OsString;

use clap::Parser;
use preinterp::config::Preset;
use preinterp::error::{Error, Result};

use args::{Cli, Command, ReproduceCmd};

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
    progress::set_quiet(quiet(&cli.command));
    match cli.command {
        Command::Train(a) => train_cmd::run(&a),
        Command::Report(a) => report_cmd::report(&a),
        Command::Reproduce(a) => reproduce(&a.what),
        Command::Sweep(a) => sweep_cmd::run(&a),
        Command::Bench(a) => bench_cmd::run(&a),
        Command::Compare(a) => compare_cmd::run(&a),
        Command::Fetch(a) => fetch_cmd::run(&a),
    }
}

/// Whether the command was given `-q/--quiet` (the commands that draw
/// progress have it).
fn quiet(c: &Command) -> bool {
    let q = match c {
        Command::Train(a) => a.quiet,
        Command::Reproduce(a) => match &a.what {
            ReproduceCmd::A(a) | ReproduceCmd::B(a) | ReproduceCmd::C(a) | ReproduceCmd::D(a) => {
                a.quiet
            }
            ReproduceCmd::Paper(a) => a.quiet,
            ReproduceCmd::Unknown(_) => args::Quiet::default(),
        },
        Command::Sweep(a) => match &a.cmd {
            args::SweepCmd::Run { quiet, .. } => *quiet,
            _ => args::Quiet::default(),
        },
        _ => args::Quiet::default(),
    };
    q.quiet
}

/// `reproduce CASE` or `reproduce paper`.
fn reproduce(what: &ReproduceCmd) -> Result<u8> {
    match what {
        ReproduceCmd::A(a) => report_cmd::reproduce(Preset::A, a),
        ReproduceCmd::B(a) => report_cmd::reproduce(Preset::B, a),
        ReproduceCmd::C(a) => report_cmd::reproduce(Preset::C, a),
        ReproduceCmd::D(a) => report_cmd::reproduce(Preset::D, a),
        ReproduceCmd::Paper(a) => paper_cmd::run(a),
        ReproduceCmd::Unknown(argv) => {
            let case = argv
                .first()
                .map(|c| c.to_string_lossy())
                .unwrap_or_default();
            Err(Error::usage(format!(
                "reproduce {case}: unknown case; choose one of a, b, c, d, or paper"
            )))
        }
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
