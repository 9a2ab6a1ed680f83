//! `preinterp report` and `preinterp reproduce`, end to end.

use std::path::Path;

use crate::util::{fixtures, preinterp, shared_datasets, stderr, stdout};

fn is_png(p: &Path) -> bool {
    std::fs::read(p)
        .map(|b| b.starts_with(b"\x89PNG\r\n\x1a\n") && b.len() > 10_000)
        .unwrap_or(false)
}

fn check_report_dir(dir: &Path) -> serde_json::Value {
    for f in [
        "fig1_curves",
        "fig5_loss_heatmaps",
        "fig6_weight_heatmaps",
        "fig7_outliers",
        "data_map",
        "gallery",
        "trajectories",
        "calibration",
        "reliability",
    ] {
        assert!(is_png(&dir.join(format!("{f}.png"))), "{f}.png");
        let svg = std::fs::read_to_string(dir.join(format!("{f}.svg"))).unwrap();
        assert!(
            svg.contains("<svg") && svg.contains("<text"),
            "{f}.svg has text"
        );
    }
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["figures"].as_array().unwrap().len(), 18);
    assert!(dir.join("samples.h5").is_file());
    for c in [
        "min_val_loss",
        "min_val_loss_median",
        "min_val_loss_trimmed_mean",
        "min_scaled_val_loss",
        "max_val_accuracy",
        "last_epoch",
    ] {
        let p = &s["selection"][c];
        assert!(p["epoch"].as_i64().is_some(), "{c}");
        assert!(p["eval_accuracy"].as_f64().is_some(), "{c}");
    }
    s
}

#[test]
fn report_on_a_fixture_run() {
    let d = tempfile::tempdir().unwrap();
    let run = d.path().join("run.h5");
    let ds = fixtures().join("mnist-small");
    let args = [
        "train",
        "--dataset",
        ds.to_str().unwrap(),
        "--train-size",
        "500",
        "--val-size",
        "300",
        "--epochs",
        "12",
        "--out",
        run.to_str().unwrap(),
    ];
    let out = preinterp(&args, d.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = preinterp(&["report", run.to_str().unwrap()], d.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("minimum validation loss: epoch"));
    let s = check_report_dir(&d.path().join("run-report"));
    assert_eq!(s["status"], "complete");
    assert_eq!(s["epochs_recorded"], 13);
    let c = &s["curves"];
    // The minimum is the smallest validation loss of the run.
    let min = c["min_val_loss"]["val_loss"].as_f64().unwrap();
    assert!(min <= c["last"]["val_loss"].as_f64().unwrap());
    assert_eq!(s["outliers"]["samples"], 300);
    assert_eq!(s["outliers"]["epochs"], 13);
    // Recorded without margins: only the area under the margin is missing.
    let skipped = s["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(skipped[0].as_str().unwrap().contains("--record-margins"));
    assert!(stdout(&out).contains("skipped: aum"));
    assert!(stdout(&out).contains("maximum validation accuracy"));
    // Calibration (issue 20): at the same minimum, and its line printed.
    let cal = &s["calibration"];
    assert_eq!(cal["raw_min_epoch"], c["min_val_loss"]["epoch"]);
    assert_eq!(cal["last_epoch"], 12);
    assert!(cal["temperature_at_end"].as_f64().unwrap() > 0.0);
    assert!(stdout(&out).contains("calibration, epoch"));
}

#[test]
fn report_errors_are_one_line() {
    let d = tempfile::tempdir().unwrap();
    let out = preinterp(&["report", "/nonexistent/run.h5"], d.path());
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out).lines().count(), 1);
    assert!(stderr(&out).contains("no such run file"));
    let junk = d.path().join("junk.h5");
    std::fs::write(&junk, b"not hdf5").unwrap();
    let out = preinterp(&["report", junk.to_str().unwrap()], d.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    let out = preinterp(&["reproduce", "x"], d.path());
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("unknown case"));
    // A flag of `reproduce paper` given to a case: clap's usage error.
    let out = preinterp(&["reproduce", "a", "--jobs", "2"], d.path());
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("unexpected argument '--jobs'"));
}

/// `reproduce a` on the real MNIST (`../shared`, present in CI), short.
#[test]
fn reproduce_a_end_to_end_then_refuses_to_redo_it() {
    let mnist = shared_datasets().join("mnist");
    assert!(mnist.is_dir(), "{} is needed (CI has it)", mnist.display());
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("a");
    let args = [
        "reproduce",
        "a",
        "--epochs",
        "3",
        "--data-dir",
        mnist.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ];
    let out = preinterp(&args, d.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let s = check_report_dir(&dir);
    assert_eq!(s["config"]["train_size"], 5000);
    assert_eq!(s["config"]["preset"], "a");
    assert_eq!(s["outliers"]["samples"], 55_000);
    let out = preinterp(&args, d.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--force"));
}
