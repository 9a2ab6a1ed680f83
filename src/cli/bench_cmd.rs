//! `preinterp bench`: its flags, the call into the library, and every
//! line it prints (the library returns a report value).

use clap::builder::{PossibleValue, StringValueParser, TypedValueParser};
use clap::{Args, ValueEnum};

use preinterp::bench::history::{self, Comparison, Verdict};
use preinterp::bench::{BenchOpts, BenchReport, EvalRow, Section, TrainRow};
use preinterp::data::registry::DatasetId;
use preinterp::data::Locator;
use preinterp::error::{Error, ErrorKind, Result};

/// Exit code of `bench --compare` when a workload got slower.
pub const EXIT_REGRESSION: u8 = 3;

/// How the report is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for people.
    Table,
    /// The full report (what `--save` stores).
    Json,
    /// Bencher Metric Format (latency in ns, with min and max).
    Bmf,
    /// github-action-benchmark `customSmallerIsBetter` (ms).
    Github,
}

/// Flags of `preinterp bench`.
#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Same as `--format json`.
    #[arg(long)]
    pub json: bool,
    /// Timed repeats per workload (after one warm-up): median and spread.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub repeats: usize,
    /// Only these parts, comma-separated [default: all but fig3 and
    /// breakdown].
    #[arg(long, value_delimiter = ',', value_name = "PART", value_parser = PartParser)]
    pub only: Vec<Section>,
    /// Datasets, comma-separated (default: mnist,fashion-mnist). Each is
    /// found as `train` finds it (--data-dir, PREINTERP_DATA_DIR, the
    /// cache; never downloaded), else its committed fixture subset.
    #[arg(long, value_delimiter = ',', value_name = "DATASET", value_parser = parse_dataset)]
    pub datasets: Vec<DatasetId>,
    /// Folder holding the datasets.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<std::path::PathBuf>,
    /// Save the report as NAME (bench-results/NAME.json, or
    /// $PREINTERP_BENCH_DIR/NAME.json; a NAME with a / or ending in
    /// .json is a path).
    #[arg(long, value_name = "NAME")]
    pub save: Option<String>,
    /// Compare with the saved report NAME; exit 3 on a regression. A
    /// report from another machine (its fingerprint differs) is not
    /// compared: a warning, or exit 2 with --strict.
    #[arg(long, value_name = "NAME")]
    pub compare: Option<String>,
    /// With --compare: a report from another machine is an error (exit
    /// 2) instead of a warning, so CI cannot pass without comparing.
    #[arg(long, requires = "compare")]
    pub strict: bool,
    /// With --compare: compare with the saved report NAME instead of
    /// measuring now (e.g. two results saved by CI).
    #[arg(long, value_name = "NAME", requires = "compare")]
    pub against: Option<String>,
    /// Percent a median must change by (beyond the noise) to count.
    #[arg(long, default_value_t = 5.0, value_name = "PCT")]
    pub threshold: f64,
    /// Adds PCT percent to every timed repeat (tests of --compare only).
    #[arg(long, hide = true, default_value_t = 0.0, value_name = "PCT")]
    pub inject_slowdown: f64,
    /// With --inject-slowdown: slow only the first timing, not the
    /// confirming one (tests of --compare only).
    #[arg(long, hide = true, requires = "inject_slowdown")]
    pub transient: bool,
}

/// `--only`'s parser: the library's part names ([`Section::all`]) are its
/// possible values (listed in the help, which so cannot go stale), and a
/// bad one gets the library's message naming them.
#[derive(Clone)]
struct PartParser;

impl TypedValueParser for PartParser {
    type Value = Section;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> std::result::Result<Section, clap::Error> {
        StringValueParser::new()
            .try_map(|s| s.parse::<Section>())
            .parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(Section::all().into_iter().map(|p| {
            PossibleValue::new(p.to_string()).help(p.describe())
        })))
    }
}

fn parse_dataset(s: &str) -> std::result::Result<DatasetId, String> {
    DatasetId::parse(s).ok_or_else(|| "not a dataset; choose mnist or fashion-mnist".to_string())
}

pub(super) fn run(a: &BenchArgs) -> Result<u8> {
    // Refuse a bad saved result before measuring anything.
    let old = a.compare.as_deref().map(history::load).transpose()?;
    let opts = BenchOpts {
        repeats: a.repeats,
        only: a.only.clone(),
        datasets: a.datasets.clone(),
        locator: Locator::from_env(a.data_dir.clone(), None, false),
        slowdown_pct: a.inject_slowdown,
    };
    let report = match &a.against {
        Some(name) => history::load(name)?,
        None => preinterp::bench::run(&opts)?,
    };
    let format = if a.json { Format::Json } else { a.format };
    let json = |v: &serde_json::Value| {
        serde_json::to_string_pretty(v).map_err(|e| Error::new(ErrorKind::Io, e.to_string()))
    };
    match format {
        Format::Table => print_table(&report),
        Format::Json => println!(
            "{}",
            json(
                &serde_json::to_value(&report)
                    .map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?
            )?
        ),
        Format::Bmf => println!("{}", json(&history::bmf(&report))?),
        Format::Github => println!("{}", json(&history::github_smaller_is_better(&report))?),
    }
    if let Some(name) = &a.save {
        let path = history::save(&report, name)?;
        eprintln!("bench: saved as {}", history::shown(&path));
    }
    let mut code = 0;
    if let (Some(old), Some(name)) = (&old, &a.compare) {
        let mut c = history::compare(old, &report, a.threshold);
        if c.regressed() && a.against.is_none() {
            // Time what looks slower once more before calling it a
            // regression.
            let (only, datasets) = c.to_confirm();
            eprintln!(
                "bench: {} workload(s) look slower; timing {} again to confirm",
                c.changes
                    .iter()
                    .filter(|x| x.verdict == Verdict::Slower)
                    .count(),
                only.iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            );
            let rerun = preinterp::bench::run(&BenchOpts {
                only,
                datasets,
                slowdown_pct: if a.transient { 0.0 } else { opts.slowdown_pct },
                ..opts.clone()
            })?;
            c.confirm(old, &rerun);
        }
        if let (Some(why), true) = (&c.other_machine, a.strict) {
            return Err(Error::usage(format!(
                "--compare {name} was measured on another machine ({why}); --strict refuses to pass without comparing"
            )));
        }
        print_comparison(name, old, &c);
        if c.regressed() {
            code = EXIT_REGRESSION;
        }
    }
    Ok(code)
}

fn print_table(r: &BenchReport) {
    let f = &r.fingerprint;
    println!(
        "preinterp {} bench on {} ({} cores), {} {}, {}",
        f.version, f.machine.cpu, f.machine.cores, f.commit, f.rustc, f.date
    );
    println!("CPU features: {}", f.machine.features.join(" "));
    println!("kernels: {}", r.kernel_path);
    println!(
        "measured: one-core f32 FMA peak {:.1} GFLOPS; Adam's divider (1 sqrt + 1 div per element) {:.2} G elements/s; triad bandwidth {:.1} GB/s one core, {:.1} GB/s all cores (one core by working set: {})",
        f.peak_gflops,
        f.adam_divider_gelems,
        f.bandwidth_gbs,
        f.bandwidth_all_gbs,
        f.bandwidth_curve
            .iter()
            .map(|(b, g)| format!("{} MiB {:.0}", b >> 20, g))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for d in &r.data {
        let src = match d.source {
            preinterp::bench::data::Source::Real => format!("real, {}", d.path),
            preinterp::bench::data::Source::Fixture => {
                format!("NOT FOUND: committed fixture subset, {}", d.path)
            }
            preinterp::bench::data::Source::Synthetic => "NOT FOUND: synthetic samples".to_string(),
        };
        println!(
            "data {}: {}; {:.1}% non-zero pixels; a batch of 64 uses {:.1}% of the 784 input columns",
            d.name,
            src,
            100.0 * d.nonzero,
            100.0 * d.used_cols_b64
        );
    }
    println!("medians of {} repeats, spread = +-half of (max - min); % bound = roofline lower bound / median", r.repeats);
    if !r.train.is_empty() {
        println!("training, 1 thread, Adam, 5000 samples per epoch:");
        train_header();
        r.train.iter().for_each(train_line);
    }
    if !r.fig3.is_empty() {
        println!("fig3's heaviest run, one epoch of 55,000 samples:");
        train_header();
        r.fig3.iter().for_each(train_line);
    }
    for (title, rows) in [
        ("per-sample evaluation, 10,000 test samples:", &r.eval),
        ("thread scaling, 3x100 evaluation:", &r.scaling),
    ] {
        if !rows.is_empty() {
            println!("{title}");
            println!(
                "  {:<8} {:<14} {:>3} {:>10} {:>7} {:>12} {:>7} {:>8} {:>6}",
                "model", "dataset", "thr", "ms", "+-%", "samples/s", "GFLOPS", "% bound", "x"
            );
            rows.iter().for_each(eval_line);
        }
    }
    print_sparse(r);
    print_breakdown(r);
    print_eval_breakdown(r);
    for m in &r.monitored {
        println!(
            "monitored epoch, {} (3x100 b64, 1 thread: 5k training + evaluation of 20k samples and the validation-loss statistics): {:.1} ms +-{:.1}% ({:.1} train + {:.1} evaluation)",
            m.dataset,
            m.total_ms.median,
            m.total_ms.spread_pct(),
            m.train_ms.median,
            m.eval_ms.median
        );
        if let (Some(e), Some(c)) = (&m.eval_calibrated_ms, &m.calibration_cost_pct) {
            println!(
                "  with per-epoch calibration of the validation and evaluation sets (logits kept, T*, ECE): evaluation {:.1} ms, epoch {:+.1}% (median of the paired repeats; range {:+.1}..{:+.1}%)",
                e.median, c.median, c.min, c.max
            );
        }
    }
}

fn print_sparse(r: &BenchReport) {
    if r.sparse.is_empty() {
        return;
    }
    println!("first layer always dense vs compacted per batch (what preinterp runs), side by side, 1 thread:");
    println!(
        "  {:<18} {:<14} {:>10} {:>10} {:>8} {:>8} {:>8}",
        "workload", "dataset", "dense ms", "auto ms", "change", "verdict", "compact"
    );
    for t in &r.sparse {
        println!(
            "  {:<18} {:<14} {:>10.2} {:>10.2} {:>+7.1}% {:>8} {:>7.0}%",
            t.workload,
            t.dataset,
            t.dense.median,
            t.auto.median,
            t.change_pct,
            format!("{:?}", t.verdict).to_lowercase(),
            100.0 * t.compact
        );
    }
}

fn print_breakdown(r: &BenchReport) {
    if r.breakdown.is_empty() {
        return;
    }
    println!("where a training epoch goes (ms; phases from nested prefixes timed side by side), against the roofline's phases:");
    println!(
        "  {:<12} {:<14} {:>8} {:>8} {:>9} {:>9} {:>8} {:>10} {:>22}",
        "config",
        "dataset",
        "epoch",
        "gather",
        "forward",
        "backward",
        "update",
        "Adam alone",
        "bound fwd/bwd/optim"
    );
    for b in &r.breakdown {
        println!(
            "  {:<12} {:<14} {:>8.2} {:>8.2} {:>9.2} {:>9.2} {:>8.2} {:>10.2} {:>8.2}/{:.2}/{:.2}",
            b.id,
            b.dataset,
            b.epoch.median,
            b.gather_ms,
            b.forward_ms,
            b.backward_ms,
            b.update_ms,
            b.adam_alone_ms,
            b.bound_ms[0],
            b.bound_ms[1],
            b.bound_ms[2]
        );
    }
}

fn print_eval_breakdown(r: &BenchReport) {
    if r.eval_breakdown.is_empty() {
        return;
    }
    println!("where one thread's evaluation goes (ms; each phase timed within every run), against the roofline's phases:");
    println!(
        "  {:<8} {:<14} {:>8} {:>7} {:>7} {:>8} {:>7} {:>7} {:>22}",
        "model",
        "dataset",
        "all",
        "pack",
        "input",
        "first",
        "later",
        "sparse",
        "bound input/first/later"
    );
    for b in &r.eval_breakdown {
        println!(
            "  {:<8} {:<14} {:>8.2} {:>7.2} {:>7.2} {:>8.2} {:>7.2} {:>6.0}% {:>8.2}/{:.2}/{:.2}",
            b.model,
            b.dataset,
            b.all.median,
            b.pack_ms,
            b.input_ms,
            b.first_ms,
            b.rest_ms,
            100.0 * b.sparse,
            b.bound_ms[0],
            b.bound_ms[1],
            b.bound_ms[2]
        );
    }
}

fn train_header() {
    println!(
        "  {:<12} {:<14} {:>10} {:>7} {:>10} {:>7} {:>9} {:>8} {:>9}",
        "config",
        "dataset",
        "ms/epoch",
        "+-%",
        "samples/s",
        "GFLOPS",
        "bound ms",
        "% bound",
        "compact"
    );
}

fn train_line(t: &TrainRow) {
    println!(
        "  {:<12} {:<14} {:>10.2} {:>7.1} {:>10.0} {:>7.1} {:>9.2} {:>7.1}% {:>4.0}%/{:.0}%",
        t.id,
        t.dataset,
        t.ms.median,
        t.ms.spread_pct(),
        t.samples_per_s,
        t.gflops,
        t.bound.ms,
        t.pct_of_bound,
        100.0 * t.compact_batches,
        100.0 * t.used_cols
    );
}

fn eval_line(e: &EvalRow) {
    println!(
        "  {:<8} {:<14} {:>3} {:>10.2} {:>7.1} {:>12.0} {:>7.1} {:>7.1}% {:>6.2}",
        e.model,
        e.dataset,
        e.threads,
        e.ms.median,
        e.ms.spread_pct(),
        e.samples_per_s,
        e.gflops,
        e.pct_of_bound,
        e.speedup
    );
}

fn print_comparison(name: &str, old: &BenchReport, c: &Comparison) {
    if let Some(why) = &c.other_machine {
        eprintln!(
            "bench: warning: --compare {name} was measured on another machine ({why}); not compared"
        );
        return;
    }
    println!(
        "compared with {name} ({}, {}): a change counts beyond {:.0}% and beyond the spread of the repeats",
        old.fingerprint.commit, old.fingerprint.date, c.threshold_pct
    );
    for ch in &c.changes {
        let v = match ch.verdict {
            Verdict::Same => "same",
            Verdict::Slower => "SLOWER",
            Verdict::Faster => "faster",
            Verdict::Missing => "new (not in the saved result)",
        };
        let rerun = match ch.rerun_pct {
            Some(p) => format!(" (timed again: {p:+.1}%)"),
            None => String::new(),
        };
        println!(
            "  {:<36} {:>10.2} -> {:>10.2} ms {:>+7.1}%  {v}{rerun}",
            ch.key, ch.old, ch.new, ch.pct
        );
    }
    let slower = c
        .changes
        .iter()
        .filter(|x| x.verdict == Verdict::Slower)
        .count();
    println!(
        "{slower} regression(s) in {} workloads (a workload that looks slower is timed again, and counts only if it is slower again)",
        c.changes.len()
    );
}
