//! `preinterp compare`: its flags, the call into the library, and the
//! printed summary.

use std::path::PathBuf;

use clap::Args;

use super::flags::Flags;
use crate::compare::{self, Comparison, Options, SetComparison, TopK};
use crate::config::DataLocation;
use crate::error::Result;

/// Flags of `preinterp compare`.
#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Run files (`train --out`; recorded with --record-samples all), or
    /// a sweep folder (`sweep run --out`). A run given twice is compared
    /// with itself.
    #[arg(required = true, value_name = "RUN.h5|DIR")]
    pub runs: Vec<PathBuf>,
    /// Output folder [default: DIR/compare for a sweep folder, else
    /// compare/ next to the first run file].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write into a non-empty --out folder that holds no earlier compare
    /// output (an earlier compare output is always replaced).
    #[arg(long)]
    pub force: bool,
    /// Size of each run's top-k loss set: a count (50) or a percentage of
    /// the shared samples (2%) [default: 1%].
    #[arg(long, value_name = "K|P%")]
    pub top_k: Option<String>,
    /// Where the dataset is found (for the gallery's images).
    #[command(flatten)]
    pub data: Flags<DataLocation>,
}

pub(super) fn run(a: &CompareArgs) -> Result<u8> {
    let top_k = a.top_k.as_deref().map(TopK::parse).transpose()?;
    let opts = Options {
        out: a
            .out
            .clone()
            .unwrap_or_else(|| compare::default_out(&a.runs)),
        force: a.force,
        top_k: top_k.unwrap_or_default(),
        locator: a.data.parse()?.locator(),
    };
    let files = compare::expand(&a.runs)?;
    let c = compare::compare(&files, &opts)?;
    print_summary(&c);
    Ok(0)
}

fn print_set(long: &str, c: &Comparison, s: &SetComparison) {
    let n = c.runs.len();
    println!(
        "{long} set: {} shared samples; top-k sets of {}",
        s.sample.len(),
        s.k
    );
    let p = &s.pairs;
    for a in 0..n {
        for b in a + 1..n {
            println!(
                "  {} vs {}: Jaccard outliers {:.3} (chance {:.3}), top-k {:.3} (chance {:.3}), Spearman {:.3}",
                c.runs[a].id,
                c.runs[b].id,
                p.jaccard_outliers.get(a, b),
                p.jaccard_outliers_chance.get(a, b),
                p.jaccard_top_k.get(a, b),
                p.jaccard_top_k_chance.get(a, b),
                p.spearman.get(a, b)
            );
        }
    }
    let counts: Vec<String> = s
        .hist
        .iter()
        .enumerate()
        .map(|(k, c)| format!("{k}: {c}"))
        .collect();
    println!(
        "  outlier at the end in k of {n} runs: {}",
        counts.join(", ")
    );
}

fn print_summary(c: &Comparison) {
    println!("{} runs, ordered by configuration:", c.runs.len());
    for r in &c.runs {
        println!("  {}: {} ({})", r.id, r.title, r.status);
    }
    print_set("validation", c, &c.val);
    if let Some(e) = &c.eval {
        print_set("evaluation", c, e);
    }
    for n in &c.notes {
        println!("note: {n}");
    }
    println!("wrote {} files to {}", c.files.len(), c.out.display());
}
