//! `preinterp bench`: parts refused by the parser, saved results and
//! `--compare` (an injected slowdown is flagged, the same binary twice
//! is not), bad or foreign saved results, another machine, and the
//! service formats. Runs on the committed fixture subsets (the real
//! datasets are hidden from it), one small part, so it stays quick.

use std::path::Path;
use std::process::Output;

use crate::util::{preinterp, stderr, stdout};

/// Timing tests take turns (the harness runs tests in parallel).
static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn bench(repeats: &str, extra: &[&str], cache: &Path) -> Output {
    let mut args = vec!["bench", "--only", "3x100-b64", "--datasets", "mnist"];
    args.extend_from_slice(&["--repeats", repeats]);
    args.extend_from_slice(extra);
    preinterp(&args, cache)
}

#[test]
fn an_unknown_part_is_refused_naming_only() {
    let cache = tempfile::tempdir().unwrap();
    let out = preinterp(&["bench", "--only", "3x100-b64,evl"], cache.path());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let line = err.lines().next().unwrap();
    assert!(
        line.contains("--only") && line.contains("evl") && line.contains("eval"),
        "{err}"
    );
    assert!(!err.contains("panicked"));
}

#[test]
fn compare_flags_an_injected_slowdown_and_not_the_same_binary_twice() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("base.json");
    let saved = saved.to_str().unwrap();
    let out = bench("7", &["--save", saved], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("NOT FOUND: committed fixture subset"),
        "{}",
        stdout(&out)
    );

    // The same result compared with itself: nothing to flag, exactly.
    // (Two live runs of the same binary are shown in the docs, not timed
    // here: the harness runs other tests beside this one.)
    let same = preinterp(
        &["bench", "--compare", saved, "--against", saved],
        dir.path(),
    );
    let text = stdout(&same);
    assert_eq!(same.status.code(), Some(0), "{text}");
    assert!(
        text.contains("train/3x100-b64/mnist") && text.contains("0 regression(s)"),
        "{text}"
    );
    assert!(!text.contains("SLOWER"), "{text}");

    let slow = bench(
        "7",
        &["--compare", saved, "--inject-slowdown", "300"],
        dir.path(),
    );
    let text = stdout(&slow);
    assert_eq!(slow.status.code(), Some(3), "{text}");
    assert!(
        text.contains("SLOWER") && text.contains("1 regression(s)") && text.contains("timed again"),
        "{text}"
    );

    // A slowdown that has passed by the time the workload is timed again
    // (a burst of load on a shared machine) is not a regression.
    let passing = bench(
        "7",
        &[
            "--compare",
            saved,
            "--inject-slowdown",
            "300",
            "--transient",
        ],
        dir.path(),
    );
    let text = stdout(&passing);
    assert_eq!(passing.status.code(), Some(0), "{text}");
    assert!(
        text.contains("0 regression(s)")
            && text.contains("timed again")
            && !text.contains("SLOWER"),
        "{text}"
    );
    assert!(
        stderr(&passing).contains("timing 3x100-b64 again"),
        "{}",
        stderr(&passing)
    );
}

#[test]
fn bad_saved_results_get_one_line_and_another_machine_a_warning() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let one_line = |args: &[&str], needles: &[&str]| {
        let out = preinterp(args, d);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        for n in needles {
            assert!(err.contains(n), "{err} should mention {n}");
        }
    };
    let missing = d.join("nope.json");
    one_line(
        &["bench", "--compare", missing.to_str().unwrap()],
        &["--compare", "nope.json", "no saved bench result"],
    );
    let foreign = d.join("foreign.json");
    std::fs::write(&foreign, "{\"benchmarks\": []}").unwrap();
    one_line(
        &["bench", "--compare", foreign.to_str().unwrap()],
        &["foreign.json", "not a preinterp bench result"],
    );
    std::fs::write(&foreign, "not json").unwrap();
    one_line(
        &["bench", "--compare", foreign.to_str().unwrap()],
        &["foreign.json", "not JSON"],
    );

    // A result from another CPU: a warning, no comparison, exit 0.
    let saved = d.join("other.json");
    let out = bench("1", &["--format", "json"], d);
    assert_eq!(out.status.code(), Some(0));
    let mut v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    v["fingerprint"]["machine"]["cpu"] = "Some Other CPU".into();
    std::fs::write(&saved, v.to_string()).unwrap();
    let out = bench("1", &["--compare", saved.to_str().unwrap()], d);
    assert_eq!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(
        err.contains("warning")
            && err.contains("another machine")
            && err.contains("Some Other CPU"),
        "{err}"
    );
    assert!(!stdout(&out).contains("regression(s)"));
}

#[test]
fn service_formats_carry_every_workload() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let out = bench("2", &["--format", "bmf"], dir.path());
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let lat = &v["train/3x100-b64/mnist"]["latency"];
    let (lo, mid, hi) = (
        lat["lower_value"].as_f64().unwrap(),
        lat["value"].as_f64().unwrap(),
        lat["upper_value"].as_f64().unwrap(),
    );
    assert!(lo > 0.0 && lo <= mid && mid <= hi, "{v}");
    let out = bench("2", &["--format", "github"], dir.path());
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v[0]["name"], "train/3x100-b64/mnist");
    assert_eq!(v[0]["unit"], "ms");
    assert!(v[0]["value"].as_f64().unwrap() > 0.0);
}

#[test]
fn sparse_and_breakdown_parts_report_every_workload() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let json = |args: &[&str]| -> serde_json::Value {
        let out = preinterp(args, dir.path());
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        serde_json::from_str(&stdout(&out)).unwrap()
    };
    // Dense against per-batch choice, both datasets: six workloads each,
    // with a verdict and the share of batches compacted (MNIST's
    // batches of 64 are, Fashion-MNIST's are not).
    let v = json(&[
        "bench",
        "--only",
        "sparse",
        "--datasets",
        "mnist,fashion-mnist",
        "--repeats",
        "1",
        "--format",
        "json",
    ]);
    let rows = v["sparse"].as_array().unwrap();
    assert_eq!(rows.len(), 12, "{v}");
    for r in rows {
        assert!(["same", "faster", "slower"].contains(&r["verdict"].as_str().unwrap()));
        assert!(r["dense"]["median"].as_f64().unwrap() > 0.0);
        let compact = r["compact"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&compact));
        if r["workload"] == "train/3x100-b64" {
            let mnist = r["dataset"] == "mnist";
            assert_eq!(compact > 0.5, mnist, "{r}");
        }
    }
    // The divider's rate is measured and bounds Adam's phase.
    assert!(v["fingerprint"]["adam_divider_gelems"].as_f64().unwrap() > 0.0);
    let v = json(&[
        "bench",
        "--only",
        "breakdown",
        "--datasets",
        "mnist",
        "--repeats",
        "1",
        "--format",
        "json",
    ]);
    let rows = v["breakdown"].as_array().unwrap();
    assert_eq!(rows.len(), 5, "{v}");
    for r in rows {
        let phase = |k: &str| r[k].as_f64().unwrap();
        assert!(
            phase("gather_ms") > 0.0 && phase("adam_alone_ms") > 0.0,
            "{r}"
        );
        let sum =
            phase("gather_ms") + phase("forward_ms") + phase("backward_ms") + phase("update_ms");
        let epoch = r["epoch"]["median"].as_f64().unwrap();
        assert!((sum - epoch).abs() < 1e-6 * epoch, "{r}");
        let bound: Vec<f64> = serde_json::from_value(r["bound_ms"].clone()).unwrap();
        assert!(bound.iter().all(|&b| b > 0.0), "{r}");
    }
}

#[test]
fn strict_refuses_another_machine_with_exit_2() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = bench("1", &["--format", "json"], d);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    v["fingerprint"]["machine"]["cpu"] = "Some Other CPU".into();
    let saved = d.join("other.json");
    std::fs::write(&saved, v.to_string()).unwrap();
    let out = bench(
        "1",
        &[
            "--compare",
            saved.to_str().unwrap(),
            "--against",
            saved.to_str().unwrap(),
            "--strict",
        ],
        d,
    );
    let err = stderr(&out);
    // --against the same file: same machine, compared, exit 0.
    assert_eq!(out.status.code(), Some(0), "{err}");
    let out = bench("1", &["--compare", saved.to_str().unwrap(), "--strict"], d);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("another machine")
            && err.contains("Some Other CPU")
            && err.contains("--strict"),
        "{err}"
    );
}

#[test]
fn eval_keys_say_tall_not_the_core_count() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let out = preinterp(
        &[
            "bench",
            "--only",
            "eval",
            "--datasets",
            "mnist",
            "--repeats",
            "1",
            "--format",
            "json",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let cores = report["fingerprint"]["machine"]["cores"].as_u64().unwrap();
    let saved = dir.path().join("now.json");
    // An old report whose rows say 2 threads on a 2-core machine reads
    // as `tall`, like one measured now on any core count.
    report["fingerprint"]["machine"]["cores"] = 2.into();
    for row in report["eval"].as_array_mut().unwrap() {
        if row["threads"].as_u64() == Some(cores) && cores > 1 {
            row["threads"] = 2.into();
        }
    }
    std::fs::write(&saved, report.to_string()).unwrap();
    let s = saved.to_str().unwrap();
    let out = preinterp(
        &["bench", "--compare", s, "--against", s, "--format", "bmf"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value =
        serde_json::from_str(stdout(&out).split("\ncompared with").next().unwrap()).unwrap();
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert!(
        keys.iter().any(|k| k.as_str() == "eval/3x100/t1/mnist"),
        "{keys:?}"
    );
    if cores > 1 {
        assert!(
            keys.iter().any(|k| k.as_str() == "eval/3x100/tall/mnist"),
            "{keys:?}"
        );
    }
    assert!(!keys.iter().any(|k| k.contains("/t2/")), "{keys:?}");
}

#[test]
fn only_lists_every_part_and_help_lists_the_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let out = preinterp(&["bench", "--help"], dir.path());
    let help = stdout(&out);
    for part in preinterp::bench::Section::all() {
        assert!(
            help.contains(&format!("- {part}:")),
            "{part} missing from\n{help}"
        );
    }
    for args in [
        &["--help"][..],
        &["train", "--help"],
        &["sweep", "run", "--help"],
        &["bench", "--help"],
    ] {
        let out = preinterp(args, dir.path());
        let help = stdout(&out);
        assert!(help.contains("Exit codes:"), "{args:?}: {help}");
        for code in ["0 ", "1 ", "2 ", "3 ", "130 ", "143 "] {
            assert!(
                help.contains(&format!("\n  {code}")),
                "{args:?} lacks {code}: {help}"
            );
        }
    }
}
