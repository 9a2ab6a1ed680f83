//! The one integration-test binary (see `Cargo.toml`: `autotests = false`).

mod util;

mod architecture;
mod bench;
mod cli_errors;
mod determinism;
mod download;
mod env_vars;
mod golden;
mod readme;
mod report;
mod sweep;
