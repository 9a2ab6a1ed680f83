//! `preinterp compare`: its flags, the call into the library, and the
//! printed summary.

use std::path::PathBuf;

use clap::Args;

use preinterp::compare::{self, Comparison, Matrix, Options, SetComparison, TopK};
use preinterp::config::DataLocation;
use preinterp::error::Result;

use super::flags::Flags;

/// Flags of `preinterp compare`.
#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Run files (`train --out`; recorded with --record-samples all), or
    /// a sweep folder (`sweep run --out`). A run given twice is compared
    /// with itself.
    #[arg(required = true, value_name = "FILE|DIR")]
    pub runs: Vec<PathBuf>,
    /// Output folder [default: DIR/compare for a sweep folder, else
    /// compare/ next to the first run file].
    #[arg(short, long, value_name = "DIR")]
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
    if n > PRINTED_RUNS {
        print_ranges(c, s);
    }
    for a in (0..n).take_while(|_| n <= PRINTED_RUNS) {
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

/// Most runs whose pairs are printed one by one.
const PRINTED_RUNS: usize = 5;

/// The smallest, mean and largest off-diagonal value of `m`.
fn range(m: &Matrix) -> (f64, f64, f64) {
    let v: Vec<f64> = (0..m.n)
        .flat_map(|a| (a + 1..m.n).map(move |b| (a, b)))
        .map(|(a, b)| m.get(a, b))
        .filter(|x| !x.is_nan())
        .collect();
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let lo = v.iter().copied().fold(f64::NAN, f64::min);
    let hi = v.iter().copied().fold(f64::NAN, f64::max);
    (lo, mean, hi)
}

/// The pairs summarised (min / mean / max over pairs).
fn print_ranges(c: &Comparison, s: &SetComparison) {
    let p = &s.pairs;
    let rows = [
        ("Jaccard of outlier sets", &p.jaccard_outliers),
        ("  its chance level", &p.jaccard_outliers_chance),
        ("Jaccard of top-k sets", &p.jaccard_top_k),
        ("  its chance level", &p.jaccard_top_k_chance),
        ("Spearman", &p.spearman),
    ];
    let pairs = c.runs.len() * (c.runs.len() - 1) / 2;
    println!("  over the {pairs} pairs (min / mean / max; every pair in compare.json):");
    for (name, m) in rows {
        let (lo, mean, hi) = range(m);
        println!("  {name:<24} {lo:.3} / {mean:.3} / {hi:.3}");
    }
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
