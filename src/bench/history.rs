//! Benchmark history: saved reports, the machine fingerprint they carry,
//! the noise-aware comparison of two reports, and the JSON formats that
//! continuous-benchmarking services ingest (Bencher Metric Format and
//! github-action-benchmark's `customSmallerIsBetter`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::workloads::Stat;
use super::{BenchReport, Section};
use crate::data::registry::DatasetId;
use crate::error::{Error, ErrorKind, Result};

/// The `format` field of a saved report.
pub(crate) const FORMAT: &str = "preinterp-bench";
/// The `schema` version of a saved report.
pub(crate) const SCHEMA: u32 = 1;
/// Folder of named results unless `$PREINTERP_BENCH_DIR` says otherwise.
pub(crate) const DEFAULT_DIR: &str = "bench-results";

/// Where a saved result called `name` lives: `name` itself when it
/// looks like a path (has a `/` or ends in `.json`), else
/// `$PREINTERP_BENCH_DIR/NAME.json` (default `bench-results/`).
pub(crate) fn path_for(name: &str) -> PathBuf {
    if name.contains('/') || name.ends_with(".json") {
        return PathBuf::from(name);
    }
    let dir = std::env::var_os("PREINTERP_BENCH_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DIR));
    dir.join(format!("{name}.json"))
}

/// Writes `report` as `name` (see [`path_for`]); returns the path.
pub fn save(report: &BenchReport, name: &str) -> Result<PathBuf> {
    let path = path_for(name);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(dir, format!("--save {name}: cannot create the folder: {e}")))?;
    }
    let text = serde_json::to_string_pretty(report)
        .map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?;
    std::fs::write(&path, text + "\n")
        .map_err(|e| Error::io(&path, format!("--save {name}: cannot write: {e}")))?;
    Ok(path)
}

/// Reads the saved result `name`, with one line saying what is wrong
/// when it is missing, unreadable or not a preinterp bench report.
pub fn load(name: &str) -> Result<BenchReport> {
    let path = path_for(name);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        let why = if e.kind() == std::io::ErrorKind::NotFound {
            "no saved bench result there (save one with `preinterp bench --save NAME`)".to_string()
        } else {
            format!("cannot read it: {e}")
        };
        Error::new(
            ErrorKind::Data,
            format!("--compare {name}: {}: {why}", path.display()),
        )
    })?;
    let foreign = |why: String| {
        Error::new(
            ErrorKind::Data,
            format!(
                "--compare {name}: {}: not a preinterp bench result ({why})",
                path.display()
            ),
        )
    };
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| foreign(format!("not JSON: {e}")))?;
    if v.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(foreign(format!("no \"format\": \"{FORMAT}\" field")));
    }
    if v.get("schema").and_then(|s| s.as_u64()) != Some(SCHEMA as u64) {
        return Err(foreign(format!("schema is not {SCHEMA}")));
    }
    serde_json::from_value(v).map_err(|e| foreign(e.to_string()))
}

/// What a comparison says about one workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Within the noise or the threshold.
    Same,
    /// Slower beyond the threshold and beyond the noise.
    Slower,
    /// Faster beyond the threshold and beyond the noise.
    Faster,
    /// In one report only.
    Missing,
}

/// One workload compared.
#[derive(Clone, Debug, Serialize)]
pub struct Change {
    /// The workload's key.
    pub key: String,
    /// Old median ms (NaN when missing).
    pub old: f64,
    /// New median ms (NaN when missing).
    pub new: f64,
    /// `new / old - 1`, percent.
    pub pct: f64,
    /// The verdict.
    pub verdict: Verdict,
    /// When it first looked slower and was timed again: the rerun's
    /// change, percent (the verdict is then the rerun's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rerun_pct: Option<f64>,
}

/// The comparison of a new report with a saved one.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// How the machines differ (then nothing is compared).
    pub other_machine: Option<String>,
    /// Per workload.
    pub changes: Vec<Change>,
    /// The threshold used, percent.
    pub threshold_pct: f64,
}

impl Comparison {
    /// Whether any workload got slower.
    pub fn regressed(&self) -> bool {
        self.changes.iter().any(|c| c.verdict == Verdict::Slower)
    }
}

/// The verdict on `old` -> `new`: a change counts only when the medians
/// differ by more than `threshold_pct` *and* the middle halves of the
/// two sets of repeats do not overlap (the new lower quartile above the
/// old upper quartile, or the reverse), so the machine's noise widens
/// what passes instead of failing, and one outlier decides nothing.
pub fn verdict(old: &Stat, new: &Stat, threshold_pct: f64) -> Verdict {
    let pct = 100.0 * (new.median / old.median - 1.0);
    let (o, n) = (quartiles(&old.runs), quartiles(&new.runs));
    if pct > threshold_pct && n.0 > o.1 {
        Verdict::Slower
    } else if pct < -threshold_pct && n.1 < o.0 {
        Verdict::Faster
    } else {
        Verdict::Same
    }
}

/// Lower and upper quartiles (medians of the lower and upper halves).
fn quartiles(runs: &[f64]) -> (f64, f64) {
    let mut s = runs.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n < 2 {
        let v = s.first().copied().unwrap_or(f64::NAN);
        return (v, v);
    }
    let half = n / 2;
    let lower = Stat::of(s[..half].to_vec()).median;
    let upper = Stat::of(s[n - half..].to_vec()).median;
    (lower, upper)
}

/// Compares `new` with `old` workload by workload.
pub fn compare(old: &BenchReport, new: &BenchReport, threshold_pct: f64) -> Comparison {
    let other_machine = new.fingerprint.machine.differs(&old.fingerprint.machine);
    let mut changes = vec![];
    if other_machine.is_none() {
        let olds = old.metrics();
        let news = new.metrics();
        for (key, n) in &news {
            let change = match olds.iter().find(|(k, _)| k == key) {
                Some((_, o)) => Change {
                    key: key.clone(),
                    old: o.median,
                    new: n.median,
                    pct: 100.0 * (n.median / o.median - 1.0),
                    verdict: verdict(o, n, threshold_pct),
                    rerun_pct: None,
                },
                None => Change {
                    key: key.clone(),
                    old: f64::NAN,
                    new: n.median,
                    pct: f64::NAN,
                    verdict: Verdict::Missing,
                    rerun_pct: None,
                },
            };
            changes.push(change);
        }
    }
    Comparison {
        other_machine,
        changes,
        threshold_pct,
    }
}

impl Comparison {
    /// The parts and datasets to time again to confirm the workloads
    /// that look slower (see [`Comparison::confirm`]).
    pub fn to_confirm(&self) -> (Vec<Section>, Vec<DatasetId>) {
        let (mut parts, mut sets) = (vec![], vec![]);
        for ch in self.changes.iter().filter(|c| c.verdict == Verdict::Slower) {
            let Some((part, set)) = part_of(&ch.key) else {
                continue;
            };
            if !parts.contains(&part) {
                parts.push(part);
            }
            if !sets.contains(&set) {
                sets.push(set);
            }
        }
        (parts, sets)
    }

    /// Confirms or clears each workload that looked slower with its
    /// timing in `rerun` (made just after): a machine's passing burst
    /// of load slows one run, a regression slows both. The rerun's
    /// verdict stands.
    pub fn confirm(&mut self, old: &BenchReport, rerun: &BenchReport) {
        let (olds, news) = (old.metrics(), rerun.metrics());
        for ch in self
            .changes
            .iter_mut()
            .filter(|c| c.verdict == Verdict::Slower)
        {
            let find = |m: &[(String, &'_ Stat)]| {
                m.iter().find(|(k, _)| *k == ch.key).map(|x| x.1.clone())
            };
            if let (Some(o), Some(n)) = (find(&olds), find(&news)) {
                ch.rerun_pct = Some(100.0 * (n.median / o.median - 1.0));
                ch.verdict = verdict(&o, &n, self.threshold_pct);
            }
        }
    }
}

/// The part and dataset a workload key (`train/3x100-b64/mnist`, ...)
/// comes from.
fn part_of(key: &str) -> Option<(Section, DatasetId)> {
    let fields: Vec<&str> = key.split('/').collect();
    let set = DatasetId::parse(fields.last()?)?;
    let part = match fields[0] {
        "train" => fields.get(1)?.parse().ok()?,
        "eval" => Section::Eval,
        "monitored" => Section::Monitored,
        "fig3" => Section::Fig3,
        "dense" => Section::Sparse,
        _ => return None,
    };
    Some((part, set))
}

/// Bencher Metric Format: `{key: {"latency": {value, lower_value,
/// upper_value}}}` in nanoseconds (median, fastest, slowest repeat).
pub fn bmf(report: &BenchReport) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for (key, s) in report.metrics() {
        m.insert(
            key,
            serde_json::json!({"latency": {
                "value": s.median * 1e6,
                "lower_value": s.min * 1e6,
                "upper_value": s.max * 1e6,
            }}),
        );
    }
    serde_json::Value::Object(m)
}

/// github-action-benchmark's `customSmallerIsBetter`: a list of
/// `{name, unit, value, range, extra}`, in ms.
pub fn github_smaller_is_better(report: &BenchReport) -> serde_json::Value {
    let rows: Vec<_> = report
        .metrics()
        .into_iter()
        .map(|(key, s)| {
            serde_json::json!({
                "name": key,
                "unit": "ms",
                "value": s.median,
                "range": format!("± {:.1}%", s.spread_pct()),
                "extra": format!("min {:.3} max {:.3} over {} repeats; {}", s.min, s.max, s.runs.len(), report.fingerprint.machine.cpu),
            })
        })
        .collect();
    serde_json::Value::Array(rows)
}

/// `path` for messages.
pub fn shown(path: &Path) -> String {
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_cores_is_tall_whatever_the_core_count() {
        use crate::bench::threads_key;
        assert_eq!(threads_key(2, 2), "tall");
        assert_eq!(threads_key(64, 64), "tall");
        assert_eq!(threads_key(1, 2), "t1");
        assert_eq!(threads_key(1, 1), "t1");
        assert_eq!(threads_key(4, 16), "t4");
    }

    #[test]
    fn workload_keys_name_the_part_to_time_again() {
        let want = [
            (
                "train/3x100-b64/mnist",
                Section::Train(3, 100, 64),
                DatasetId::Mnist,
            ),
            (
                "train/10x100-b64/fashion-mnist",
                Section::Train(10, 100, 64),
                DatasetId::FashionMnist,
            ),
            ("eval/3x1000/tall/mnist", Section::Eval, DatasetId::Mnist),
            ("eval/3x1000/t2/mnist", Section::Eval, DatasetId::Mnist),
            (
                "monitored/fashion-mnist",
                Section::Monitored,
                DatasetId::FashionMnist,
            ),
            ("fig3/3x1000-b16/mnist", Section::Fig3, DatasetId::Mnist),
            (
                "dense/train/3x100-b16/mnist",
                Section::Sparse,
                DatasetId::Mnist,
            ),
        ];
        for (key, part, set) in want {
            assert_eq!(part_of(key), Some((part, set)), "{key}");
        }
        assert_eq!(part_of("train/3x100-b64/cifar"), None);
        assert_eq!(part_of("scaling/3x100/mnist"), None);
    }

    fn stat(v: &[f64]) -> Stat {
        Stat::of(v.to_vec())
    }

    #[test]
    fn verdicts_need_the_threshold_and_separated_middle_halves() {
        let base = stat(&[10.0, 10.2, 10.1, 9.9, 10.0, 10.3, 9.8]);
        // Same numbers, and one wild outlier: same.
        assert_eq!(
            verdict(
                &base,
                &stat(&[10.0, 10.2, 10.1, 9.9, 10.0, 10.3, 30.0]),
                5.0
            ),
            Verdict::Same
        );
        // 20% slower throughout: slower; 20% faster: faster.
        let slow: Vec<f64> = base.runs.iter().map(|x| x * 1.2).collect();
        let fast: Vec<f64> = base.runs.iter().map(|x| x * 0.8).collect();
        assert_eq!(verdict(&base, &stat(&slow), 5.0), Verdict::Slower);
        assert_eq!(verdict(&base, &stat(&fast), 5.0), Verdict::Faster);
        // 3% slower is under the threshold; a noisy 20% inside the spread is noise.
        let bit: Vec<f64> = base.runs.iter().map(|x| x * 1.03).collect();
        assert_eq!(verdict(&base, &stat(&bit), 5.0), Verdict::Same);
        let noisy = stat(&[8.0, 16.0, 9.0, 15.0, 12.0, 8.5, 14.0]);
        assert_eq!(
            verdict(&stat(&[8.0, 15.0, 9.0, 14.0, 10.0, 8.2, 13.0]), &noisy, 5.0),
            Verdict::Same
        );
    }
}
