//! REPORT.md's section "Is the rise over-confidence?" (claim 14, ours):
//! every case and seed with its raw and temperature-scaled validation
//! loss at the raw minimum and at the end, `T*` and the ECE there, the
//! verdict, and each case's calibration figures.

use std::fmt::Write;
use std::path::Path;

use super::claims::{case_name, over_confidence_check, CaseEvidence, Verdict};
use super::{criteria, Paper, Role};
use crate::analysis::calibration::CalibrationSummary;
use crate::stats;
use crate::sweep::collect::Collected;

/// What the section reads of one run.
#[derive(Clone, Debug)]
pub struct RunCalibration {
    /// The case's letter.
    pub letter: char,
    /// The run's seed.
    pub seed: u64,
    /// Its validation calibration (none for a file recorded before it).
    pub summary: Option<CalibrationSummary>,
    /// Claim 14's verdict on it.
    pub verdict: Verdict,
}

impl RunCalibration {
    /// The run's calibration and verdict, from its evidence.
    pub(crate) fn of(e: &CaseEvidence) -> Self {
        RunCalibration {
            letter: e.letter,
            seed: e.seed,
            summary: e.calibration,
            verdict: over_confidence_check(e).verdict,
        }
    }
}

fn num(x: f64) -> String {
    if x.is_nan() {
        "-".into()
    } else if x == 0.0 || (1e-2..1e3).contains(&x.abs()) {
        format!("{x:.3}")
    } else {
        format!("{x:.2e}")
    }
}

fn signed(x: f64) -> String {
    if x.is_nan() {
        "-".into()
    } else {
        format!("{}{}", if x >= 0.0 { "+" } else { "" }, num(x))
    }
}

/// `a -> b (+c)`.
fn arrow(a: f64, b: f64) -> String {
    format!("{} -> {} ({})", num(a), num(b), signed(b - a))
}

/// What the runs of a sweep say: does the rise follow the growth of T*?
/// Over the runs (the grid's picks, for fig3) recorded with calibration:
/// the Spearman correlation between `ln(T*_end / T*_min)` and the raw
/// rise, the triangles among the runs whose T* grew more and less than
/// the median, and how often the scaled loss did not rise.
fn sweep_lines(out: &mut String, name: &str, c: &Collected, selected_only: bool) {
    let rows: Vec<(f64, f64, bool, bool)> = c
        .rows
        .iter()
        .filter(|r| r.selected || !selected_only)
        .filter_map(|r| {
            let (s, cal) = (r.summary.as_ref()?, r.calibration.as_ref()?);
            let growth = (cal.temperature_at_end / cal.temperature_at_raw_min).ln();
            growth.is_finite().then_some((
                growth,
                cal.raw_change,
                s.triangle,
                cal.scaled_does_not_rise,
            ))
        })
        .collect();
    let all = c
        .rows
        .iter()
        .filter(|r| (r.selected || !selected_only) && r.summary.is_some())
        .count();
    if rows.is_empty() {
        let recorded = c.rows.iter().filter(|r| r.calibration.is_some()).count();
        let _ = writeln!(
            out,
            "- {name}: none of its {all} runs has T* at its minimum and at its end ({recorded} recorded with calibration; the others were {}).",
            crate::record::read::NO_CALIBRATION
        );
        return;
    }
    let (g, rise): (Vec<f64>, Vec<f64>) = rows.iter().map(|r| (r.0, r.1)).unzip();
    let rho = stats::spearman(&g, &rise).map_or("-".into(), |r| format!("{r:.2}"));
    let median = stats::nan_quantile(g.iter().copied(), 0.5);
    let tri = |more: bool| {
        let part: Vec<_> = rows.iter().filter(|r| (r.0 > median) == more).collect();
        format!("{} of {}", part.iter().filter(|r| r.2).count(), part.len())
    };
    let flat = rows.iter().filter(|r| r.3).count();
    let _ = writeln!(
        out,
        "- {name}, {} of {all} runs with T*: Spearman {rho} between the growth of T* (ln of T* at the end over T* at the minimum) and the rise of the validation loss; triangles {} where T* grew more than the median, {} where it grew less; the scaled loss did not rise in {flat} of {} runs.",
        rows.len(),
        tri(true),
        tri(false),
        rows.len()
    );
}

/// The section.
pub(crate) fn section(out: &mut String, dir: &Path, p: &Paper) {
    out.push_str("## Is the rise over-confidence?\n\n");
    out.push_str("Not a claim of the paper, but the question it leaves open: why do a few validation losses keep growing? Temperature scaling (Guo et al., ICML 2017) divides the logits by the one temperature T* that minimises the mean validation loss. preinterp solves T* at every epoch from the logits its evaluation has already computed (Newton's method on 1/T, safeguarded by bisection, to |d log T| < 1e-6 over T in [1e-4, 1e4]) and records the loss there in the per-sample losses' log1p form. If the loss at T* does not rise while the raw loss does, the rise is the logits' growing scale, over-confidence, and not lost knowledge.\n\n");
    let judged = p.claims.iter().find(|c| c.number == 14);
    let _ = writeln!(
        out,
        "**Criterion (claim 14):** {}\n",
        criteria::entry(14).criterion
    );
    if let Some(j) = judged {
        let _ = writeln!(out, "**Verdict: {}.** {}\n", j.verdict, j.evidence);
    }
    out.push_str("| case | seed | raw minimum at epoch | raw validation loss, minimum -> end | at T*, the raw minimum -> end | T*, the raw minimum -> end | ECE, the raw minimum -> end | loss share of wrong samples at the end | scaled minimum at epoch | verdict |\n|---|---|---|---|---|---|---|---|---|---|\n");
    for r in &p.calibration {
        let name = case_name(r.letter);
        let Some(s) = &r.summary else {
            let _ = writeln!(
                out,
                "| {name} | {} | {} | | | | | | | {} |",
                r.seed,
                crate::record::read::NO_CALIBRATION,
                r.verdict
            );
            continue;
        };
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} | {} | {} | {} | {:.1}% | {} | {} |",
            r.seed,
            s.raw_min_epoch,
            arrow(s.raw_loss_at_raw_min, s.raw_loss_at_end),
            arrow(s.scaled_loss_at_raw_min, s.scaled_loss_at_end),
            format_args!(
                "{} -> {}",
                num(s.temperature_at_raw_min),
                num(s.temperature_at_end)
            ),
            format_args!("{} -> {}", num(s.ece_at_raw_min), num(s.ece_at_end)),
            100.0 * s.wrong_loss_share_at_end,
            s.scaled_min_epoch.map_or("-".into(), |e| e.to_string()),
            r.verdict
        );
    }
    out.push_str("\nThe Fig. 1 model's rows are shown for completeness; the verdict is over cases A-D.\n\nDoes the rise follow the growth of T* across the sweeps? (not judged; `sweep.h5` and `sweep.csv` have every run's `cal_*` columns)\n\n");
    for (part, c) in p.parts.iter().zip(&p.collected) {
        match part.role {
            Role::Fig2 => sweep_lines(out, "fig2", c, false),
            Role::Fig3 => sweep_lines(out, &part.name, c, true),
            Role::Cases => {}
        }
    }
    out.push_str("\nEach case's calibration figure (seed 0): the raw and temperature-scaled validation loss (log scale), T* and the ECE per epoch, and reliability diagrams at the raw minimum and at the end.\n\n");
    for c in &p.cases {
        let figs: Vec<&String> = c
            .figures
            .iter()
            .filter(|f| {
                f.ends_with(".png") && (f.contains("calibration") || f.contains("reliability"))
            })
            .collect();
        if figs.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### Case {}\n", c.name());
        for f in figs {
            let rel = format!("{}/{f}", c.report_dir);
            let what = if f.contains("reliability") {
                "Reliability diagrams"
            } else {
                "Calibration"
            };
            if dir.join(&rel).is_file() {
                let _ = writeln!(out, "![{what}, case {}]({rel})", c.name());
            }
        }
        out.push('\n');
    }
}
