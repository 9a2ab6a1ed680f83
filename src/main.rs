//! The `preinterp` binary: parse, run, exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    match preinterp::cli::run(std::env::args_os()) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("preinterp: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
