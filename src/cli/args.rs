//! The commands and their flags (clap derive). The run settings and the
//! data-location flags come from `config`'s key tables ([`Flags`]);
//! what is here are the flags of the commands themselves.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use preinterp::config::{DataLocation, Settings};

use super::flags::Flags;

/// The exit codes, listed in the help of the commands that use them.
pub const EXIT_CODES: &str = "\
Exit codes:
  0    ok
  1    runtime error (I/O, data, download), or a run that failed or diverged
  2    usage error: a bad flag, value or configuration (also bench --compare
       --strict against a report from another machine)
  3    regression (bench --compare, scripts/bench-compare, scripts/instr-gate)
  130  interrupted by Ctrl-C (an unfinished run file resumes)
  143  terminated by SIGTERM (an unfinished run file resumes)";

/// Reproduces "Pre-interpolation loss behaviour in neural networks"
/// (Venter, Theunissen & Davel, 2021) on CPUs.
#[derive(Parser, Debug)]
#[command(name = "preinterp", version, about, after_help = EXIT_CODES)]
#[command(after_long_help = format!("{EXIT_CODES}\n\n{}", super::env_help::ENV))]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// `-q/--quiet`, on the commands that draw progress.
#[derive(Args, Clone, Copy, Debug, Default)]
pub struct Quiet {
    /// Quiet: no progress bars and no line per finished run, only the
    /// final summary.
    #[arg(short, long, display_order = 900)]
    pub quiet: bool,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Train one MLP and report its learning curves.
    #[command(after_help = EXIT_CODES)]
    Train(Box<TrainArgs>),
    /// Turn a run file into the paper's figures and a summary.json.
    Report(ReportArgs),
    /// Train one of the paper's cases (a, b, c, d) and report it, or
    /// reproduce the whole paper (`reproduce paper`) into one report.
    #[command(subcommand_value_name = "CASE", subcommand_help_heading = "Cases")]
    Reproduce(ReproduceArgs),
    /// Sweeps of many runs (TOML specs in sweeps/).
    Sweep(SweepArgs),
    /// Measure training speed (ms/epoch, samples/s, GFLOPS).
    #[command(after_help = EXIT_CODES)]
    Bench(super::bench_cmd::BenchArgs),
    /// Compare runs: do they single out the same samples?
    Compare(super::compare_cmd::CompareArgs),
    /// Download and verify the datasets into a folder, for machines
    /// without network (a cluster's compute nodes).
    Fetch(FetchArgs),
}

/// `preinterp sweep ...`.
#[derive(Args, Debug)]
pub struct SweepArgs {
    /// What to do with the sweep.
    #[command(subcommand)]
    pub cmd: SweepCmd,
}

/// Sweep subcommands.
#[derive(Subcommand, Debug)]
pub enum SweepCmd {
    /// Expand a spec and list its runs (ids and settings).
    List {
        /// The sweep spec (TOML).
        #[arg(value_name = "SPEC")]
        spec: PathBuf,
        /// Only shard I of N (1-based), e.g. 2/4; defaults to the Slurm
        /// job-array task when SLURM_ARRAY_TASK_ID/COUNT are set.
        #[arg(long, value_name = "I/N")]
        shard: Option<String>,
        /// One JSON object per run on stdout (id, title, settings).
        #[arg(long)]
        json: bool,
    },
    /// Collect a sweep folder into sweep.h5 and the scatter plots of
    /// figures 2 and 3; lists runs that are missing or still going.
    Collect {
        /// The folder `sweep run --out` wrote.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// Run a sweep (or one shard of it), one model per core; finished
    /// runs are skipped and unfinished ones resumed. Settings given as
    /// flags apply to every run unless the spec sets them.
    #[command(after_help = EXIT_CODES)]
    Run {
        /// The sweep spec (TOML).
        #[arg(value_name = "SPEC")]
        spec: PathBuf,
        /// Folder for the run files (`<id>.h5`).
        #[arg(short, long, value_name = "DIR")]
        out: PathBuf,
        /// Runs at once [default: all cores].
        #[arg(short, long, value_name = "N")]
        jobs: Option<usize>,
        /// Only shard I of N (1-based); defaults to the Slurm job-array
        /// task when SLURM_ARRAY_TASK_ID/COUNT are set.
        #[arg(long, value_name = "I/N")]
        shard: Option<String>,
        /// Settings every run starts from.
        #[command(flatten)]
        settings: Flags<Settings>,
        /// Where datasets are found.
        #[command(flatten)]
        data: Flags<DataLocation>,
        /// Progress.
        #[command(flatten)]
        quiet: Quiet,
    },
    /// Predict a sweep's wall time on some core counts: a cost model of
    /// one epoch fitted to the run files of sweeps already run, and the
    /// scheduler of `sweep run` played out on its predictions.
    Plan(Box<PlanArgs>),
}

/// Flags of `preinterp sweep plan`.
#[derive(Args, Debug)]
pub struct PlanArgs {
    /// The sweep spec (TOML) to plan.
    #[arg(value_name = "SPEC")]
    pub spec: PathBuf,
    /// Sweep folders (`sweep run --out`) whose run files calibrate the
    /// cost model; repeat or separate with commas.
    #[arg(long, value_delimiter = ',', value_name = "DIR")]
    pub calibrate: Vec<PathBuf>,
    /// Core counts (`sweep run --jobs`) to schedule on.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "2,16,64",
        value_name = "N"
    )]
    pub cores: Vec<usize>,
    /// Measured seconds per epoch of one configuration on one thread,
    /// e.g. "depth=3,width=1000,batch_size=16,train_size=55000,dataset=mnist:24.2":
    /// overrides the model for the runs it matches (the most specific
    /// wins) and joins the fit (repeatable).
    #[arg(long, value_name = "SETTINGS:SECONDS")]
    pub measured: Vec<String>,
    /// Weight of a --measured value in the fit, in run files (0: it only
    /// overrides).
    #[arg(long, default_value_t = 5.0, value_name = "W")]
    pub measured_weight: f64,
    /// Measured 1-vs-2-thread speed-up of one heavy run (Amdahl's law
    /// beyond two threads; 1: the tail's extra threads gain nothing).
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    pub speedup2: f64,
    /// Quantile of a run's per-epoch times taken as its epoch time (a low
    /// one, e.g. 0.1, discounts epochs slowed by other load).
    #[arg(long, default_value_t = 0.5, value_name = "Q")]
    pub quantile: f64,
    /// Print the whole plan as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Where datasets are found (for their sizes and input density).
    #[command(flatten)]
    pub data: Flags<DataLocation>,
}

/// Flags of `preinterp report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The run file (from `train --out`), finished, interrupted or running.
    #[arg(value_name = "FILE")]
    pub run: PathBuf,
    /// Folder for the figures and summary.json [default: FILE-report next
    /// to the run file].
    #[arg(short, long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Where the dataset is found (for the gallery's images), when the
    /// files the run read are gone.
    #[command(flatten)]
    pub data: Flags<DataLocation>,
}

/// `preinterp reproduce ...`.
#[derive(Args, Debug)]
pub struct ReproduceArgs {
    /// A case, or the whole paper.
    #[command(subcommand)]
    pub what: ReproduceCmd,
}

/// What `reproduce` reproduces: one case, or the paper.
#[derive(Subcommand, Debug)]
pub enum ReproduceCmd {
    /// Case A: 3x100, 5k MNIST, Adam, batch 64 (see `train --help` for
    /// --preset); trained, then reported.
    #[command(name = "a", alias = "A")]
    A(CaseArgs),
    /// Case B: 3x100, 5k MNIST, SGD, batch 64; trained, then reported.
    #[command(name = "b", alias = "B")]
    B(CaseArgs),
    /// Case C: 3x100, 5k Fashion-MNIST, SGD, batch 64; trained, then
    /// reported.
    #[command(name = "c", alias = "C")]
    C(CaseArgs),
    /// Case D: 3x100, 55k Fashion-MNIST, Adam, batch 16; trained, then
    /// reported.
    #[command(name = "d", alias = "D")]
    D(CaseArgs),
    /// Cases A-D with their learning-rate grid, the fig2 and fig3
    /// sweeps, every figure and the claims table in DIR/REPORT.md.
    Paper(PaperArgs),
    /// Anything else: refused, naming the cases.
    #[command(external_subcommand)]
    Unknown(Vec<OsString>),
}

/// Flags of `preinterp reproduce a|b|c|d`.
#[derive(Args, Debug)]
pub struct CaseArgs {
    /// Epochs to train [default: 200].
    #[arg(long, value_name = "N")]
    pub epochs: Option<usize>,
    /// Folder for run.h5, the figures and summary.json [default:
    /// reproduce-CASE]. An unfinished run.h5 there is resumed.
    #[arg(short, long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Start again even if the folder holds a finished run.
    #[arg(long)]
    pub force: bool,
    /// Where datasets are found.
    #[command(flatten)]
    pub data: Flags<DataLocation>,
    /// Training and evaluation threads, 0 = all cores.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Progress.
    #[command(flatten)]
    pub quiet: Quiet,
}

/// Flags of `preinterp reproduce paper`; the parts fix their own
/// settings.
#[derive(Args, Debug)]
pub struct PaperArgs {
    /// Folder of the reproduction [default: reproduce-paper]; running
    /// the same command on it again resumes or redraws the report.
    #[arg(short, long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The fig3 sweep, quick (sweeps/fig3-quick.toml, under an hour on 2
    /// cores) or full (sweeps/fig3.toml).
    #[arg(long, value_name = "quick|full")]
    pub fig3: Option<String>,
    /// Runs at once [default: all cores].
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Seeds per case, the grid's own included [default: 5]; a folder
    /// trained with another number is refused.
    #[arg(long, value_name = "N")]
    pub seeds: Option<usize>,
    /// Where datasets are found.
    #[command(flatten)]
    pub data: Flags<DataLocation>,
    /// For tests: read paper-cases.toml, fig2.toml and fig3-quick.toml
    /// (or fig3.toml) from this folder instead of the built-in specs.
    #[arg(long, hide = true, value_name = "DIR")]
    pub specs: Option<PathBuf>,
    /// Progress.
    #[command(flatten)]
    pub quiet: Quiet,
}

/// Flags of `preinterp train`: every run setting (explicit ones
/// override `--preset`), where the data is, and what to write.
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// The run's settings.
    #[command(flatten)]
    pub settings: Flags<Settings>,
    /// Where datasets are found.
    #[command(flatten)]
    pub data: Flags<DataLocation>,
    /// Write the initial weights to this HDF5 file.
    #[arg(long, value_name = "FILE")]
    pub save_init: Option<PathBuf>,
    /// Write the final weights to this HDF5 file.
    #[arg(long, value_name = "FILE")]
    pub save_final: Option<PathBuf>,
    /// Record the run into this HDF5 file (curves, per-sample losses,
    /// histograms; see docs/hdf5-layout.md).
    #[arg(short, long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Continue the unfinished run recorded in this file (its settings
    /// come from the file; only data-location flags, --threads and
    /// --json may be given).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["out", "save_init"])]
    pub resume: Option<PathBuf>,
    /// Overwrite an existing --out file.
    #[arg(long, requires = "out")]
    pub force: bool,
    /// Print a machine-readable JSON summary on stdout.
    #[arg(long)]
    pub json: bool,
    /// Progress.
    #[command(flatten)]
    pub quiet: Quiet,
}

/// Flags of `preinterp fetch`.
#[derive(Args, Debug)]
pub struct FetchArgs {
    /// The dataset to fetch.
    #[arg(value_name = "DATASET", default_value = "all", value_parser = ["mnist", "fashion-mnist", "all"])]
    pub dataset: String,
    /// Folder to put the datasets in (DIR/mnist, DIR/fashion-mnist);
    /// pass it as --data-dir (or PREINTERP_DATA_DIR) where they are used
    /// [default: the cache: $PREINTERP_CACHE_DIR, else
    /// $XDG_CACHE_HOME/preinterp, else ~/.cache/preinterp].
    #[arg(long, value_name = "DIR")]
    pub to: Option<PathBuf>,
    /// Download from this base URL instead of the canonical mirrors
    /// ({dataset} in it stands for mnist or fashion-mnist; needed with
    /// `all`).
    #[arg(long, value_name = "URL", env = "PREINTERP_MIRROR")]
    pub mirror: Option<String>,
    /// Never download: only verify the files already in the folder (e.g.
    /// on a compute node, after copying them there).
    #[arg(long)]
    pub no_download: bool,
}
