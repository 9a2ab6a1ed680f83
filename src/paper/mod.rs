//! `reproduce paper`: the whole paper in one folder. Three parts, each
//! a sweep run like `sweep run` (finished runs skipped, unfinished ones
//! resumed): cases A-D with fig3's learning-rate grid, the fig2 sweep,
//! and a fig3 sweep (quick or full). Then every figure of the paper and
//! a claims table, judged by criteria fixed in [`claims`], in
//! `DIR/REPORT.md`. [`reproduce::reproduce`] runs it all, reporting
//! progress to its caller.
//!
//! ```text
//! DIR/reproduction.json      marks the folder as a reproduction
//! DIR/timings.json           wall time of each part, over invocations
//! DIR/paper-cases/           the cases' sweep (sweep.toml, <id>.h5, ...)
//! DIR/paper-cases/case-a/    case A's report (figures 1, 5, 6, 7)
//! DIR/fig2/, DIR/fig3-quick/ (or fig3/)  the sweeps and their scatter plots
//! DIR/REPORT.md              the report
//! ```

pub mod claims;
pub mod criteria;
mod evidence;
mod markdown;
pub mod reproduce;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{Preset, Settings};
use crate::data::Locator;
use crate::error::{Error, Result};
use crate::report;
use crate::sweep::collect::{self, Collected};
use crate::sweep::Sweep;
use claims::Judged;

/// Which fig3 sweep to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fig3 {
    /// `sweeps/fig3-quick.toml`: 96 runs, under an hour on 2 cores.
    Quick,
    /// `sweeps/fig3.toml`: 240 runs, many core-hours.
    Full,
}

impl Fig3 {
    /// `quick` or `full`.
    pub fn parse(s: &str) -> Result<Fig3> {
        match s {
            "quick" => Ok(Fig3::Quick),
            "full" => Ok(Fig3::Full),
            _ => Err(Error::usage(format!("--fig3 {s}: choose quick or full"))),
        }
    }

    fn spec_file(self) -> &'static str {
        match self {
            Fig3::Quick => "fig3-quick.toml",
            Fig3::Full => "fig3.toml",
        }
    }

    fn builtin(self) -> &'static str {
        match self {
            Fig3::Quick => include_str!("../../sweeps/fig3-quick.toml"),
            Fig3::Full => include_str!("../../sweeps/fig3.toml"),
        }
    }
}

/// What each part is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Cases A-D and their learning-rate grid.
    Cases,
    /// Figure 2.
    Fig2,
    /// Figure 3.
    Fig3,
}

/// One part: a sweep spec, run into `DIR/<its name>`.
#[derive(Clone, Debug)]
pub struct Part {
    /// What it is for.
    pub role: Role,
    /// The spec's text.
    pub spec: String,
    /// The spec's `name` (the folder).
    pub name: String,
}

/// The folder's marker.
pub(crate) const MARKER: &str = "reproduction.json";
/// The report.
pub const REPORT: &str = "REPORT.md";
const TIMINGS: &str = "timings.json";

#[derive(Serialize, Deserialize)]
struct Marker {
    tool: String,
    what: String,
}

const WHAT: &str = "reproduction of Venter, Theunissen & Davel (2021)";

fn spec_name(text: &str, origin: &str) -> Result<String> {
    let t: toml::Table = text
        .parse()
        .map_err(|e| Error::usage(format!("{origin}: not a sweep spec: {e}")))?;
    t.get("name")
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .ok_or_else(|| Error::usage(format!("{origin}: the spec has no `name`")))
}

/// The three parts: the specs built into the binary, or, for tests,
/// `paper-cases.toml`, `fig2.toml` and `fig3-quick.toml` (or `fig3.toml`)
/// from `specs`.
pub fn parts(fig3: Fig3, specs: Option<&Path>) -> Result<Vec<Part>> {
    let texts: [(Role, &str, &str); 3] = [
        (
            Role::Cases,
            "paper-cases.toml",
            include_str!("../../sweeps/paper-cases.toml"),
        ),
        (
            Role::Fig2,
            "fig2.toml",
            include_str!("../../sweeps/fig2.toml"),
        ),
        (Role::Fig3, fig3.spec_file(), fig3.builtin()),
    ];
    texts
        .into_iter()
        .map(|(role, file, builtin)| {
            let (spec, origin) = match specs {
                Some(dir) => {
                    let p = dir.join(file);
                    let t = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
                    (t, p.display().to_string())
                }
                None => (builtin.to_string(), format!("built-in {file}")),
            };
            let name = spec_name(&spec, &origin)?;
            Ok(Part { role, spec, name })
        })
        .collect()
}

/// Refuses a folder that holds something other than a reproduction,
/// marks it as one, and writes each part's spec into its folder
/// (refusing one that holds another version of it). Returns each
/// part's `sweep.toml`.
pub(crate) fn prepare(dir: &Path, parts: &[Part]) -> Result<Vec<PathBuf>> {
    let marker = dir.join(MARKER);
    let occupied = std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some());
    if occupied {
        let ok = std::fs::read_to_string(&marker)
            .ok()
            .and_then(|t| serde_json::from_str::<Marker>(&t).ok())
            .is_some_and(|m| m.what == WHAT);
        if !ok {
            return Err(Error::usage(format!(
                "{}: the folder holds something other than a paper reproduction (no {MARKER}); choose an empty or new --out",
                dir.display()
            )));
        }
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(dir, format!("cannot create the output folder: {e}")))?;
    let m = Marker {
        tool: format!("preinterp {}", env!("CARGO_PKG_VERSION")),
        what: WHAT.into(),
    };
    let text = serde_json::to_string_pretty(&m).unwrap_or_default();
    std::fs::write(&marker, text + "\n").map_err(|e| Error::io(&marker, e))?;
    parts
        .iter()
        .map(|p| {
            let folder = dir.join(&p.name);
            std::fs::create_dir_all(&folder).map_err(|e| Error::io(&folder, e))?;
            let spec = folder.join("sweep.toml");
            match std::fs::read_to_string(&spec) {
                Ok(old) if old != p.spec => Err(Error::usage(format!(
                    "{}: holds another version of the {} sweep than this preinterp's; use another --out",
                    folder.display(),
                    p.name
                ))),
                Ok(_) => Ok(spec),
                Err(_) => std::fs::write(&spec, &p.spec)
                    .map(|_| spec.clone())
                    .map_err(|e| Error::io(&spec, e)),
            }
        })
        .collect()
}

/// Wall time spent on each part, summed over the invocations that
/// trained something in it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Timings {
    /// Part name -> seconds.
    pub wall_s: BTreeMap<String, f64>,
}

impl Timings {
    /// What `DIR/timings.json` holds (nothing yet: empty).
    pub fn read(dir: &Path) -> Timings {
        std::fs::read_to_string(dir.join(TIMINGS))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    /// Adds `secs` to `part` and saves.
    pub fn add(dir: &Path, part: &str, secs: f64) -> Result<()> {
        let mut t = Timings::read(dir);
        *t.wall_s.entry(part.to_string()).or_default() += secs;
        let p = dir.join(TIMINGS);
        let text = serde_json::to_string_pretty(&t).unwrap_or_default();
        std::fs::write(&p, text + "\n").map_err(|e| Error::io(&p, e))
    }
}

/// Reads a part's sweep (its runs and ids).
pub(crate) fn sweep_of(spec: &Path) -> Result<Sweep> {
    Sweep::read(spec, &Settings::default())
}

/// A case's learning-rate grid, as the report shows it.
#[derive(Clone, Debug)]
pub struct GridRow {
    /// The case.
    pub case: char,
    /// The run id.
    pub id: String,
    /// Its learning rate.
    pub lr: f64,
    /// Validation error at the last epoch.
    pub final_val_error: Option<f64>,
    /// Epoch of the minimum validation loss.
    pub min_epoch: Option<i64>,
    /// The grid search chose it.
    pub selected: bool,
}

/// One case as reported.
#[derive(Clone, Debug)]
pub struct Case {
    /// `a`..`d`.
    pub letter: char,
    /// The run's id in the cases sweep.
    pub id: String,
    /// Its learning rate.
    pub lr: f64,
    /// The preset's learning rate.
    pub preset_lr: f64,
    /// Its report folder, relative to DIR.
    pub report_dir: String,
    /// Figures the report drew (file names).
    pub figures: Vec<String>,
}

/// What the report was made from.
pub struct Paper {
    /// The parts, in order.
    pub parts: Vec<Part>,
    /// Each part collected.
    pub collected: Vec<Collected>,
    /// The cases' grid.
    pub grid: Vec<GridRow>,
    /// The selected case runs.
    pub cases: Vec<Case>,
    /// The claims, judged.
    pub claims: Vec<Judged>,
    /// The fig3 sweep is the quick one.
    pub quick: bool,
}

fn case_of(run: &crate::sweep::SweepRun) -> Option<char> {
    run.cfg.preset
}

/// The grid rows of the cases sweep and the case each grid picks.
fn cases_grid(c: &Collected) -> (Vec<GridRow>, Vec<(char, String, f64)>) {
    let mut grid = vec![];
    let mut picked = vec![];
    for (row, run) in c.rows.iter().zip(&c.sweep.runs) {
        let Some(case) = case_of(run) else { continue };
        let lr = run.cfg.optimizer.lr();
        grid.push(GridRow {
            case,
            id: row.id.clone(),
            lr,
            final_val_error: row.summary.as_ref().map(|s| 1.0 - s.last.val_acc),
            min_epoch: row.summary.as_ref().map(|s| s.min_val_loss.epoch),
            selected: row.selected && row.summary.is_some(),
        });
        if row.selected && row.summary.is_some() {
            picked.push((case, row.id.clone(), lr));
        }
    }
    picked.sort_by_key(|p| p.0);
    (grid, picked)
}

/// Collects every part, reports each selected case, judges the claims
/// and writes `DIR/REPORT.md`.
pub(crate) fn write_report(
    dir: &Path,
    parts: &[Part],
    quick: bool,
    loc: &Locator,
) -> Result<Paper> {
    let mut collected = vec![];
    for p in parts {
        collected.push(collect::collect(&dir.join(&p.name))?);
    }
    let by_role = |r: Role| {
        parts
            .iter()
            .position(|p| p.role == r)
            .map(|i| &collected[i])
    };
    let (grid, picked) = by_role(Role::Cases).map(cases_grid).unwrap_or_default();
    let cases_dir = parts
        .iter()
        .find(|p| p.role == Role::Cases)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let mut cases = vec![];
    let mut evidence = vec![];
    for (letter, id, lr) in picked {
        let run = dir.join(&cases_dir).join(format!("{id}.h5"));
        let rel = format!("{cases_dir}/case-{letter}");
        let s = report::report(&run, &dir.join(&rel), loc)?;
        let preset_lr = Preset::parse(&letter.to_string())?.config().optimizer.lr();
        cases.push(Case {
            letter,
            id,
            lr,
            preset_lr,
            report_dir: rel,
            figures: s.figures,
        });
        evidence.push(evidence::case_evidence(letter, 0, &run)?);
    }
    let fig2 = by_role(Role::Fig2)
        .map(|c| evidence::sweep_points(c, false))
        .unwrap_or_default();
    let fig3 = by_role(Role::Fig3)
        .map(|c| evidence::sweep_points(c, true))
        .unwrap_or_default();
    let claims = judge(&fig2, &fig3, &evidence, quick);
    let paper = Paper {
        parts: parts.to_vec(),
        collected,
        grid,
        cases,
        claims,
        quick,
    };
    let text = markdown::render(dir, &paper, &Timings::read(dir));
    let path = dir.join(REPORT);
    std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
    Ok(paper)
}

/// All thirteen claims from the evidence ([`claims::judge_all`]).
pub(crate) fn judge(
    fig2: &[claims::SweepPoint],
    fig3: &[claims::SweepPoint],
    cases: &[claims::CaseEvidence],
    quick: bool,
) -> Vec<Judged> {
    claims::judge_all(fig2, fig3, cases, quick)
}
