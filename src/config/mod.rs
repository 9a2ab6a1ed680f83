//! A run's settings, in one home: [`Settings`] as a person gives them
//! (flags, sweep keys), [`RunConfig`] as a run uses them (resolved, and
//! stored in every run file as its `config` attribute), [`RecordOpts`]
//! for what the file records, the paper's presets, and the checks that
//! turn impossible settings into usage errors before anything runs.

pub mod record;
pub mod settings;

pub use record::{RecordOpts, RecordSamples};
pub use settings::{DataLocation, Keyed, Kind, Settings};

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::data::{DatasetId, DatasetSpec};
use crate::error::{Error, Result};
use crate::model::Shape;
use crate::optim::OptimizerKind;

/// When training stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "kebab-case")]
pub enum Stop {
    /// After exactly this many epochs (or earlier on divergence).
    Epochs {
        /// Epochs to train.
        epochs: usize,
    },
    /// At the first epoch with 100% training accuracy, or at the cap.
    UntilInterpolation {
        /// The cap.
        max_epochs: usize,
    },
}

impl Stop {
    /// The most epochs this rule allows.
    pub fn max_epochs(&self) -> usize {
        match *self {
            Stop::Epochs { epochs } => epochs,
            Stop::UntilInterpolation { max_epochs } => max_epochs,
        }
    }
}

/// Everything that determines a run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunConfig {
    /// The dataset (name or folder).
    #[serde(serialize_with = "ser_spec", deserialize_with = "de_spec")]
    pub dataset: DatasetSpec,
    /// Training samples drawn from the pool.
    pub train_size: usize,
    /// Validation cap (`None` = the whole rest of the pool).
    pub val_size: Option<usize>,
    /// Architecture.
    pub shape: Shape,
    /// Optimiser and its hyperparameters.
    pub optimizer: OptimizerKind,
    /// Minibatch size.
    pub batch_size: usize,
    /// Seed of every random stream (init, split, shuffles).
    pub seed: u64,
    /// When to stop.
    pub stop: Stop,
    /// Threads for training and evaluation (0 = all cores, as
    /// [`crate::threads::Threads`] resolves it). Never changes results.
    pub threads: usize,
    /// Start from these weights instead of the seeded initialisation.
    pub init_from: Option<PathBuf>,
    /// The preset this started from, if any.
    pub preset: Option<char>,
    /// Seed of the train/validation split when it differs from `seed`
    /// (so several initialisations can share one validation set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split_seed: Option<u64>,
}

fn de_spec<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<DatasetSpec, D::Error> {
    let s = String::deserialize(d)?;
    DatasetSpec::parse(&s).map_err(serde::de::Error::custom)
}

fn ser_spec<S: serde::Serializer>(d: &DatasetSpec, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&d.label())
}

/// The paper's cases A-D (Venter et al. 2021, table 1) and its Fig. 1
/// model, with the learning rates `reproduce paper`'s earlier 3-value
/// grid chose on the real datasets (judged by the validation error at
/// the last of 200 epochs; docs/history.md). The 5-value grid of
/// docs/paper/REPORT.md picks B 0.3, C 3e-3 and Fig. 1 0.3 instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// 3x100, 5k MNIST, Adam lr 3e-3, batch 64.
    A,
    /// 3x100, 5k MNIST, SGD lr 0.1, batch 64.
    B,
    /// 3x100, 5k Fashion-MNIST, SGD lr 0.1, batch 64.
    C,
    /// 3x100, 55k Fashion-MNIST, Adam lr 3e-4, batch 16.
    D,
    /// The paper's Fig. 1 model: 1x1000, 5k Fashion-MNIST, SGD lr 0.1,
    /// batch 64 (`fig1`; its letter is `f`).
    Fig1,
}

/// Default Adam learning rate (PyTorch's).
pub(crate) const ADAM_LR: f64 = 1e-3;
/// Default SGD learning rate.
pub(crate) const SGD_LR: f64 = 0.01;
/// Default epochs for a fixed-length run.
pub(crate) const DEFAULT_EPOCHS: usize = 200;

impl Preset {
    /// `a`..`d` or `fig1` (also `f`; either case).
    pub fn parse(s: &str) -> Result<Preset> {
        match s.to_ascii_lowercase().as_str() {
            "a" => Ok(Preset::A),
            "b" => Ok(Preset::B),
            "c" => Ok(Preset::C),
            "d" => Ok(Preset::D),
            "f" | "fig1" => Ok(Preset::Fig1),
            _ => Err(Error::usage(format!(
                "--preset {s}: unknown preset; choose one of a, b, c, d, fig1"
            ))),
        }
    }

    /// The letter.
    pub fn letter(self) -> char {
        match self {
            Preset::A => 'a',
            Preset::B => 'b',
            Preset::C => 'c',
            Preset::D => 'd',
            Preset::Fig1 => 'f',
        }
    }

    /// Every preset, in `--preset` order.
    pub const ALL: [Preset; 5] = [Preset::A, Preset::B, Preset::C, Preset::D, Preset::Fig1];

    /// Its `--preset` value: `a`..`d` or `fig1`.
    pub fn flag(self) -> &'static str {
        match self {
            Preset::A => "a",
            Preset::B => "b",
            Preset::C => "c",
            Preset::D => "d",
            Preset::Fig1 => "fig1",
        }
    }

    /// How the report names it: `A`..`D`, or `Fig. 1`.
    pub fn label(self) -> &'static str {
        match self {
            Preset::A => "A",
            Preset::B => "B",
            Preset::C => "C",
            Preset::D => "D",
            Preset::Fig1 => "Fig. 1",
        }
    }

    /// The case's configuration.
    pub fn config(self) -> RunConfig {
        let (ds, n, adam, lr, batch) = match self {
            Preset::A => (DatasetId::Mnist, 5000, true, 3e-3, 64),
            Preset::B => (DatasetId::Mnist, 5000, false, 0.1, 64),
            Preset::C => (DatasetId::FashionMnist, 5000, false, 0.1, 64),
            Preset::D => (DatasetId::FashionMnist, 55_000, true, 3e-4, 16),
            Preset::Fig1 => (DatasetId::FashionMnist, 5000, false, 0.1, 64),
        };
        let (depth, width) = match self {
            Preset::Fig1 => (1, 1000),
            _ => (3, 100),
        };
        RunConfig {
            dataset: DatasetSpec::Named(ds),
            train_size: n,
            val_size: None,
            shape: Shape { depth, width },
            optimizer: if adam {
                adam_default(lr)
            } else {
                OptimizerKind::Sgd { lr, momentum: 0.0 }
            },
            batch_size: batch,
            seed: 0,
            stop: Stop::Epochs {
                epochs: DEFAULT_EPOCHS,
            },
            threads: 0,
            init_from: None,
            preset: Some(self.letter()),
            split_seed: None,
        }
    }
}

/// Adam with PyTorch's default betas and eps.
pub fn adam_default(lr: f64) -> OptimizerKind {
    OptimizerKind::Adam {
        lr,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
    }
}

impl RunConfig {
    /// Rejects settings no run can have (those that need the dataset's
    /// size are checked by the split).
    pub(crate) fn validate(&self) -> Result<()> {
        Shape::new(self.shape.depth, self.shape.width)?;
        if self.batch_size == 0 {
            return Err(Error::usage("--batch-size must be at least 1"));
        }
        if self.train_size == 0 {
            return Err(Error::usage("--train-size must be at least 1"));
        }
        let lr = self.optimizer.lr();
        if !(lr > 0.0 && lr.is_finite()) {
            return Err(Error::usage(format!(
                "--lr {lr}: the learning rate must be a positive number"
            )));
        }
        match self.optimizer {
            OptimizerKind::Sgd { momentum, .. } if !(0.0..1.0).contains(&momentum) => {
                return Err(Error::usage(format!(
                    "--momentum {momentum}: must be in [0, 1)"
                )));
            }
            OptimizerKind::Adam {
                beta1, beta2, eps, ..
            } if !((0.0..1.0).contains(&beta1) && (0.0..1.0).contains(&beta2) && eps > 0.0) => {
                return Err(Error::usage("Adam needs betas in [0, 1) and eps > 0"));
            }
            _ => {}
        }
        if self.stop.max_epochs() == 0 {
            return Err(Error::usage("--epochs / --max-epochs must be at least 1"));
        }
        Ok(())
    }

    /// The seed of the train/validation split.
    pub(crate) fn split_seed(&self) -> u64 {
        self.split_seed.unwrap_or(self.seed)
    }

    /// `"mnist 5000, 3x100, adam lr 0.001, batch 64, seed 0"`.
    pub fn title(&self) -> String {
        format!(
            "{} {}, {}, {} lr {}, batch {}, seed {}",
            self.dataset.label(),
            self.train_size,
            self.shape.label(),
            self.optimizer.name(),
            self.optimizer.lr(),
            self.batch_size,
            self.seed
        )
    }
}
