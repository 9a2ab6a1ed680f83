//! `preinterp compare`: are the samples that carry the validation loss
//! the same ones across runs (seeds, widths, optimisers)?
//!
//! For the validation samples every run shares (matched by their index
//! in the dataset file) at each run's last recorded epoch, and for the
//! evaluation set at each run's last checkpoint: for every pair of runs
//! the Jaccard index of their final above-fence sets (each run's own
//! upper Tukey fence, [`crate::analysis::upper_fence`], over its own
//! whole set), the Jaccard index of their top-k loss sets, each next to
//! its chance level ([`stats::expected_jaccard`]), and Spearman's rank
//! correlation of their final losses; per sample, the number of runs it
//! is an outlier in. Written to `compare.h5` (xarray-ready),
//! `compare.json` and figures; `docs/compare.md` describes them.

pub mod input;
mod output;
mod picture;
pub mod schema;
pub mod set;
pub mod stats;

use std::cmp::Ordering;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::data::Locator;
use crate::error::{Error, Result};
pub(crate) use input::{RunInput, SetFinal};
pub use set::{Matrix, SetComparison, TopK};

/// How to compare.
#[derive(Clone, Debug)]
pub struct Options {
    /// The output folder.
    pub out: PathBuf,
    /// Write into a non-empty folder that is not a compare output.
    pub force: bool,
    /// The size of the top-k sets.
    pub top_k: TopK,
    /// Where the dataset is found (for the gallery's images).
    pub locator: Locator,
}

/// A run as the comparison lists it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RunInfo {
    /// Its id (the file's stem, made unique).
    pub id: String,
    /// Its file.
    pub path: PathBuf,
    /// Its title.
    pub title: String,
    /// Its status when read.
    pub status: String,
    /// Its configuration.
    pub config: Value,
}

/// What a comparison found and wrote.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// The runs, ordered by configuration.
    pub runs: Vec<RunInfo>,
    /// The validation set compared.
    pub val: SetComparison,
    /// The evaluation set compared, when every run recorded it.
    pub eval: Option<SetComparison>,
    /// How k was chosen.
    pub top_k: String,
    /// What was skipped or is worth knowing, one sentence each.
    pub notes: Vec<String>,
    /// Files written.
    pub files: Vec<PathBuf>,
    /// The output folder.
    pub out: PathBuf,
}

/// The run files of `inputs`: a file stands for itself, a folder (a
/// `sweep run --out` folder) for its `*.h5` files other than `sweep.h5`.
pub fn expand(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = vec![];
    for p in inputs {
        if !p.is_dir() {
            files.push(p.clone());
            continue;
        }
        let rd = std::fs::read_dir(p).map_err(|e| Error::io(p, e))?;
        let mut found: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|f| f.is_file() && f.extension().is_some_and(|x| x == "h5"))
            .filter(|f| {
                f.file_name()
                    .is_some_and(|n| n != crate::sweep::schema::FILE)
            })
            .collect();
        if found.is_empty() {
            return Err(Error::usage(format!(
                "{}: no run files (*.h5) in this folder",
                p.display()
            )));
        }
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

/// The default output folder: `DIR/compare` for a folder, else
/// `compare/` next to the first run file.
pub fn default_out(inputs: &[PathBuf]) -> PathBuf {
    match inputs.first() {
        Some(p) if p.is_dir() => p.join("compare"),
        Some(p) => p
            .parent()
            .map_or_else(|| PathBuf::from("compare"), |d| d.join("compare")),
        None => PathBuf::from("compare"),
    }
}

/// Compares the run files `paths` and writes the results into
/// `opts.out`.
pub fn compare(paths: &[PathBuf], opts: &Options) -> Result<Comparison> {
    if paths.len() < 2 {
        let one = paths
            .first()
            .map_or(String::new(), |p| p.display().to_string());
        return Err(Error::usage(format!(
            "compare {one}: needs at least two runs (give a run twice to compare it with itself)"
        )));
    }
    let mut runs = read_runs(paths)?;
    check_datasets(&runs)?;
    order_by_configuration(&mut runs);
    let mut notes = dataset_notes(&runs);
    let vals: Vec<&SetFinal> = runs.iter().map(|r| &r.val).collect();
    let val = set::compare_set(&vals, opts.top_k).ok_or_else(|| no_shared(&runs))?;
    let eval = compare_eval(&runs, opts.top_k, &mut notes);
    output::prepare_out(&opts.out, opts.force)?;
    let mut c = Comparison {
        runs: runs.iter().map(run_info).collect(),
        val,
        eval,
        top_k: opts.top_k.describe(),
        notes,
        files: vec![],
        out: opts.out.clone(),
    };
    c.files.push(output::write_h5(&opts.out, &c, &runs)?);
    let figures = picture::draw(&c, &runs, &opts.locator)?;
    c.notes.extend(figures.notes);
    c.files.extend(figures.files);
    let json = opts.out.join("compare.json");
    c.files.push(json.clone());
    output::write_json(&json, &c)?;
    Ok(c)
}

/// Reads every run; ids are file stems, with `-2`, `-3`, .. added to
/// repeats.
fn read_runs(paths: &[PathBuf]) -> Result<Vec<RunInput>> {
    let mut ids: Vec<String> = vec![];
    let mut runs = vec![];
    for p in paths {
        let stem = p
            .file_stem()
            .map_or_else(|| "run".to_string(), |s| s.to_string_lossy().into_owned());
        let mut id = stem.clone();
        let mut n = 1;
        while ids.contains(&id) {
            n += 1;
            id = format!("{stem}-{n}");
        }
        ids.push(id.clone());
        runs.push(RunInput::read(p, id)?);
    }
    Ok(runs)
}

/// Runs on different data are refused: the four dataset files' SHA-256
/// must agree.
fn check_datasets(runs: &[RunInput]) -> Result<()> {
    let first = &runs[0];
    for r in &runs[1..] {
        if r.dataset_sha256 != first.dataset_sha256 {
            let short = |r: &RunInput| {
                let s = r
                    .dataset_sha256
                    .first()
                    .map_or("none", |s| &s[..s.len().min(12)]);
                format!("{} (dataset {}, sha256 {s}..)", r.path.display(), r.dataset)
            };
            return Err(Error::usage(format!(
                "{} and {} were trained on different datasets; compare needs runs on one dataset",
                short(first),
                short(r)
            )));
        }
    }
    Ok(())
}

/// A note when the same files carry different dataset labels.
fn dataset_notes(runs: &[RunInput]) -> Vec<String> {
    let mut labels: Vec<&str> = runs.iter().map(|r| r.dataset.as_str()).collect();
    labels.sort_unstable();
    labels.dedup();
    if labels.len() > 1 {
        vec![format!(
            "the runs name their dataset differently ({}) but read files with the same SHA-256",
            labels.join(", ")
        )]
    } else {
        vec![]
    }
}

/// The refusal when the runs share no validation sample, naming a pair
/// that shares none if there is one.
fn no_shared(runs: &[RunInput]) -> Error {
    for (i, a) in runs.iter().enumerate() {
        for b in &runs[i + 1..] {
            if set::shared_samples(&[&a.val.sample, &b.val.sample]).is_empty() {
                return Error::usage(format!(
                    "{} and {} share no validation samples (their splits differ); train them with one --split-seed",
                    a.path.display(),
                    b.path.display()
                ));
            }
        }
    }
    Error::usage(format!(
        "the {} runs share no validation sample all together (each pair shares some); compare fewer runs or train them with one --split-seed",
        runs.len()
    ))
}

/// The evaluation set compared, or a note on why not.
fn compare_eval(runs: &[RunInput], top: TopK, notes: &mut Vec<String>) -> Option<SetComparison> {
    let mut evals = vec![];
    for r in runs {
        match &r.eval {
            Ok(e) => evals.push(e),
            Err(why) => {
                notes.push(format!(
                    "evaluation set not compared: {}: {why}",
                    r.path.display()
                ));
                return None;
            }
        }
    }
    let c = set::compare_set(&evals, top);
    if c.is_none() {
        notes.push("evaluation set not compared: the runs share no evaluation sample".into());
    }
    c
}

fn run_info(r: &RunInput) -> RunInfo {
    RunInfo {
        id: r.id.clone(),
        path: r.path.clone(),
        title: r.title.trim_start_matches("preinterp run: ").to_string(),
        status: r.status.clone(),
        config: serde_json::from_str(&r.config).unwrap_or(Value::Null),
    }
}

/// The settings runs are ordered by, most significant first; any other
/// settings follow in name order, then the id.
const ORDER: [&str; 13] = [
    "/dataset",
    "/train_size",
    "/val_size",
    "/shape/depth",
    "/shape/width",
    "/optimizer/kind",
    "/optimizer/lr",
    "/optimizer/momentum",
    "/batch_size",
    "/stop",
    "/preset",
    "/split_seed",
    "/seed",
];

/// Every leaf of `v` as (JSON pointer, value).
fn leaves(v: &Value, at: String, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                leaves(x, format!("{at}/{k}"), out);
            }
        }
        other => out.push((at, other.clone())),
    }
}

/// The sort key of a configuration.
fn config_key(config: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(config).unwrap_or(Value::Null);
    let mut key: Vec<Value> = ORDER
        .iter()
        .map(|p| v.pointer(p).cloned().unwrap_or(Value::Null))
        .collect();
    let mut rest = vec![];
    leaves(&v, String::new(), &mut rest);
    rest.retain(|(p, _)| !ORDER.iter().any(|o| p.starts_with(o)));
    rest.sort_by(|a, b| a.0.cmp(&b.0));
    key.extend(rest.into_iter().map(|(_, x)| x));
    key
}

/// Orders JSON values: null, then numbers (numerically), then anything
/// else by its text.
fn cmp_value(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            x.total_cmp(&y)
        }
        (Value::Number(_), _) => Ordering::Less,
        (_, Value::Number(_)) => Ordering::Greater,
        _ => a.to_string().cmp(&b.to_string()),
    }
}

/// Sorts runs by their configuration (stable; the id breaks ties).
fn order_by_configuration(runs: &mut [RunInput]) {
    let mut keyed: Vec<(Vec<Value>, usize)> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| (config_key(&r.config), i))
        .collect();
    keyed.sort_by(|(ka, ia), (kb, ib)| {
        ka.iter()
            .zip(kb)
            .map(|(a, b)| cmp_value(a, b))
            .find(|o| o.is_ne())
            .unwrap_or(ka.len().cmp(&kb.len()))
            .then(runs[*ia].id.cmp(&runs[*ib].id))
    });
    let order: Vec<usize> = keyed.into_iter().map(|(_, i)| i).collect();
    let sorted: Vec<RunInput> = order.iter().map(|&i| runs[i].clone()).collect();
    for (slot, r) in runs.iter_mut().zip(sorted) {
        *slot = r;
    }
}

/// Whether `dir` holds a previous compare output.
pub(crate) fn is_compare_output(dir: &Path) -> bool {
    dir.join("compare.json").is_file() || dir.join("compare.h5").is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configurations_order_width_before_seed() {
        let cfg = |w: u32, seed: u32, lr: f64| {
            format!(
                r#"{{"dataset":"mnist","train_size":5000,"shape":{{"depth":3,"width":{w}}},"optimizer":{{"kind":"adam","lr":{lr}}},"seed":{seed},"threads":0}}"#
            )
        };
        let mut keys = [
            (cfg(100, 1, 0.001), "a"),
            (cfg(20, 2, 0.001), "b"),
            (cfg(100, 0, 0.001), "c"),
            (cfg(20, 0, 0.01), "d"),
        ];
        keys.sort_by(|a, b| {
            let (ka, kb) = (config_key(&a.0), config_key(&b.0));
            ka.iter()
                .zip(&kb)
                .map(|(x, y)| cmp_value(x, y))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        });
        let ids: Vec<&str> = keys.iter().map(|k| k.1).collect();
        assert_eq!(ids, ["b", "d", "c", "a"]);
    }

    #[test]
    fn default_out_and_too_few_runs() {
        let p = PathBuf::from("/x/runs/a.h5");
        assert_eq!(
            default_out(std::slice::from_ref(&p)),
            PathBuf::from("/x/runs/compare")
        );
        let o = Options {
            out: "/nonexistent".into(),
            force: false,
            top_k: TopK::default(),
            locator: Locator::default(),
        };
        let e = compare(&[p], &o).unwrap_err();
        assert!(e.to_string().contains("give a run twice"), "{e}");
    }
}
