//! What `compare` writes: the output folder (refusing a foreign one),
//! `compare.h5` (xarray-ready, names from [`super::schema`]) and the
//! `compare.json` summary.

use std::path::{Path, PathBuf};

use hdf5::types::VarLenUnicode;
use hdf5::{Dataset, Group};
use serde::Serialize;

use super::schema::{self as cs, run};
use super::set::{gather, SetComparison};
use super::{is_compare_output, Comparison, RunInfo, RunInput};
use crate::error::{Error, ErrorKind, Result};
use crate::record::h5::{self, attr_num, attr_str, coord_values, describe, unicode, var_values};
use crate::record::schema::{self, attr, Var};
use crate::record::{cf, h5ds};

/// Makes `dir` ready: created if missing; a previous compare output's
/// files are removed; any other non-empty folder is refused unless
/// `force`.
pub(crate) fn prepare_out(dir: &Path, force: bool) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::usage(format!(
            "--out {}: exists and is not a folder",
            dir.display()
        )));
    }
    if dir.is_dir() {
        let mut entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
        if entries.next().is_some() {
            if is_compare_output(dir) {
                remove_previous(dir)?;
            } else if !force {
                return Err(Error::usage(format!(
                    "--out {}: the folder is not empty and holds no earlier compare output; pass --force to write into it, or choose another --out",
                    dir.display()
                )));
            }
        }
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(dir, format!("cannot create the output folder: {e}")))
}

/// Removes what an earlier comparison listed in its `compare.json`
/// (plain file names in `dir` only), and its two files.
fn remove_previous(dir: &Path) -> Result<()> {
    let json = dir.join("compare.json");
    let listed: Vec<String> = std::fs::read_to_string(&json)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("files").cloned())
        .and_then(|f| serde_json::from_value(f).ok())
        .unwrap_or_default();
    let names = listed
        .into_iter()
        .chain(["compare.json".to_string(), "compare.h5".to_string()]);
    for name in names {
        let p = dir.join(&name);
        let plain = Path::new(&name).components().count() == 1;
        if plain && p.is_file() {
            std::fs::remove_file(&p).map_err(|e| Error::io(&p, e))?;
        }
    }
    Ok(())
}

/// A string coordinate `v` (a dimension scale of its own name).
fn string_coord(g: &Group, v: &Var<'_>, values: &[&str]) -> hdf5::Result<Dataset> {
    let ds = g
        .new_dataset::<VarLenUnicode>()
        .shape(values.len())
        .create(v.name)?;
    ds.write_raw(&unicode(values.iter().copied())?)?;
    describe(&ds, v)?;
    h5ds::set_scale(&ds, v.name)?;
    Ok(ds)
}

/// A string variable `v` over `dim`.
fn string_var(g: &Group, v: &Var<'_>, dim: &Dataset, values: &[&str]) -> hdf5::Result<()> {
    let ds = g
        .new_dataset::<VarLenUnicode>()
        .shape(values.len())
        .create(v.name)?;
    ds.write_raw(&unicode(values.iter().copied())?)?;
    describe(&ds, v)?;
    h5ds::attach_scale(&ds, dim, 0)
}

/// Writes `DIR/compare.h5`; returns its path.
pub(crate) fn write_h5(dir: &Path, c: &Comparison, runs: &[RunInput]) -> Result<PathBuf> {
    let path = dir.join("compare.h5");
    write_file(&path, c, runs).map_err(|e| h5::err(&path, "cannot write", e))?;
    Ok(path)
}

fn write_file(path: &Path, c: &Comparison, runs: &[RunInput]) -> hdf5::Result<()> {
    let f = hdf5::File::create(path)?;
    cf::globals(&f)?;
    let strings = [
        (attr::CONVENTIONS, schema::CONVENTIONS.to_string()),
        (
            attr::TITLE,
            format!("preinterp compare: {} runs", c.runs.len()),
        ),
        (attr::TOOL, "preinterp".into()),
        (attr::TOOL_VERSION, env!("CARGO_PKG_VERSION").into()),
        ("top_k", c.top_k.clone()),
        ("definitions", DEFINITIONS.join(" ")),
    ];
    for (k, v) in &strings {
        attr_str(&f, k, v)?;
    }
    let ids: Vec<&str> = c.runs.iter().map(|r| r.id.as_str()).collect();
    let rc = string_coord(&f, &cs::RUN, &ids)?;
    let col = |v: &Var, get: fn(&RunInfo) -> String| -> hdf5::Result<()> {
        let vals: Vec<String> = c.runs.iter().map(get).collect();
        let refs: Vec<&str> = vals.iter().map(String::as_str).collect();
        string_var(&f, v, &rc, &refs)
    };
    col(&run::TITLE, |r| r.title.clone())?;
    col(&run::FILE, |r| r.path.display().to_string())?;
    col(&run::CONFIG, |r| r.config.to_string())?;
    col(&run::STATUS, |r| r.status.clone())?;
    let g = f.create_group(cs::VAL)?;
    attr_str(&g, attr::DESCRIPTION, "validation set at each run's last recorded epoch (/val_per_epoch), on the samples every run holds")?;
    let dims = write_set(&g, &ids, &c.val)?;
    write_val_extras(&g, &dims, &c.val, runs)?;
    if let Some(e) = &c.eval {
        let g = f.create_group(cs::EVAL)?;
        attr_str(
            &g,
            attr::DESCRIPTION,
            "evaluation (test) set at each run's last checkpoint (/checkpoints/eval_loss)",
        )?;
        write_set(&g, &ids, e)?;
    }
    Ok(())
}

/// The coordinates of a set's group.
struct Dims {
    run: Dataset,
    run_b: Dataset,
    sample: Dataset,
    k: Dataset,
}

/// One set's comparison into `g`.
fn write_set(g: &Group, ids: &[&str], s: &SetComparison) -> hdf5::Result<Dims> {
    let d = Dims {
        run: string_coord(g, &cs::RUN, ids)?,
        run_b: string_coord(g, &cs::RUN_B, ids)?,
        sample: coord_values::<u32>(g, &cs::SAMPLE, &s.sample)?,
        k: coord_values::<i64>(g, &cs::K, &(0..=ids.len() as i64).collect::<Vec<_>>())?,
    };
    attr_num(g, "top_k", s.k as i64)?;
    attr_num(g, "shared_samples", s.sample.len() as i64)?;
    let ints = |v: &[usize]| v.iter().map(|&x| x as i64).collect::<Vec<i64>>();
    var_values::<i64>(g, &cs::AT, &[&d.run], &s.at)?;
    var_values::<i64>(g, &cs::OWN_SAMPLES, &[&d.run], &ints(&s.own_samples))?;
    var_values::<f64>(g, &cs::FENCE, &[&d.run], &s.fence)?;
    var_values::<i64>(g, &cs::N_OUTLIERS, &[&d.run], &ints(&s.n_outliers))?;
    var_values::<i64>(g, &cs::N_OUTLIERS_OWN, &[&d.run], &ints(&s.n_outliers_own))?;
    let p = &s.pairs;
    let mats = [
        &p.jaccard_outliers,
        &p.jaccard_outliers_chance,
        &p.jaccard_top_k,
        &p.jaccard_top_k_chance,
        &p.spearman,
    ];
    for (v, m) in cs::PAIRS.iter().zip(mats) {
        var_values::<f64>(g, v, &[&d.run, &d.run_b], &m.v)?;
    }
    let loss: Vec<f32> = s.loss.concat();
    var_values::<f32>(g, &cs::FINAL_LOSS, &[&d.run, &d.sample], &loss)?;
    let flags: Vec<u8> = s.outlier.iter().flatten().map(|&b| b as u8).collect();
    var_values::<u8>(g, &cs::OUTLIER, &[&d.run, &d.sample], &flags)?;
    let runs: Vec<i64> = s.outlier_runs.iter().map(|&x| x as i64).collect();
    var_values::<i64>(g, &cs::OUTLIER_RUNS, &[&d.sample], &runs)?;
    let hist: Vec<i64> = s.hist.iter().map(|&x| x as i64).collect();
    var_values::<i64>(g, &cs::HIST, &[&d.k], &hist)?;
    var_values::<f64>(g, &cs::HIST_INDEPENDENT, &[&d.k], &s.hist_independent)?;
    Ok(d)
}

/// The validation group's extras: epochs above the fence, and labels
/// and predictions where every run recorded them.
fn write_val_extras(g: &Group, d: &Dims, s: &SetComparison, runs: &[RunInput]) -> hdf5::Result<()> {
    let above: Vec<i64> = runs
        .iter()
        .flat_map(|r| gather(&r.val.sample, &r.epochs_above, &s.sample))
        .map(i64::from)
        .collect();
    var_values::<i64>(g, &cs::EPOCHS_ABOVE, &[&d.run, &d.sample], &above)?;
    let preds: Option<Vec<Vec<u8>>> = runs
        .iter()
        .map(|r| {
            r.val
                .pred
                .as_ref()
                .map(|p| gather(&r.val.sample, p, &s.sample))
        })
        .collect();
    if let Some(p) = preds {
        var_values::<u8>(g, &cs::PRED, &[&d.run, &d.sample], &p.concat())?;
    }
    let labelled = runs.iter().find_map(|r| r.label.as_ref().map(|l| (r, l)));
    if let Some((r, l)) = labelled {
        let l = gather(&r.val.sample, l, &s.sample);
        var_values::<u8>(g, &cs::LABEL, &[&d.sample], &l)?;
    }
    Ok(())
}

/// What is computed, one sentence each (in `compare.h5` and
/// `compare.json`).
pub(crate) const DEFINITIONS: [&str; 6] = [
    "Samples: a run's validation samples are matched to another's by their index in the dataset file (the val_sample coordinate); only the samples every run holds are compared.",
    "Final: each run's last recorded epoch (validation) and its last checkpoint (evaluation).",
    "Outliers: samples whose final loss lies strictly above the run's upper Tukey fence Q3 + 1.5 (Q3 - Q1), quantiles linear-interpolated (numpy's default) over the run's own whole set, then restricted to the shared samples.",
    "Top-k: each run's k highest final losses among the shared samples (equal losses: the lower dataset index first).",
    "Chance: the exact expected Jaccard index of two sets of the same sizes drawn uniformly at random from the shared samples (hypergeometric overlap, E[J] = sum_k P(k) k / (a + b - k)).",
    "Spearman: Pearson's correlation of the two runs' average ranks of their final losses on the shared samples.",
];

/// One pair of runs in `compare.json`.
#[derive(Serialize)]
struct Pair<'a> {
    a: &'a str,
    b: &'a str,
    jaccard_outliers: f64,
    jaccard_outliers_chance: f64,
    jaccard_top_k: f64,
    jaccard_top_k_chance: f64,
    spearman: f64,
}

/// One run in a set's summary.
#[derive(Serialize)]
struct PerRun<'a> {
    id: &'a str,
    at: i64,
    own_samples: usize,
    fence: f64,
    n_outliers: usize,
    n_outliers_own: usize,
}

/// One set in `compare.json`.
#[derive(Serialize)]
struct SetSummary<'a> {
    shared_samples: usize,
    top_k: usize,
    runs: Vec<PerRun<'a>>,
    pairs: Vec<Pair<'a>>,
    outlier_in_k_runs: &'a [u64],
    outlier_in_k_runs_if_independent: &'a [f64],
}

fn set_summary<'a>(ids: &[&'a str], s: &'a SetComparison) -> SetSummary<'a> {
    let p = &s.pairs;
    let mut pairs = vec![];
    for a in 0..ids.len() {
        for b in a + 1..ids.len() {
            pairs.push(Pair {
                a: ids[a],
                b: ids[b],
                jaccard_outliers: p.jaccard_outliers.get(a, b),
                jaccard_outliers_chance: p.jaccard_outliers_chance.get(a, b),
                jaccard_top_k: p.jaccard_top_k.get(a, b),
                jaccard_top_k_chance: p.jaccard_top_k_chance.get(a, b),
                spearman: p.spearman.get(a, b),
            });
        }
    }
    SetSummary {
        shared_samples: s.sample.len(),
        top_k: s.k,
        runs: (0..ids.len())
            .map(|i| PerRun {
                id: ids[i],
                at: s.at[i],
                own_samples: s.own_samples[i],
                fence: s.fence[i],
                n_outliers: s.n_outliers[i],
                n_outliers_own: s.n_outliers_own[i],
            })
            .collect(),
        pairs,
        outlier_in_k_runs: &s.hist,
        outlier_in_k_runs_if_independent: &s.hist_independent,
    }
}

/// The whole `compare.json`.
#[derive(Serialize)]
pub struct Summary<'a> {
    tool: &'static str,
    tool_version: &'static str,
    runs: &'a [RunInfo],
    top_k: &'a str,
    definitions: [&'static str; 6],
    val: SetSummary<'a>,
    eval: Option<SetSummary<'a>>,
    notes: &'a [String],
    files: Vec<String>,
}

/// Writes `compare.json` to `path`.
pub(crate) fn write_json(path: &Path, c: &Comparison) -> Result<()> {
    let ids: Vec<&str> = c.runs.iter().map(|r| r.id.as_str()).collect();
    let s = Summary {
        tool: "preinterp compare",
        tool_version: env!("CARGO_PKG_VERSION"),
        runs: &c.runs,
        top_k: &c.top_k,
        definitions: DEFINITIONS,
        val: set_summary(&ids, &c.val),
        eval: c.eval.as_ref().map(|e| set_summary(&ids, e)),
        notes: &c.notes,
        files: c
            .files
            .iter()
            .filter_map(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .collect(),
    };
    let text =
        serde_json::to_string_pretty(&s).map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?;
    std::fs::write(path, text + "\n").map_err(|e| Error::io(path, e))
}
