//! The `preinterp` binary: parse, run, exit code. Its command line
//! ([`cli`]) is part of the binary only; the work lives in the library.
#![warn(clippy::undocumented_unsafe_blocks)]

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    // Output piped into `head` and friends ends quietly, as Unix tools do,
    // instead of panicking on a closed stdout.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE, before any
    // thread starts, is async-signal-safe and has no other effect.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    match cli::run(std::env::args_os()) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("preinterp: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
