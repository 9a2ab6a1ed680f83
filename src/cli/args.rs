//! The raw flags (clap derive). Turning them into a validated
//! [`RunConfig`] happens in [`TrainArgs::to_config`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{adam_default, Preset, RunConfig, Stop, ADAM_LR, SGD_LR};
use crate::data::DatasetSpec;
use crate::error::Result;
use crate::optim::OptimizerKind;

/// Reproduces "Pre-interpolation loss behaviour in neural networks"
/// (Venter, Theunissen & Davel, 2021) on CPUs.
#[derive(Parser, Debug)]
#[command(name = "preinterp", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Train one MLP and report its learning curves.
    Train(Box<TrainArgs>),
    /// Turn a run file into the paper's figures and a summary.json.
    Report(ReportArgs),
    /// Train one of the paper's cases (a, b, c, d) and report it.
    Reproduce(ReproduceArgs),
    /// Sweeps of many runs (TOML specs in sweeps/).
    Sweep(SweepArgs),
    /// Measure training speed (ms/epoch, samples/s, GFLOPS).
    Bench(super::bench_cmd::BenchArgs),
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
        spec: PathBuf,
        /// Only shard I of N (1-based), e.g. 2/4; defaults to the Slurm
        /// job-array task when SLURM_ARRAY_TASK_ID/COUNT are set.
        #[arg(long)]
        shard: Option<String>,
    },
    /// Collect a sweep folder into sweep.h5 and the scatter plots of
    /// figures 2 and 3; lists runs that are missing or still going.
    Collect {
        /// The folder `sweep run --out` wrote.
        dir: PathBuf,
    },
    /// Run a sweep (or one shard of it), one model per core; finished
    /// runs are skipped and unfinished ones resumed.
    Run {
        /// The sweep spec (TOML).
        spec: PathBuf,
        /// Folder for the run files (`<id>.h5`).
        #[arg(long)]
        out: PathBuf,
        /// Runs at once [default: all cores].
        #[arg(long)]
        jobs: Option<usize>,
        /// Only shard I of N (1-based); defaults to the Slurm job-array
        /// task when SLURM_ARRAY_TASK_ID/COUNT are set.
        #[arg(long)]
        shard: Option<String>,
        /// Per-sample records in each run file.
        #[arg(long, value_enum, default_value_t = crate::record::RecordSamples::None)]
        record_samples: crate::record::RecordSamples,
        /// Checkpoints per decade of iterations in each run file (0 = none;
        /// each one evaluates all three sets).
        #[arg(long, default_value_t = 0)]
        checkpoints_per_decade: u32,
        /// Folder searched first for datasets.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Download from this base URL instead of the canonical mirrors.
        #[arg(long)]
        mirror: Option<String>,
        /// Never download.
        #[arg(long)]
        no_download: bool,
    },
}

/// Flags of `preinterp report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The run file (from `train --out`), finished, interrupted or running.
    pub run: PathBuf,
    /// Folder for the figures and summary.json [default: RUN-report next
    /// to the run file].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Flags of `preinterp reproduce`.
#[derive(Args, Debug)]
pub struct ReproduceArgs {
    /// The paper's case: a, b, c or d (see `train --help` for --preset).
    pub case: String,
    /// Epochs to train [default: 200].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Folder for run.h5, the figures and summary.json [default:
    /// reproduce-CASE]. An unfinished run.h5 there is resumed.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Start again even if the folder holds a finished run.
    #[arg(long)]
    pub force: bool,
    /// Folder searched first for the dataset's files.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Download from this base URL instead of the canonical mirrors.
    #[arg(long)]
    pub mirror: Option<String>,
    /// Never download.
    #[arg(long)]
    pub no_download: bool,
    /// Evaluation threads, 0 = all cores.
    #[arg(long)]
    pub threads: Option<usize>,
}

/// Optimiser choice on the command line.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum OptName {
    /// torch.optim.Adam (betas 0.9, 0.999; eps 1e-8).
    Adam,
    /// torch.optim.SGD (optional --momentum).
    Sgd,
}

/// Flags of `preinterp train`. Every hyperparameter; explicit flags
/// override `--preset`.
#[derive(Args, Debug, Default)]
pub struct TrainArgs {
    /// The paper's case: a (3x100, 5k MNIST, Adam, b64), b (as a with
    /// SGD), c (3x100, 5k Fashion-MNIST, SGD, b64), d (3x100, 55k
    /// Fashion-MNIST, Adam, b16).
    #[arg(long)]
    pub preset: Option<String>,
    /// mnist, fashion-mnist, or a folder holding the four IDX files.
    #[arg(long)]
    pub dataset: Option<String>,
    /// Folder searched first for the dataset's files (then
    /// $PREINTERP_DATA_DIR, then the cache, then a download).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Download from this base URL instead of the canonical mirrors.
    #[arg(long)]
    pub mirror: Option<String>,
    /// Never download; fail if the files are not found.
    #[arg(long)]
    pub no_download: bool,
    /// Training samples drawn from the 60k pool [default: 5000].
    #[arg(long)]
    pub train_size: Option<usize>,
    /// Cap on validation samples [default: the rest of the pool].
    #[arg(long)]
    pub val_size: Option<usize>,
    /// Hidden layers [default: 3].
    #[arg(long)]
    pub depth: Option<usize>,
    /// Units per hidden layer [default: 100].
    #[arg(long)]
    pub width: Option<usize>,
    /// Optimiser [default: adam].
    #[arg(long, value_enum)]
    pub optimizer: Option<OptName>,
    /// Learning rate [default: 0.001 for Adam, 0.01 for SGD].
    #[arg(long, allow_negative_numbers = true)]
    pub lr: Option<f64>,
    /// SGD momentum [default: 0].
    #[arg(long, allow_negative_numbers = true)]
    pub momentum: Option<f64>,
    /// Minibatch size [default: 64].
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Seed of the initialisation, the split and the shuffles [default: 0].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Epochs to train [default: 200].
    #[arg(long, conflicts_with = "until_interpolation")]
    pub epochs: Option<usize>,
    /// Train until 100% training accuracy (or --max-epochs).
    #[arg(long)]
    pub until_interpolation: bool,
    /// Cap for --until-interpolation [default: 1000].
    #[arg(long, requires = "until_interpolation")]
    pub max_epochs: Option<usize>,
    /// Evaluation threads, 0 = all cores [default: 0]. Results do not
    /// depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Start from the weights in this HDF5 file (see docs).
    #[arg(long)]
    pub init_from: Option<PathBuf>,
    /// Write the initial weights to this HDF5 file.
    #[arg(long)]
    pub save_init: Option<PathBuf>,
    /// Write the final weights to this HDF5 file.
    #[arg(long)]
    pub save_final: Option<PathBuf>,
    /// Record the run into this HDF5 file (curves, per-sample losses,
    /// histograms; see docs/hdf5-layout.md).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the unfinished run recorded in this file (its settings
    /// come from the file; only data-location flags, --threads and
    /// --json may be given).
    #[arg(long, conflicts_with_all = ["out", "preset", "dataset", "train_size", "val_size", "depth", "width", "optimizer", "lr", "momentum", "batch_size", "seed", "epochs", "until_interpolation", "max_epochs", "init_from", "save_init", "record_samples", "checkpoints_per_decade", "loss_hist_range", "loss_hist_bins_per_decade", "weight_hist_bins", "weight_hist_range"])]
    pub resume: Option<PathBuf>,
    /// Overwrite an existing --out file.
    #[arg(long, requires = "out")]
    pub force: bool,
    /// Per-sample records in --out: all (checkpoints and validation at
    /// every epoch), checkpoints, or none.
    #[arg(long, value_enum, default_value_t = crate::record::RecordSamples::All)]
    pub record_samples: crate::record::RecordSamples,
    /// Checkpoints per decade of iterations in --out (0 = none).
    #[arg(long, default_value_t = 20)]
    pub checkpoints_per_decade: u32,
    /// Loss histograms in --out: the lowest and highest inner bin edges;
    /// smaller losses (exact zeros too) fall in an underflow bin, larger
    /// ones in an overflow bin [default: 1e-8,1e3].
    #[arg(
        long,
        value_delimiter = ',',
        num_args = 1,
        value_name = "LO,HI",
        allow_negative_numbers = true
    )]
    pub loss_hist_range: Option<Vec<f64>>,
    /// Loss histograms in --out: log-spaced bins per decade [default: 10].
    #[arg(long, value_name = "N")]
    pub loss_hist_bins_per_decade: Option<usize>,
    /// Weight and bias histograms in --out: linear bins per layer over
    /// [-R/sqrt(fan_in), R/sqrt(fan_in)], plus underflow and overflow
    /// [default: 200].
    #[arg(long, value_name = "N")]
    pub weight_hist_bins: Option<usize>,
    /// Weight and bias histograms in --out: R above [default: 16].
    #[arg(long, value_name = "R", allow_negative_numbers = true)]
    pub weight_hist_range: Option<f64>,
    /// Print a machine-readable JSON summary on stdout.
    #[arg(long)]
    pub json: bool,
}

impl TrainArgs {
    /// What --out records, from the recording flags.
    pub fn record_opts(&self) -> Result<crate::record::RecordOpts> {
        let mut o = crate::record::RecordOpts {
            samples: self.record_samples,
            per_decade: self.checkpoints_per_decade,
            ..Default::default()
        };
        if let Some(r) = &self.loss_hist_range {
            match r[..] {
                [lo, hi] if lo > 0.0 && hi > lo && hi.is_finite() => {
                    (o.loss_lo, o.loss_hi) = (lo, hi);
                }
                _ => {
                    return Err(super::flag_error(
                        "--loss-hist-range",
                        "expected LO,HI with 0 < LO < HI (e.g. 1e-8,1e3)",
                    ))
                }
            }
        }
        // A bin count within `lo..=hi`, or a usage error naming `flag`.
        let count = |flag: &str, n: usize, lo: usize, hi: usize| {
            if (lo..=hi).contains(&n) {
                Ok(n)
            } else {
                Err(super::flag_error(
                    flag,
                    format!("must be between {lo} and {hi}"),
                ))
            }
        };
        if let Some(n) = self.loss_hist_bins_per_decade {
            o.loss_bins_per_decade = count("--loss-hist-bins-per-decade", n, 1, 1000)?;
        }
        if let Some(n) = self.weight_hist_bins {
            o.weight_bins = count("--weight-hist-bins", n, 1, 100_000)?;
        }
        if let Some(r) = self.weight_hist_range {
            if !(r > 0.0 && r.is_finite()) {
                return Err(super::flag_error(
                    "--weight-hist-range",
                    "must be a positive number",
                ));
            }
            o.weight_range = r;
        }
        let decades = (o.loss_hi / o.loss_lo).log10() * o.loss_bins_per_decade as f64;
        if decades > 100_000.0 {
            return Err(super::flag_error(
                "--loss-hist-range",
                "too many bins for this range and --loss-hist-bins-per-decade",
            ));
        }
        Ok(o)
    }
}

impl TrainArgs {
    /// The preset (or defaults) with every explicit flag applied.
    pub fn to_config(&self) -> Result<RunConfig> {
        let mut c = match &self.preset {
            Some(p) => Preset::parse(p)?.config(),
            None => RunConfig {
                preset: None,
                ..Preset::A.config()
            },
        };
        if let Some(d) = &self.dataset {
            c.dataset = DatasetSpec::parse(d)?;
        }
        if let Some(v) = self.train_size {
            c.train_size = v;
        }
        if self.val_size.is_some() {
            c.val_size = self.val_size;
        }
        if let Some(v) = self.depth {
            c.shape.depth = v;
        }
        if let Some(v) = self.width {
            c.shape.width = v;
        }
        let opt = self.optimizer.unwrap_or(match c.optimizer {
            OptimizerKind::Adam { .. } => OptName::Adam,
            OptimizerKind::Sgd { .. } => OptName::Sgd,
        });
        let same = matches!(
            (opt, c.optimizer),
            (OptName::Adam, OptimizerKind::Adam { .. }) | (OptName::Sgd, OptimizerKind::Sgd { .. })
        );
        let lr = self.lr.unwrap_or(if same {
            c.optimizer.lr()
        } else if opt == OptName::Adam {
            ADAM_LR
        } else {
            SGD_LR
        });
        c.optimizer = match opt {
            OptName::Adam => {
                if self.momentum.is_some() {
                    return Err(super::flag_error(
                        "--momentum",
                        "only applies to --optimizer sgd",
                    ));
                }
                adam_default(lr)
            }
            OptName::Sgd => OptimizerKind::Sgd {
                lr,
                momentum: self.momentum.unwrap_or(0.0),
            },
        };
        if let Some(v) = self.batch_size {
            c.batch_size = v;
        }
        if let Some(v) = self.seed {
            c.seed = v;
        }
        if let Some(e) = self.epochs {
            c.stop = Stop::Epochs { epochs: e };
        }
        if self.until_interpolation {
            c.stop = Stop::UntilInterpolation {
                max_epochs: self.max_epochs.unwrap_or(1000),
            };
        }
        if let Some(t) = self.threads {
            c.threads = t;
        }
        c.init_from = self.init_from.clone();
        c.validate()?;
        Ok(c)
    }
}
