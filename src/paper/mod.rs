//! `reproduce paper`: the whole paper in one folder. Three parts, each
//! a sweep run like `sweep run` with its grid protocol (finished runs
//! skipped, unfinished ones resumed): cases A-D and the Fig. 1 model,
//! each picked by a learning-rate grid and trained with 5 seeds, the
//! fig2 sweep, and a fig3 sweep (quick or full). Then every figure of
//! the paper and a claims table, judged per seed by the criteria of
//! [`criteria`] (versioned by their hash), in `DIR/REPORT.md`. [`reproduce::reproduce`] runs it all, reporting
//! progress to its caller.
//!
//! ```text
//! DIR/reproduction.json      marks the folder as a reproduction
//! DIR/timings.json           wall time of each part, over invocations
//! DIR/paper-cases/           the cases' sweep (sweep.toml, <id>.h5, ...)
//! DIR/paper-cases/case-a/    case A's report, seed 0 (figures 5, 6, 7; case-f: Fig. 1)
//! DIR/paper-cases/fig4_seed_bands.png  Fig. 4, the cases over their seeds
//! DIR/fig2/, DIR/fig3-quick/ (or fig3/)  the sweeps and their scatter plots
//! DIR/REPORT.md              the report
//! ```

pub mod claims;
pub mod criteria;
mod evidence;
mod markdown;
mod over_confidence;
pub mod reproduce;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::analysis::select::Criterion;
use crate::config::{Preset, Settings};
use crate::data::Locator;
use crate::error::{Error, Result};
use crate::plot::{self, SeedCurves};
use crate::record::read;
use crate::report;
use crate::sweep::collect::{self, Collected};
use crate::sweep::protocol::GroupView;
use crate::sweep::select::grid_picks;
use crate::sweep::{Origin, Sweep};
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

/// The cases' spec with `seeds = n` (in place of its own `seeds` line,
/// or added at the top).
fn with_seeds(spec: &str, n: usize) -> String {
    let line = format!("seeds = {n}");
    let mut found = false;
    let lines: Vec<String> = spec
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("seeds") && l.contains('=') && !found {
                found = true;
                line.clone()
            } else {
                l.to_string()
            }
        })
        .collect();
    let text = lines.join("\n") + "\n";
    if found {
        text
    } else {
        format!("{line}\n{text}")
    }
}

/// The three parts: the specs built into the binary, or, for tests,
/// `paper-cases.toml`, `fig2.toml` and `fig3-quick.toml` (or `fig3.toml`)
/// from `specs`; `seeds` replaces the cases' seeds per pick.
pub fn parts(fig3: Fig3, specs: Option<&Path>, seeds: Option<usize>) -> Result<Vec<Part>> {
    if seeds == Some(0) {
        return Err(Error::usage(
            "--seeds 0: each case needs at least 1 seed (the grid's)",
        ));
    }
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
            let spec = match seeds {
                Some(n) if role == Role::Cases => with_seeds(&spec, n),
                _ => spec,
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

/// One run of a grid, as the report shows it.
#[derive(Clone, Debug)]
pub struct GridRow {
    /// The case's letter (`f`: the Fig. 1 model).
    pub case: char,
    /// The run id.
    pub id: String,
    /// Its learning rate.
    pub lr: f64,
    /// Listed by the spec or an extension past an edge.
    pub origin: Origin,
    /// Its status.
    pub status: String,
    /// Validation error at the last epoch.
    pub final_val_error: Option<f64>,
    /// Smallest validation error over the epochs.
    pub best_val_error: Option<f64>,
    /// Epoch of the minimum validation loss.
    pub min_epoch: Option<i64>,
    /// The grid search picked it (validation error at the last epoch).
    pub selected: bool,
    /// The other reading (smallest validation error over the epochs)
    /// would pick it.
    pub alt_selected: bool,
}

/// One case as reported.
#[derive(Clone, Debug)]
pub struct Case {
    /// `a`..`d`, or `f` for the Fig. 1 model.
    pub letter: char,
    /// Its seed-0 run (the grid's pick) in the cases sweep.
    pub id: String,
    /// Its learning rate.
    pub lr: f64,
    /// The preset's learning rate.
    pub preset_lr: f64,
    /// The seed-0 run's report folder, relative to DIR.
    pub report_dir: String,
    /// Figures the report drew (file names).
    pub figures: Vec<String>,
    /// Every seed trained at the pick: `(seed, run id, finished)`.
    pub seeds: Vec<(u64, String, bool)>,
    /// Its grid.
    pub grid: GroupView,
    /// The learning rate the other reading would pick.
    pub alt_lr: Option<f64>,
}

impl Case {
    /// `A`..`D`, or `Fig. 1`.
    pub fn name(&self) -> String {
        claims::case_name(self.letter)
    }
}

/// A fig3 configuration whose pick is an edge of the values tried.
#[derive(Clone, Debug)]
pub struct EdgePick {
    /// A run id of the configuration (its pick).
    pub id: String,
    /// Its grid.
    pub grid: GroupView,
}

/// What the report was made from.
pub struct Paper {
    /// The parts, in order.
    pub parts: Vec<Part>,
    /// Each part collected.
    pub collected: Vec<Collected>,
    /// The cases' grid runs.
    pub grid: Vec<GridRow>,
    /// The cases, each at its pick.
    pub cases: Vec<Case>,
    /// The claims, judged.
    pub claims: Vec<Judged>,
    /// The fig3 sweep is the quick one.
    pub quick: bool,
    /// fig3's grid search.
    pub fig3_grid: Fig3Grid,
    /// Grids of a spec spanning fewer than [`GRID_DECADES`] decades:
    /// `(part, a run id, span in decades)`.
    pub narrow: Vec<(String, String, f64)>,
    /// Fig. 4 (the cases' seeds as bands), relative to DIR, if drawn.
    pub fig4: Option<String>,
    /// Every case and seed's validation calibration (claim 14).
    pub calibration: Vec<over_confidence::RunCalibration>,
}

/// The span a learning-rate grid should have, in decades.
pub const GRID_DECADES: f64 = 2.0;

/// The grid rows of the cases sweep, and each case at its pick.
fn cases_grid(c: &Collected) -> (Vec<GridRow>, Vec<Case>) {
    let state = c.state();
    let alt = grid_picks(&c.sweep, "lr", &c.rows, Criterion::MaxValAccuracy);
    let runs = &c.sweep.runs;
    let (mut grid, mut cases) = (vec![], vec![]);
    for g in c.sweep.groups(&state) {
        let Some(letter) = runs[g.runs[0]].cfg.preset else {
            continue;
        };
        let mut members = g.runs.clone();
        members.sort_by(|&a, &b| {
            runs[a]
                .cfg
                .optimizer
                .lr()
                .total_cmp(&runs[b].cfg.optimizer.lr())
        });
        for &i in &members {
            let row = &c.rows[i];
            grid.push(GridRow {
                case: letter,
                id: row.id.clone(),
                lr: runs[i].cfg.optimizer.lr(),
                origin: runs[i].origin,
                status: row.status.to_string(),
                final_val_error: row.summary.as_ref().map(|s| 1.0 - s.last.val_acc),
                best_val_error: row
                    .selection
                    .get(Criterion::MaxValAccuracy)
                    .map(|p| 1.0 - p.val_accuracy),
                min_epoch: row.summary.as_ref().map(|s| s.min_val_loss.epoch),
                selected: g.pick == Some(i),
                alt_selected: alt[i],
            });
        }
        let Some(p) = g.pick else { continue };
        let lr = runs[p].cfg.optimizer.lr();
        let mut seeds: Vec<(u64, String, bool)> = (0..runs.len())
            .filter(|&i| {
                i == p
                    || (runs[i].origin == Origin::Seed
                        && runs[i].cfg.preset == Some(letter)
                        && runs[i].cfg.optimizer.lr() == lr)
            })
            .map(|i| (runs[i].cfg.seed, runs[i].id.clone(), state[i].is_some()))
            .collect();
        seeds.sort();
        let preset_lr = Preset::parse(&letter.to_string())
            .map(|x| x.config().optimizer.lr())
            .unwrap_or(f64::NAN);
        cases.push(Case {
            letter,
            id: runs[p].id.clone(),
            lr,
            preset_lr,
            report_dir: String::new(),
            figures: vec![],
            seeds,
            grid: c.sweep.view(&g, &state),
            alt_lr: members
                .iter()
                .find(|&&i| alt[i])
                .map(|&i| runs[i].cfg.optimizer.lr()),
        });
    }
    cases.sort_by_key(|c| c.letter);
    // Case by case (A-D, then the Fig. 1 model), each by learning rate.
    grid.sort_by_key(|g| g.case);
    (grid, cases)
}

/// fig3's grid search as the report shows it.
#[derive(Clone, Debug, Default)]
pub struct Fig3Grid {
    /// Configurations searched.
    pub groups: usize,
    /// Those whose pick is an edge of the values tried.
    pub edges: Vec<EdgePick>,
    /// Runs never picked because they diverged (or have no finite
    /// validation loss).
    pub excluded: Vec<String>,
}

/// fig3's configurations searched, those that picked an edge, and the
/// runs excluded.
fn fig3_grid(c: &Collected) -> Fig3Grid {
    let state = c.state();
    let groups = c.sweep.groups(&state);
    let mut excluded = vec![];
    let edges = groups
        .iter()
        .filter_map(|g| {
            let view = c.sweep.view(g, &state);
            excluded.extend(view.excluded.iter().map(|&i| c.sweep.runs[i].id.clone()));
            view.edge?;
            Some(EdgePick {
                id: c.sweep.runs[g.pick?].id.clone(),
                grid: view,
            })
        })
        .collect();
    Fig3Grid {
        groups: groups.len(),
        edges,
        excluded,
    }
}

/// Fig. 4: cases A-D, each its seeds' mean curves with min-max bands,
/// drawn into the cases' folder; its path relative to `dir`.
fn draw_fig4(dir: &Path, cases_dir: &str, cases: &[Case]) -> Result<Option<String>> {
    let mut curves = vec![];
    for c in cases.iter().filter(|c| c.letter != 'f') {
        let mut runs = vec![];
        for (_, id, done) in &c.seeds {
            if *done {
                runs.push(read::curves(&dir.join(cases_dir).join(format!("{id}.h5")))?);
            }
        }
        curves.push((format!("case {}, {} seeds", c.name(), runs.len()), runs));
    }
    if curves.iter().all(|(_, r)| r.is_empty()) {
        return Ok(None);
    }
    let panels: Vec<SeedCurves<'_>> = curves
        .iter()
        .map(|(name, runs)| SeedCurves {
            name: name.clone(),
            runs: runs.iter().collect(),
        })
        .collect();
    let files = plot::seed_bands(
        &dir.join(cases_dir),
        "Figure 4: cases A-D over their seeds (line: mean; band: lowest to highest seed)",
        &panels,
    )?;
    Ok(files
        .iter()
        .find(|f| f.extension().is_some_and(|e| e == "png"))
        .and_then(|f| f.strip_prefix(dir).ok())
        .map(|f| f.to_string_lossy().replace('\\', "/")))
}

/// Collects every part, reports each selected case (seed 0), judges the
/// claims on every seed and writes `DIR/REPORT.md`.
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
    let (grid, mut cases) = by_role(Role::Cases).map(cases_grid).unwrap_or_default();
    let cases_dir = parts
        .iter()
        .find(|p| p.role == Role::Cases)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let mut evidence = vec![];
    for case in &mut cases {
        let rel = format!("{cases_dir}/case-{}", case.letter);
        let run = dir.join(&cases_dir).join(format!("{}.h5", case.id));
        case.figures = report::report(&run, &dir.join(&rel), loc)?.figures;
        case.report_dir = rel;
        for (seed, id, done) in &case.seeds {
            if *done {
                let path = dir.join(&cases_dir).join(format!("{id}.h5"));
                evidence.push(evidence::case_evidence(case.letter, *seed, &path)?);
            }
        }
    }
    let fig4 = draw_fig4(dir, &cases_dir, &cases)?;
    let fig2 = by_role(Role::Fig2)
        .map(|c| evidence::sweep_points(c, false))
        .unwrap_or_default();
    let fig3 = by_role(Role::Fig3)
        .map(|c| evidence::sweep_points(c, true))
        .unwrap_or_default();
    let claims = claims::judge_all(&fig2, &fig3, &evidence, quick);
    let calibration = evidence
        .iter()
        .map(over_confidence::RunCalibration::of)
        .collect();
    let fig3_grid = by_role(Role::Fig3).map(fig3_grid).unwrap_or_default();
    let narrow = parts
        .iter()
        .zip(&collected)
        .flat_map(|(p, c)| {
            c.sweep
                .narrow_grids(GRID_DECADES)
                .into_iter()
                .map(|(id, span)| (p.name.clone(), id, span))
        })
        .collect();
    let paper = Paper {
        parts: parts.to_vec(),
        collected,
        grid,
        cases,
        claims,
        quick,
        fig3_grid,
        narrow,
        fig4,
        calibration,
    };
    let text = markdown::render(dir, &paper, &Timings::read(dir));
    let path = dir.join(REPORT);
    std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
    Ok(paper)
}
