//! Sweep specs: TOML files that expand into named runs with stable ids,
//! and static shards of them (`--shard I/N` or a Slurm job array's
//! `SLURM_ARRAY_TASK_ID`/`SLURM_ARRAY_TASK_COUNT`); without shards, any
//! number of `sweep run` workers share one folder as a work queue
//! (see [`run`]).
//!
//! ```toml
//! name = "fig2"
//! [fixed]                     # settings every run shares
//! dataset = "mnist"
//! until_interpolation = true
//! max_epochs = 500
//! [axes]                      # every combination, in this order
//! width = [7, 10, 13]
//! [[variants]]                # and each variant; a list in a variant
//! optimizer = "adam"          # is one more axis of that variant
//! seed = [0, 1, 2]
//! [[variants]]
//! optimizer = "sgd"
//! lr = 0.1
//! seed = [0, 1]
//! ```
//!
//! Several variant groups (`[[variants_model]]`, `[[variants_opt]]`:
//! any top-level array of tables whose name starts with `variants`) are
//! crossed with each other, in spec order. `select_best = "lr"` makes
//! `sweep collect` pick, among runs that differ only in `lr`, the one
//! with the best validation error at the last epoch (a learning-rate grid
//! search); `extend_edges = N` extends a grid whose pick is an edge, and
//! `seeds = S` trains each pick with S seeds ([`protocol`]).
//!
//! Keys are the run settings of [`crate::config::Settings`] (`train`
//! flags without dashes: `train_size`, `batch_size`, `lr`, ...), read by
//! the same deserialisation as the flags, so a new setting needs nothing
//! here. A run's id joins the axis and variant values in spec
//! order (`width-7_optimizer-adam_seed-0`), so the same spec always gives
//! the same ids, and adding a value to an axis adds runs without
//! renaming the others.

use std::path::{Path, PathBuf};

mod claim;
pub mod collect;
pub mod cost;
mod lsq;
pub mod measured;
pub mod plan;
pub mod protocol;
pub mod row;
pub mod run;
pub mod schedule;
pub mod schema;
pub mod select;
pub mod timing;
pub mod workload;

use toml::{Table, Value};

use crate::config::{Keyed, RecordOpts, RunConfig, Settings};
use crate::error::{Error, Result};
pub use protocol::Origin;

/// One run of a sweep.
#[derive(Clone, Debug)]
pub struct SweepRun {
    /// Stable id, also the run file's stem.
    pub id: String,
    /// Its settings as given (key, value as written), fixed ones first.
    pub settings: Vec<(String, String)>,
    /// The validated configuration.
    pub cfg: RunConfig,
    /// What its run file records.
    pub record: RecordOpts,
    /// Listed by the spec, or added by the protocol.
    pub origin: Origin,
    /// Its axis and variant values, in spec order (the id's parts).
    pub(crate) named: Named,
}

/// A parsed, expanded sweep.
#[derive(Clone, Debug)]
pub struct Sweep {
    /// The spec's `name`.
    pub name: String,
    /// Where it was read from.
    pub path: PathBuf,
    /// Every run, in expansion order.
    pub runs: Vec<SweepRun>,
    /// The setting a grid search selects over (`select_best`), if any.
    pub select_best: Option<String>,
    /// Steps a grid may extend past a picked edge (`extend_edges`).
    pub extend_edges: usize,
    /// Seeds each pick is trained with, its own included (`seeds`).
    pub seeds: usize,
    /// The settings under the spec's (the command line's).
    pub(crate) base: Settings,
    /// The spec's `[fixed]` values.
    pub(crate) fixed: Named,
}

/// Named lists of values, in spec order.
type Axes = Vec<(String, Vec<Value>)>;

/// One run's named values, in spec order.
type Named = Vec<(String, Value)>;

fn spec_err(path: &Path, msg: impl std::fmt::Display) -> Error {
    Error::usage(format!("{}: {msg}", path.display()))
}

/// A single value, as a run id and the settings list show it.
fn shown(path: &Path, key: &str, v: &Value) -> Result<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Integer(i) => Ok(i.to_string()),
        Value::Float(f) => Ok(f.to_string()),
        Value::Boolean(b) => Ok(b.to_string()),
        _ => Err(spec_err(
            path,
            format!("`{key}` must be a string, number or boolean (or a list of them on an axis)"),
        )),
    }
}

/// `(key, values)`: a list gives its elements, a scalar itself.
fn values(path: &Path, key: &str, v: &Value) -> Result<Vec<Value>> {
    let vals = match v {
        Value::Array(a) if a.is_empty() => {
            return Err(spec_err(path, format!("`{key}` is an empty list")))
        }
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    };
    for x in &vals {
        shown(path, key, x)?;
    }
    Ok(vals)
}

/// Every combination of `axes`, the first axis varying slowest.
fn product(axes: &[(String, Vec<Value>)]) -> Vec<Named> {
    let mut out: Vec<Named> = vec![vec![]];
    for (k, vals) in axes {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                vals.iter().map(move |v| {
                    let mut p = prefix.clone();
                    p.push((k.clone(), v.clone()));
                    p
                })
            })
            .collect();
    }
    out
}

fn id_part(v: &str) -> String {
    v.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The spec's top-level keys, checked.
struct TopLevel {
    name: String,
    select_best: Option<String>,
    extend_edges: usize,
    seeds: usize,
}

/// Most steps `extend_edges` may ask for.
const MAX_EXTEND: i64 = 10;

/// An integer top-level key in `lo..=hi` (`default` when absent).
fn int_key(path: &Path, t: &Table, key: &str, lo: i64, hi: i64, default: usize) -> Result<usize> {
    match t.get(key) {
        None => Ok(default),
        Some(Value::Integer(i)) if (lo..=hi).contains(i) => Ok(*i as usize),
        Some(v) => Err(spec_err(
            path,
            format!("`{key} = {v}`: must be a whole number from {lo} to {hi}"),
        )),
    }
}

fn check_top_level(path: &Path, t: &Table) -> Result<TopLevel> {
    let name = match t.get("name") {
        Some(Value::String(s)) => s.clone(),
        _ => return Err(spec_err(path, "needs `name = \"...\"`")),
    };
    for k in t.keys() {
        let known = [
            "name",
            "description",
            "fixed",
            "axes",
            "select_best",
            "extend_edges",
            "seeds",
        ]
        .contains(&k.as_str());
        if !known && !k.starts_with("variants") {
            return Err(spec_err(path, format!("unknown top-level key `{k}`")));
        }
    }
    let select_best = match t.get("select_best") {
        None => None,
        Some(Value::String(k)) => Some(k.clone()),
        Some(_) => {
            return Err(spec_err(
                path,
                "`select_best` must name a setting, e.g. \"lr\"",
            ))
        }
    };
    let extend_edges = int_key(path, t, "extend_edges", 0, MAX_EXTEND, 0)?;
    let seeds = int_key(path, t, "seeds", 1, 1000, 1)?;
    if select_best.is_none() && (extend_edges > 0 || seeds > 1) {
        return Err(spec_err(
            path,
            "`extend_edges` and `seeds` need a grid search (`select_best = \"lr\"`)",
        ));
    }
    Ok(TopLevel {
        name,
        select_best,
        extend_edges,
        seeds,
    })
}

/// Each variant group's alternatives, each as its list of axes.
fn variant_groups(path: &Path, t: &Table) -> Result<Vec<Vec<Axes>>> {
    let mut groups = vec![];
    for (k, v) in t.iter().filter(|(k, _)| k.starts_with("variants")) {
        let tables = match v {
            Value::Array(items) => items
                .iter()
                .map(|i| i.as_table())
                .collect::<Option<Vec<_>>>(),
            _ => None,
        };
        let tables =
            tables.ok_or_else(|| spec_err(path, format!("`{k}` must be [[{k}]] tables")))?;
        let alts = tables
            .into_iter()
            .map(|x| {
                x.iter()
                    .map(|(k, v)| Ok((k.clone(), values(path, k, v)?)))
                    .collect::<Result<Axes>>()
            })
            .collect::<Result<Vec<_>>>()?;
        groups.push(alts);
    }
    Ok(groups)
}

/// Every choice of one alternative per group, as its list of axes.
fn choices(groups: &[Vec<Axes>]) -> Vec<Axes> {
    let mut out: Vec<Axes> = vec![vec![]];
    for g in groups {
        out = out
            .iter()
            .flat_map(|c| {
                g.iter()
                    .map(move |alt| c.iter().cloned().chain(alt.iter().cloned()).collect())
            })
            .collect();
    }
    out
}

impl Sweep {
    /// Reads and expands the spec at `path`, validating every run.
    /// (`base`: the command line's settings, under the spec's.)
    pub fn read(path: &Path, base: &Settings) -> Result<Sweep> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io(path, format!("cannot read the sweep spec: {e}")))?;
        Self::parse(path, &text, base)
    }

    /// The runs of shard `shard`, in order.
    pub fn shard_runs(&self, shard: Shard) -> Vec<&SweepRun> {
        self.runs
            .iter()
            .enumerate()
            .filter(|(k, _)| shard.contains(*k))
            .map(|(_, r)| r)
            .collect()
    }

    /// Expands spec `text` (read from `path`) on top of `base`
    /// settings (the command line's); the spec's values win.
    pub fn parse(path: &Path, text: &str, base: &Settings) -> Result<Sweep> {
        let t: Table = text.parse().map_err(|e: toml::de::Error| {
            spec_err(path, format!("not valid TOML: {}", e.message()))
        })?;
        let TopLevel {
            name,
            select_best,
            extend_edges,
            seeds,
        } = check_top_level(path, &t)?;
        let table = |k: &str| -> Result<Table> {
            match t.get(k) {
                None => Ok(Table::new()),
                Some(Value::Table(x)) => Ok(x.clone()),
                Some(_) => Err(spec_err(path, format!("`{k}` must be a table"))),
            }
        };
        let fixed: Named = table("fixed")?.into_iter().collect();
        for (k, v) in &fixed {
            shown(path, k, v)?;
        }
        let axes: Axes = table("axes")?
            .iter()
            .map(|(k, v)| Ok((k.clone(), values(path, k, v)?)))
            .collect::<Result<_>>()?;
        let mut runs = vec![];
        let mut seen = std::collections::HashSet::new();
        for vaxes in choices(&variant_groups(path, &t)?) {
            for a in product(&axes) {
                for b in product(&vaxes) {
                    let named: Named = a.iter().chain(&b).cloned().collect();
                    let run = expand(path, base, &fixed, named)?;
                    if !seen.insert(run.id.clone()) {
                        return Err(spec_err(
                            path,
                            format!("two runs would have the id {}", run.id),
                        ));
                    }
                    runs.push(run);
                }
            }
        }
        if seeds > 1
            && runs
                .iter()
                .any(|r| r.named.iter().any(|(k, _)| k == "seed"))
        {
            return Err(spec_err(
                path,
                "`seeds` trains each pick with more seeds: a `seed` axis or variant beside it would name the same runs twice",
            ));
        }
        if let Some(k) = &select_best {
            if !runs.iter().any(|r| r.settings.iter().any(|(x, _)| x == k)) {
                return Err(spec_err(
                    path,
                    format!("`select_best = \"{k}\"` names a setting no run has"),
                ));
            }
        }
        Ok(Sweep {
            name,
            path: path.to_path_buf(),
            runs,
            select_best,
            extend_edges,
            seeds,
            base: base.clone(),
            fixed,
        })
    }
}

/// One run: its id from the `named` (axis and variant) values, its
/// settings from `base`, then `fixed`, then `named`.
pub(crate) fn expand(
    path: &Path,
    base: &Settings,
    fixed: &Named,
    named: Named,
) -> Result<SweepRun> {
    let mut id = vec![];
    for (k, v) in &named {
        id.push(format!("{k}-{}", id_part(&shown(path, k, v)?)));
    }
    let id = if id.is_empty() {
        "run".to_string()
    } else {
        id.join("_")
    };
    let mut table = base.to_table();
    let mut settings = vec![];
    for (k, v) in fixed.iter().chain(&named) {
        settings.push((k.clone(), shown(path, k, v)?));
        table.insert(k.clone(), v.clone());
    }
    let run_err = |e: Error| spec_err(path, format!("run {id}: {e}"));
    let s = Settings::from_table(table).map_err(run_err)?;
    let cfg = s.resolve().map_err(run_err)?;
    let record = s
        .record_opts(RecordOpts::sweep_default())
        .map_err(run_err)?;
    Ok(SweepRun {
        id,
        settings,
        cfg,
        record,
        origin: Origin::Spec,
        named,
    })
}

/// Shard `index` (0-based) of `count`: run `k` belongs to shard
/// `k % count`, which spreads every axis over the shards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 0-based.
    pub index: usize,
    /// Shards in all.
    pub count: usize,
}

impl Shard {
    /// The whole sweep.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// `"I/N"`, 1-based (`1/2`, `2/2`).
    pub fn parse(s: &str) -> Result<Shard> {
        let bad = || {
            Error::usage(format!(
                "--shard {s}: expected I/N with 1 <= I <= N, e.g. 1/4"
            ))
        };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (i, n): (usize, usize) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if n == 0 || i == 0 || i > n {
            return Err(bad());
        }
        Ok(Shard {
            index: i - 1,
            count: n,
        })
    }

    /// The shard of a Slurm job-array task, if the variables are set
    /// (`SLURM_ARRAY_TASK_ID` counts from `SLURM_ARRAY_TASK_MIN`, 0 by default).
    pub fn from_slurm(get: impl Fn(&str) -> Option<String>) -> Result<Option<Shard>> {
        let (Some(id), Some(count)) = (get("SLURM_ARRAY_TASK_ID"), get("SLURM_ARRAY_TASK_COUNT"))
        else {
            return Ok(None);
        };
        let bad = || {
            Error::usage(format!(
                "SLURM_ARRAY_TASK_ID={id} / SLURM_ARRAY_TASK_COUNT={count} are not a valid shard"
            ))
        };
        let min: usize = get("SLURM_ARRAY_TASK_MIN")
            .and_then(|m| m.parse().ok())
            .unwrap_or(0);
        let (id, count): (usize, usize) = (
            id.parse().map_err(|_| bad())?,
            count.parse().map_err(|_| bad())?,
        );
        if count == 0 || id < min || id - min >= count {
            return Err(bad());
        }
        Ok(Some(Shard {
            index: id - min,
            count,
        }))
    }

    /// Whether run number `k` belongs to this shard.
    pub fn contains(&self, k: usize) -> bool {
        k % self.count == self.index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = r#"
name = "t"
[fixed]
dataset = "mnist"
train_size = 100
epochs = 2
[axes]
width = [7, 10]
[[variants]]
optimizer = "adam"
seed = [0, 1, 2]
[[variants]]
optimizer = "sgd"
lr = 0.1
seed = [0, 1]
"#;

    #[test]
    fn expands_to_stable_ids_in_spec_order() {
        let s = Sweep::parse(Path::new("t.toml"), SPEC, &Settings::default()).unwrap();
        let ids: Vec<&str> = s.runs.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids.len(), 10);
        assert_eq!(ids[0], "width-7_optimizer-adam_seed-0");
        assert_eq!(ids[3], "width-10_optimizer-adam_seed-0");
        assert_eq!(ids[6], "width-7_optimizer-sgd_lr-0.1_seed-0");
        let again = Sweep::parse(Path::new("t.toml"), SPEC, &Settings::default()).unwrap();
        assert!(again.runs.iter().zip(&s.runs).all(|(a, b)| a.id == b.id));
        let r = &s.runs[7];
        assert_eq!(
            (
                r.cfg.shape.width,
                r.cfg.seed,
                r.cfg.optimizer.name(),
                r.cfg.optimizer.lr()
            ),
            (7, 1, "sgd", 0.1)
        );
        assert_eq!(r.cfg.train_size, 100);
    }

    #[test]
    fn variant_groups_are_crossed() {
        let spec = r#"
name = "g"
select_best = "lr"
[fixed]
dataset = "mnist"
epochs = 1
[[variants_model]]
depth = 1
width = [100, 1000]
[[variants_model]]
depth = 3
width = 100
batch_size = [16, 256]
[[variants_opt]]
optimizer = "adam"
lr = [0.001, 0.003]
[[variants_opt]]
optimizer = "sgd"
lr = 0.1
"#;
        let s = Sweep::parse(Path::new("g.toml"), spec, &Settings::default()).unwrap();
        // (2 + 2 models) x (2 + 1 optimiser settings) = 12 runs.
        assert_eq!(s.runs.len(), 12);
        assert_eq!(s.runs[0].id, "depth-1_width-100_optimizer-adam_lr-0.001");
        assert_eq!(
            s.runs[11].id,
            "depth-3_width-100_batch_size-256_optimizer-sgd_lr-0.1"
        );
        assert_eq!(s.select_best.as_deref(), Some("lr"));
        assert_eq!(s.runs[11].cfg.batch_size, 256);
    }

    #[test]
    fn bad_specs_name_the_file_and_the_key() {
        for (text, needle) in [
            ("name = 1", "needs `name"),
            (
                "name = \"x\"\n[fixed]\nwidthh = 3",
                "unknown setting `widthh`",
            ),
            ("name = \"x\"\n[axes]\nwidth = []", "empty list"),
            ("name = \"x\"\n[fixed]\nwidth = 0", "--width"),
            (
                "name = \"x\"\n[axes]\nwidth = [5, 5]",
                "two runs would have the id",
            ),
            ("name = \"x\"\nfoo = 2", "unknown top-level key"),
        ] {
            let e = Sweep::parse(Path::new("s.toml"), text, &Settings::default()).unwrap_err();
            assert!(
                e.to_string().starts_with("s.toml: ") && e.to_string().contains(needle),
                "{e}"
            );
            assert_eq!(e.exit_code(), 2);
        }
    }

    #[test]
    fn shards_partition_the_runs() {
        let a = Shard::parse("1/3").unwrap();
        let b = Shard::parse("2/3").unwrap();
        let c = Shard::parse("3/3").unwrap();
        for k in 0..20 {
            assert_eq!([a, b, c].iter().filter(|s| s.contains(k)).count(), 1);
        }
        for bad in ["0/2", "3/2", "x", "1/0", "1-2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        let env = |id: &'static str, n: &'static str| {
            move |k: &str| match k {
                "SLURM_ARRAY_TASK_ID" => Some(id.to_string()),
                "SLURM_ARRAY_TASK_COUNT" => Some(n.to_string()),
                _ => None,
            }
        };
        assert_eq!(
            Shard::from_slurm(env("1", "4")).unwrap(),
            Some(Shard { index: 1, count: 4 })
        );
        assert!(Shard::from_slurm(env("4", "4")).is_err());
        assert_eq!(Shard::from_slurm(|_| None).unwrap(), None);
    }
}
