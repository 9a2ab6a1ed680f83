//! `preinterp report` and `preinterp reproduce`.

use std::path::{Path, PathBuf};

use preinterp::analysis::calibration::CalibrationSummary;
use preinterp::analysis::select::Criterion;
use preinterp::config::{Preset, Settings};
use preinterp::error::{Error, Result};
use preinterp::record::schema::RunStatus;
use preinterp::record::{Overwrite, Recorder};
use preinterp::report::{self, Summary};

use super::args::{CaseArgs, ReportArgs};
use super::train_cmd::{train_new, train_resume, Writes};

fn default_report_dir(run: &Path) -> PathBuf {
    let stem = run
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into());
    run.with_file_name(format!("{stem}-report"))
}

pub(super) fn report(a: &ReportArgs) -> Result<u8> {
    let out = a.out.clone().unwrap_or_else(|| default_report_dir(&a.run));
    let loc = a.data.parse()?;
    let s = report::report(&a.run, &out, &loc.locator())?;
    print_summary(&s, &out);
    Ok(0)
}

/// `reproduce CASE`: trains the case (continuing an unfinished run in
/// the folder), then reports it.
pub(super) fn reproduce(preset: Preset, a: &CaseArgs) -> Result<u8> {
    let dir = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("reproduce-{}", preset.letter())));
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::io(&dir, format!("cannot create the output folder: {e}")))?;
    let run = dir.join("run.h5");
    let loc = a.data.parse()?;
    let existing = run.is_file().then(|| Recorder::status(&run)).transpose()?;
    let w = Writes {
        out: Some(run.clone()),
        overwrite: if a.force {
            Overwrite::Replace
        } else {
            Overwrite::Refuse
        },
        save_init: None,
        save_final: None,
        json: false,
    };
    let code = match existing {
        Some(RunStatus::Complete) if !a.force => {
            return Err(Error::usage(format!(
                "{}: a finished run is already there; pass --force to train again, or run `preinterp report {}`",
                run.display(),
                run.display()
            )))
        }
        Some(RunStatus::Running | RunStatus::Interrupted) if !a.force => {
            println!("continuing the unfinished run in {}", run.display());
            train_resume(&run, a.threads, &loc, &w)?
        }
        _ => {
            let s = Settings {
                preset: Some(preset.letter().to_string()),
                epochs: a.epochs,
                threads: a.threads,
                ..Settings::default()
            };
            train_new(&s, &loc, &w)?
        }
    };
    if code == 130 {
        return Ok(code);
    }
    println!();
    let s = report::report(&run, &dir, &loc.locator())?;
    print_summary(&s, &dir);
    Ok(code)
}

/// The short human summary printed by `report`.
fn print_summary(s: &Summary, out: &Path) {
    println!("{}", s.title);
    println!("status: {} ({})", s.status, s.status_note);
    if let Some(c) = &s.curves {
        let m = &c.min_val_loss;
        println!(
            "minimum validation loss: epoch {} (loss {:.4}, accuracy {:.2}%)",
            m.epoch,
            m.val_loss,
            100.0 * m.val_acc
        );
        let f = &c.final_point;
        let what = if c.interpolated {
            "first interpolation"
        } else {
            "max train accuracy (never interpolated)"
        };
        println!(
            "{what}: epoch {} (validation loss {:.4} [{:+.4}], accuracy {:.2}% [{:+.2} points]){}",
            f.epoch,
            f.val_loss,
            c.change_to_final.val_loss,
            100.0 * f.val_acc,
            100.0 * c.change_to_final.val_acc,
            if c.triangle {
                "  <- loss and accuracy both rose (triangle)"
            } else {
                ""
            }
        );
        let l = &c.last;
        println!(
            "last epoch {}: validation loss {:.4} [{:+.4}], accuracy {:.2}% [{:+.2} points]",
            l.epoch,
            l.val_loss,
            c.change_to_last.val_loss,
            100.0 * l.val_acc,
            100.0 * c.change_to_last.val_acc
        );
    }
    if let Some(c) = &s.calibration {
        print_calibration(c);
    }
    if let Some(o) = &s.outliers {
        println!(
            "Tukey outliers: {:.1}% of validation samples above the fence at the end carry {:.1}% of the loss; {:.1}% were outliers in most epochs, {:.1}% never",
            100.0 * o.frac_above_at_end,
            100.0 * o.loss_share_at_end,
            100.0 * o.frac_most_epochs,
            100.0 * o.frac_never
        );
        if let (Some(f), Some(share)) = (o.misclassified_frac_at_end, o.misclassified_loss_share) {
            println!(
                "misclassified at the end: {:.1}% of validation samples, carrying {:.1}% of the loss",
                100.0 * f,
                100.0 * share
            );
        }
    }
    print_selection(s);
    if let Some(p) = &s.samples {
        println!(
            "per-sample statistics in {} ({}); validation: {} never above the fence, {} forgotten at least once, {} wrong at the end",
            p.file,
            p.sets.join(", "),
            p.val_never_above_fence,
            p.val_forgotten_at_least_once,
            p.val_wrong_at_end
        );
    }
    for k in &s.skipped {
        println!("skipped: {k}");
    }
    println!(
        "wrote {} figures and summary.json to {}",
        s.figures.len(),
        out.display()
    );
}

/// `x` with `digits` decimals, or `none` when it is not finite.
fn num(x: f64, digits: usize) -> String {
    if x.is_finite() {
        format!("{x:.digits$}")
    } else {
        "none".into()
    }
}

/// The validation set's calibration between the minimum validation loss
/// and the last epoch: is the rise over-confidence?
fn print_calibration(c: &CalibrationSummary) {
    println!(
        "calibration, epoch {} -> {}: loss at T* {} -> {} [{:+.4}] while the raw loss went {:+.4}; T* {} -> {}, ECE {} -> {}",
        c.raw_min_epoch,
        c.last_epoch,
        num(c.scaled_loss_at_raw_min, 4),
        num(c.scaled_loss_at_end, 4),
        c.scaled_change,
        c.raw_change,
        num(c.temperature_at_raw_min, 2),
        num(c.temperature_at_end, 2),
        num(c.ece_at_raw_min, 3),
        num(c.ece_at_end, 3),
    );
    let verdict = if c.raw_change.is_nan() || c.raw_change <= 0.0 {
        "the raw loss does not rise after its minimum"
    } else if c.scaled_loss_at_raw_min.is_nan() || c.scaled_loss_at_end.is_nan() {
        "no T* at the minimum or at the end: no verdict"
    } else if c.scaled_does_not_rise {
        "the loss at T* does not rise: the raw rise is the logits' scale (over-confidence)"
    } else {
        "the loss at T* rises too: not only over-confidence"
    };
    let min = c
        .scaled_min_epoch
        .map_or("at no epoch".into(), |e| format!("at epoch {e}"));
    println!("  {verdict}; the loss at T* is lowest {min}");
}

/// The epoch each model-selection criterion picks, and the test set's
/// accuracy and loss there.
fn print_selection(s: &Summary) {
    if Criterion::ALL.iter().all(|&c| s.selection.get(c).is_none()) {
        return;
    }
    println!("model selection: criterion -> epoch, test accuracy, test loss");
    for c in Criterion::ALL {
        let what = c.description();
        match s.selection.get(c) {
            Some(p) => println!(
                "  {what:<42} epoch {:>5}  {:6.2}%  {:.4}",
                p.epoch,
                100.0 * p.eval_accuracy,
                p.eval_loss
            ),
            None => println!("  {what:<42} not available (see skipped)"),
        }
    }
}
