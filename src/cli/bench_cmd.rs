//! `preinterp bench`: its flags, and the call into the library.

use clap::Args;

use crate::bench::BenchOpts;
use crate::error::Result;

/// Flags of `preinterp bench`.
#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Print a JSON report instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Timed epochs per config (the best is reported).
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// Only these parts, comma-separated: training configs (3x100-b64,
    /// 3x100-b16, 3x100-b256, 3x1000-b64, 10x100-b64), eval, scaling,
    /// monitored.
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
}

impl From<BenchArgs> for BenchOpts {
    fn from(a: BenchArgs) -> Self {
        BenchOpts {
            json: a.json,
            repeats: a.repeats,
            only: a.only,
        }
    }
}

pub(super) fn run(a: &BenchArgs) -> Result<u8> {
    crate::bench::run(&a.clone().into())
}
