//! A run's settings as a person gives them, on the command line or in a
//! sweep spec, and their one table of keys.
//!
//! [`Settings`] is the one type both front ends fill: `train --width 100`
//! and a sweep's `width = 100` set the same field, through the same
//! deserialisation, so an unknown key is refused by the type itself
//! (`deny_unknown_fields`) and a new setting needs a field and a row in
//! [`Settings::KEYS`], nothing in `sweep/` or `cli/`. Every field is
//! optional; [`Settings::resolve`] applies the preset (or case A's
//! defaults) and the explicit values, and checks the result.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use toml::{Table, Value};

use super::record::{RecordOpts, RecordSamples};
use super::{adam_default, Preset, RunConfig, Stop, ADAM_LR, SGD_LR};
use crate::data::{DatasetSpec, Locator};
use crate::error::{Error, Result};
use crate::optim::OptimizerKind;

/// How a key's value is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A whole number (`5000`).
    Whole,
    /// A number (`0.001`, `1e-3`).
    Number,
    /// Free text.
    Text,
    /// A file or folder.
    Path,
    /// On when given (`--no-download`); `true`/`false` in a spec.
    Switch,
    /// One of these words.
    Choice(&'static [&'static str]),
    /// Two numbers, `LO,HI`.
    Pair,
}

/// One setting: its key (a flag without dashes, a spec key as it is),
/// how its value is written, and its help.
#[derive(Clone, Copy, Debug)]
pub struct Key {
    /// `train_size`; the flag is `--train-size`.
    pub name: &'static str,
    /// How the value is written.
    pub kind: Kind,
    /// The value's placeholder in `--help`.
    pub value_name: &'static str,
    /// One-line help, with the default.
    pub help: &'static str,
    /// The environment variable that gives the value when the flag is
    /// not given (shown in `--help`), if any.
    pub env: Option<&'static str>,
}

impl Key {
    /// This key, its value also read from environment variable `name`.
    const fn env(self, name: &'static str) -> Key {
        Key {
            env: Some(name),
            ..self
        }
    }

    /// `--train-size`.
    pub fn flag(&self) -> String {
        format!("--{}", self.name.replace('_', "-"))
    }

    /// The typed value of `text` given for this key, or a usage error
    /// naming the flag.
    pub fn parse(&self, text: &str) -> Result<Value> {
        let bad = |what: &str| Error::usage(format!("{} {text}: {what}", self.flag()));
        let number = |s: &str| s.trim().parse::<f64>().map_err(|_| bad("not a number"));
        Ok(match self.kind {
            Kind::Whole => Value::Integer(
                text.trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|v| *v >= 0)
                    .ok_or_else(|| bad("not a whole number"))?,
            ),
            Kind::Number => Value::Float(number(text)?),
            Kind::Switch => {
                Value::Boolean(text.parse().map_err(|_| bad("expected true or false"))?)
            }
            Kind::Text | Kind::Path => Value::String(text.to_string()),
            Kind::Choice(words) => {
                if !words.contains(&text) {
                    return Err(bad(&format!("choose one of {}", words.join(", "))));
                }
                Value::String(text.to_string())
            }
            Kind::Pair => {
                let v: Vec<f64> = text.split(',').map(number).collect::<Result<_>>()?;
                if v.len() != 2 {
                    return Err(bad("expected LO,HI"));
                }
                Value::Array(v.into_iter().map(Value::Float).collect())
            }
        })
    }
}

/// Types filled from a table of keys, on the command line and in specs.
pub trait Keyed: Sized + Default + Serialize + for<'de> Deserialize<'de> {
    /// Every key, in the order `--help` lists them.
    const KEYS: &'static [Key];

    /// The key called `name`.
    fn key(name: &str) -> Option<&'static Key> {
        Self::KEYS.iter().find(|k| k.name == name)
    }

    /// The settings `table` gives (keys as in [`Keyed::KEYS`], values
    /// typed); an unknown key or a value of the wrong type is a usage
    /// error that names it.
    fn from_table(table: Table) -> Result<Self> {
        if let Some(k) = table.keys().find(|k| Self::key(k).is_none()) {
            let known: Vec<&str> = Self::KEYS.iter().map(|k| k.name).collect();
            return Err(Error::usage(format!(
                "unknown setting `{k}`; the settings are {}",
                known.join(", ")
            )));
        }
        let message = |e: toml::de::Error| e.message().replace('\n', " ");
        Value::Table(table.clone()).try_into().map_err(|e| {
            // Name the key whose value is wrong, if one alone is.
            let culprit = table.iter().find_map(|(k, v)| {
                let one = Table::from_iter([(k.clone(), v.clone())]);
                let err = Value::Table(one).try_into::<Self>().err()?;
                Some(format!("`{k} = {v}`: {}", message(err)))
            });
            Error::usage(culprit.unwrap_or_else(|| message(e)))
        })
    }

    /// The settings the `(key, text)` pairs give, each parsed by its
    /// key's [`Kind`].
    fn from_pairs(pairs: &[(&str, &str)]) -> Result<Self> {
        let mut t = Table::new();
        for (name, text) in pairs {
            let key =
                Self::key(name).ok_or_else(|| Error::usage(format!("unknown setting `{name}`")))?;
            t.insert(name.to_string(), key.parse(text)?);
        }
        Self::from_table(t)
    }

    /// These settings as a table (unset fields left out).
    fn to_table(&self) -> Table {
        Table::try_from(self).unwrap_or_default()
    }
}

/// `LO,HI` (or `[LO, HI]` in a spec).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Range(pub f64, pub f64);

impl<'de> Deserialize<'de> for Range {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Pair(Vec<f64>),
        }
        let bad = || serde::de::Error::custom("expected LO,HI");
        let v: Vec<f64> = match Raw::deserialize(d)? {
            Raw::Pair(v) => v,
            Raw::Text(s) => s
                .split(',')
                .map(|x| x.trim().parse::<f64>())
                .collect::<std::result::Result<_, _>>()
                .map_err(|_| bad())?,
        };
        match v[..] {
            [lo, hi] => Ok(Range(lo, hi)),
            _ => Err(bad()),
        }
    }
}

/// The optimiser's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptName {
    /// torch.optim.Adam (betas 0.9, 0.999; eps 1e-8).
    Adam,
    /// torch.optim.SGD (optional momentum).
    Sgd,
}

/// Every setting of a run; `None` = the preset's value, else case A's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[allow(missing_docs)] // documented once, in `Settings::KEYS`
pub struct Settings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub train_size: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub val_size: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depth: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optimizer: Option<OptName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lr: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub momentum: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split_seed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epochs: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until_interpolation: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_epochs: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init_from: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_samples: Option<RecordSamples>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_margins: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoints_per_decade: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss_hist_range: Option<Range>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss_hist_bins_per_decade: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_hist_bins: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_hist_range: Option<f64>,
}

/// The cap of `until_interpolation` runs unless `max_epochs` is given.
pub(crate) const DEFAULT_MAX_EPOCHS: usize = 1000;

const fn key(name: &'static str, kind: Kind, value_name: &'static str, help: &'static str) -> Key {
    Key {
        name,
        kind,
        value_name,
        help,
        env: None,
    }
}

impl Keyed for Settings {
    const KEYS: &'static [Key] = &[
        key("preset", Kind::Choice(&["a", "b", "c", "d", "fig1"]), "CASE", "The paper's case: a (3x100, 5k MNIST, Adam lr 3e-3, b64), b (as a with SGD lr 0.1), c (3x100, 5k Fashion-MNIST, SGD lr 0.1, b64), d (3x100, 55k Fashion-MNIST, Adam lr 3e-4, b16), or fig1 (the paper's Fig. 1 model: 1x1000, 5k Fashion-MNIST, SGD lr 0.1, b64), learning rates from the earlier 3-value grid search (docs/history.md); explicit settings override it"),
        key("dataset", Kind::Text, "DATASET", "mnist, fashion-mnist, or a folder holding the four IDX files [default: mnist]"),
        key("train_size", Kind::Whole, "N", "Training samples drawn from the 60k pool [default: 5000]"),
        key("val_size", Kind::Whole, "N", "Cap on validation samples (0: none; only the evaluation set is then calibrated) [default: the rest of the pool]"),
        key("depth", Kind::Whole, "N", "Hidden layers [default: 3]"),
        key("width", Kind::Whole, "N", "Units per hidden layer [default: 100]"),
        key("optimizer", Kind::Choice(&["adam", "sgd"]), "NAME", "Optimiser: adam or sgd [default: adam]"),
        key("lr", Kind::Number, "LR", "Learning rate [default: 0.001 for Adam, 0.01 for SGD]"),
        key("momentum", Kind::Number, "M", "SGD momentum [default: 0]"),
        key("batch_size", Kind::Whole, "N", "Minibatch size [default: 64]"),
        key("seed", Kind::Whole, "SEED", "Seed of the initialisation, the split and the shuffles [default: 0]"),
        key("split_seed", Kind::Whole, "SEED", "Seed of the train/validation split, so several initialisations can share one validation set [default: --seed]"),
        key("epochs", Kind::Whole, "N", "Epochs to train [default: 200]"),
        key("until_interpolation", Kind::Switch, "", "Train until 100% training accuracy (or --max-epochs)"),
        key("max_epochs", Kind::Whole, "N", "Cap for --until-interpolation [default: 1000]"),
        key("threads", Kind::Whole, "N", "Threads for training (layers wide enough to pay) and evaluation, 0 = all cores [default: 0]; results do not depend on it"),
        key("init_from", Kind::Path, "FILE", "Start from the weights in this HDF5 file (see docs)"),
        key("record_samples", Kind::Choice(RecordSamples::NAMES), "WHICH", "Per-sample records in the run file: all (checkpoints, and validation at every epoch), checkpoints, or none [default: all; none in sweeps]"),
        key("record_margins", Kind::Switch, "", "Also record every sample's logit margin z_y - max_{j!=y} z_j at every epoch (validation and training sets; with --record-samples all), for the area under the margin"),
        key("checkpoints_per_decade", Kind::Whole, "N", "Checkpoints per decade of iterations in the run file, 0 = none [default: 20; 0 in sweeps]"),
        key("loss_hist_range", Kind::Pair, "LO,HI", "Loss histograms: the lowest and highest inner bin edges; smaller losses (exact zeros too) fall in an underflow bin, larger ones in an overflow bin [default: 1e-8,1e3]"),
        key("loss_hist_bins_per_decade", Kind::Whole, "N", "Loss histograms: log-spaced bins per decade [default: 10]"),
        key("weight_hist_bins", Kind::Whole, "N", "Weight and bias histograms: linear bins per layer over [-R/sqrt(fan_in), R/sqrt(fan_in)], plus underflow and overflow [default: 200]"),
        key("weight_hist_range", Kind::Number, "R", "Weight and bias histograms: R above [default: 16]"),
    ];
}

/// A usage error about `flag`.
fn flag_error(flag: &str, msg: impl std::fmt::Display) -> Error {
    Error::usage(format!("{flag}: {msg}"))
}

impl Settings {
    /// The keys that are set, in table order.
    pub fn given(&self) -> Vec<&'static str> {
        let t = self.to_table();
        Self::KEYS
            .iter()
            .map(|k| k.name)
            .filter(|n| t.contains_key(*n))
            .collect()
    }

    /// The run these settings describe: the preset (or case A's defaults
    /// without a preset name) with every explicit value applied, checked.
    pub fn resolve(&self) -> Result<RunConfig> {
        let mut c = match &self.preset {
            Some(p) => Preset::parse(p)?.config(),
            // Without a preset: case A's model and data, the default
            // learning rate (PyTorch's for Adam).
            None => RunConfig {
                preset: None,
                optimizer: adam_default(ADAM_LR),
                ..Preset::A.config()
            },
        };
        if let Some(d) = &self.dataset {
            c.dataset = DatasetSpec::parse(d)?;
        }
        c.train_size = self.train_size.unwrap_or(c.train_size);
        c.val_size = self.val_size.or(c.val_size);
        c.shape.depth = self.depth.unwrap_or(c.shape.depth);
        c.shape.width = self.width.unwrap_or(c.shape.width);
        c.optimizer = self.optimizer_kind(c.optimizer)?;
        c.batch_size = self.batch_size.unwrap_or(c.batch_size);
        c.seed = self.seed.unwrap_or(c.seed);
        c.split_seed = self.split_seed.or(c.split_seed);
        c.stop = self.stop(c.stop)?;
        c.threads = self.threads.unwrap_or(c.threads);
        c.init_from = self.init_from.clone();
        c.validate()?;
        Ok(c)
    }

    /// The optimiser: a change of optimiser takes its default learning
    /// rate unless `lr` is given.
    fn optimizer_kind(&self, preset: OptimizerKind) -> Result<OptimizerKind> {
        let preset_name = match preset {
            OptimizerKind::Adam { .. } => OptName::Adam,
            OptimizerKind::Sgd { .. } => OptName::Sgd,
        };
        let name = self.optimizer.unwrap_or(preset_name);
        let lr = self.lr.unwrap_or(if name == preset_name {
            preset.lr()
        } else if name == OptName::Adam {
            ADAM_LR
        } else {
            SGD_LR
        });
        match name {
            OptName::Adam if self.momentum.is_some() => {
                Err(flag_error("--momentum", "only applies to --optimizer sgd"))
            }
            OptName::Adam => Ok(adam_default(lr)),
            OptName::Sgd => Ok(OptimizerKind::Sgd {
                lr,
                momentum: self.momentum.unwrap_or(0.0),
            }),
        }
    }

    /// The stop rule.
    fn stop(&self, preset: Stop) -> Result<Stop> {
        let until = self.until_interpolation.unwrap_or(false);
        match (until, self.epochs, self.max_epochs) {
            (true, Some(_), _) => Err(flag_error(
                "--epochs",
                "cannot be used with --until-interpolation (use --max-epochs for its cap)",
            )),
            (false, _, Some(_)) => Err(flag_error(
                "--max-epochs",
                "only applies with --until-interpolation",
            )),
            (true, None, cap) => Ok(Stop::UntilInterpolation {
                max_epochs: cap.unwrap_or(DEFAULT_MAX_EPOCHS),
            }),
            (false, Some(epochs), None) => Ok(Stop::Epochs { epochs }),
            (false, None, None) => Ok(preset),
        }
    }

    /// The recording options: `base` with every explicit value applied,
    /// checked.
    pub fn record_opts(&self, base: RecordOpts) -> Result<RecordOpts> {
        let mut o = base;
        o.samples = self.record_samples.unwrap_or(o.samples);
        o.per_decade = self.checkpoints_per_decade.unwrap_or(o.per_decade);
        o.margins = self.record_margins.unwrap_or(o.margins);
        if let Some(Range(lo, hi)) = self.loss_hist_range {
            if !(lo > 0.0 && hi > lo && hi.is_finite()) {
                return Err(flag_error(
                    "--loss-hist-range",
                    "expected LO,HI with 0 < LO < HI (e.g. 1e-8,1e3)",
                ));
            }
            (o.loss_lo, o.loss_hi) = (lo, hi);
        }
        let count = |flag: &str, n: usize, lo: usize, hi: usize| {
            if (lo..=hi).contains(&n) {
                Ok(n)
            } else {
                Err(flag_error(flag, format!("must be between {lo} and {hi}")))
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
                return Err(flag_error(
                    "--weight-hist-range",
                    "must be a positive number",
                ));
            }
            o.weight_range = r;
        }
        let bins = (o.loss_hi / o.loss_lo).log10() * o.loss_bins_per_decade as f64;
        if bins > 100_000.0 {
            return Err(flag_error(
                "--loss-hist-range",
                "too many bins for this range and --loss-hist-bins-per-decade",
            ));
        }
        Ok(o)
    }
}

/// Where datasets are found: the same three flags for every command.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataLocation {
    /// Searched first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// Replaces the canonical mirrors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mirror: Option<String>,
    /// Never download.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_download: bool,
}

impl Keyed for DataLocation {
    const KEYS: &'static [Key] = &[
        key("data_dir", Kind::Path, "DIR", "Folder searched first for the dataset's files (then $PREINTERP_DATA_DIR, then the cache, then a download)"),
        key("mirror", Kind::Text, "URL", "Download from this base URL instead of the canonical mirrors ({dataset} in it stands for mnist or fashion-mnist)").env("PREINTERP_MIRROR"),
        key("no_download", Kind::Switch, "", "Never download; fail if the files are not found"),
    ];
}

impl DataLocation {
    /// The locator for this process (the environment fills the rest).
    pub fn locator(&self) -> Locator {
        Locator::from_env(
            self.data_dir.clone(),
            self.mirror.clone(),
            !self.no_download,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Result<Settings> {
        Settings::from_pairs(p)
    }

    #[test]
    fn every_field_has_a_key_and_every_key_a_field() {
        let keys: Vec<&str> = Settings::KEYS.iter().map(|k| k.name).collect();
        // A table with every key set deserialises, so each key is a field.
        let mut all = Table::new();
        for k in Settings::KEYS {
            let v = match k.kind {
                Kind::Whole => Value::Integer(1),
                Kind::Number => Value::Float(0.5),
                Kind::Switch => Value::Boolean(true),
                Kind::Choice(w) => Value::String(w[0].into()),
                Kind::Pair => Value::String("1e-8,1e3".into()), // as a spec may write it
                Kind::Text | Kind::Path => Value::String("x".into()),
            };
            all.insert(k.name.into(), v);
        }
        let s = Settings::from_table(all).unwrap();
        // ... and every field of the filled value is a key.
        assert_eq!(s.given(), keys);
        assert_eq!(s.to_table().len(), keys.len());
        for k in DataLocation::KEYS {
            assert!(DataLocation::key(k.name).is_some());
        }
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_by_name() {
        let e = Settings::from_table(toml::from_str("widthh = 3").unwrap()).unwrap_err();
        assert!(e.to_string().starts_with("unknown setting `widthh`"), "{e}");
        let e = pairs(&[("lr", "abc")]).unwrap_err();
        assert_eq!(e.to_string(), "--lr abc: not a number");
        let e = pairs(&[("width", "-3")]).unwrap_err();
        assert!(e.to_string().starts_with("--width -3"), "{e}");
        let e = pairs(&[("optimizer", "adamw")]).unwrap_err();
        assert!(e.to_string().contains("adam, sgd"), "{e}");
        let e = Settings::from_table(toml::from_str("width = \"x\"").unwrap()).unwrap_err();
        assert!(e.to_string().contains("width"), "{e}");
    }

    #[test]
    fn help_defaults_are_the_defaults() {
        let base = Settings::default().resolve().unwrap();
        let rec = RecordOpts::default();
        for k in Settings::KEYS {
            let Some(start) = k.help.find("[default: ") else {
                continue;
            };
            let v = &k.help[start + 10..];
            let v = &v[..v.find([']', ';']).unwrap()];
            let Ok(s) = Settings::from_pairs(&[(k.name, v)]) else {
                continue; // prose, such as "the rest of the pool"
            };
            let Ok(c) = s.resolve() else { continue };
            assert_eq!(
                serde_json::to_value(&c).unwrap(),
                serde_json::to_value(&base).unwrap(),
                "{}: help says default {v}",
                k.name
            );
            assert_eq!(s.record_opts(rec).unwrap(), rec, "{}", k.name);
        }
    }

    #[test]
    fn presets_and_overrides_resolve() {
        let c = pairs(&[("preset", "c"), ("optimizer", "adam")])
            .unwrap()
            .resolve()
            .unwrap();
        assert_eq!(c.optimizer, adam_default(ADAM_LR));
        assert_eq!(c.preset, Some('c'));
        // The presets' own learning rates, from the grid search.
        let lr = |p: &str| {
            pairs(&[("preset", p)])
                .unwrap()
                .resolve()
                .unwrap()
                .optimizer
        };
        assert_eq!(lr("a"), adam_default(3e-3));
        assert_eq!(lr("d"), adam_default(3e-4));
        assert_eq!(
            lr("b"),
            OptimizerKind::Sgd {
                lr: 0.1,
                momentum: 0.0
            }
        );
        let plain = pairs(&[]).unwrap().resolve().unwrap();
        assert_eq!(plain.optimizer, adam_default(ADAM_LR));
        let c = pairs(&[("until_interpolation", "true")])
            .unwrap()
            .resolve()
            .unwrap();
        assert_eq!(
            c.stop,
            Stop::UntilInterpolation {
                max_epochs: DEFAULT_MAX_EPOCHS
            }
        );
        let e = pairs(&[("epochs", "3"), ("until_interpolation", "true")])
            .unwrap()
            .resolve()
            .unwrap_err();
        assert!(e.to_string().starts_with("--epochs"), "{e}");
        let e = pairs(&[("max_epochs", "3")])
            .unwrap()
            .resolve()
            .unwrap_err();
        assert!(e.to_string().starts_with("--max-epochs"), "{e}");
        let r = pairs(&[("loss_hist_range", "1e-6,10")])
            .unwrap()
            .record_opts(RecordOpts::default())
            .unwrap();
        assert_eq!((r.loss_lo, r.loss_hi), (1e-6, 10.0));
    }
}
