//! `preinterp sweep list` on the committed specs.

use crate::util::{preinterp, root, stderr, stdout};

fn ids(args: &[&str]) -> Vec<String> {
    let d = tempfile::tempdir().unwrap();
    let out = preinterp(args, d.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .skip(1)
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect()
}

#[test]
fn fig2_has_95_stable_runs_and_shards_partition_them() {
    let spec = root().join("sweeps/fig2.toml");
    let spec = spec.to_str().unwrap();
    let all = ids(&["sweep", "list", spec]);
    assert_eq!(all.len(), 95);
    assert_eq!(all, ids(&["sweep", "list", spec]), "same spec, same ids");
    let widths: std::collections::BTreeSet<&str> =
        all.iter().map(|i| i.split('_').next().unwrap()).collect();
    assert_eq!(widths.len(), 19);
    let mut shards: Vec<String> = ids(&["sweep", "list", spec, "--shard", "1/2"]);
    let two = ids(&["sweep", "list", spec, "--shard", "2/2"]);
    assert!(shards.iter().all(|i| !two.contains(i)));
    shards.extend(two);
    shards.sort();
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(shards, sorted);
}

#[test]
fn a_bad_spec_is_one_clear_line() {
    let d = tempfile::tempdir().unwrap();
    let spec = d.path().join("bad.toml");
    std::fs::write(&spec, "name = \"x\"\n[fixed]\nbatchsize = 3\n").unwrap();
    let out = preinterp(&["sweep", "list", spec.to_str().unwrap()], d.path());
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out).lines().count(), 1);
    assert!(
        stderr(&out).contains("bad.toml") && stderr(&out).contains("unknown setting `batchsize`")
    );
}

#[test]
fn fig3_has_80_configurations_times_5_learning_rates_over_2_decades() {
    let spec = root().join("sweeps/fig3.toml");
    let all = ids(&["sweep", "list", spec.to_str().unwrap()]);
    assert_eq!(all.len(), 400);
    let configs: std::collections::BTreeSet<&str> = all
        .iter()
        .map(|i| i.rsplit_once("_lr-").unwrap().0)
        .collect();
    assert_eq!(configs.len(), 80);
    // Every configuration's grid spans 2 decades in half-decade steps.
    for c in &configs {
        let mut lrs: Vec<f64> = all
            .iter()
            .filter_map(|i| i.strip_prefix(c)?.strip_prefix("_lr-")?.parse().ok())
            .collect();
        lrs.sort_by(f64::total_cmp);
        assert_eq!(lrs.len(), 5, "{c}");
        assert!((lrs[4] / lrs[0] - 100.0).abs() < 1e-9, "{c}: {lrs:?}");
    }
}

#[test]
fn the_paper_cases_are_five_models_on_5_value_grids() {
    let spec = root().join("sweeps/paper-cases.toml");
    let all = ids(&["sweep", "list", spec.to_str().unwrap()]);
    assert_eq!(all.len(), 25);
    for p in ["a", "b", "c", "d", "fig1"] {
        let n = all
            .iter()
            .filter(|i| i.starts_with(&format!("preset-{p}_")))
            .count();
        assert_eq!(n, 5, "{p}");
    }
}

/// A tiny grid spec on the fixtures with the protocol's keys.
fn protocol_spec(dir: &std::path::Path, grid: &str) -> std::path::PathBuf {
    let spec = dir.join("grid.toml");
    let data = root().join("fixtures/mnist-small");
    std::fs::write(
        &spec,
        format!(
            "name = \"grid\"\nselect_best = \"lr\"\nextend_edges = 2\nseeds = 3\n[fixed]\ndataset = \"{}\"\ntrain_size = 200\nval_size = 200\ndepth = 1\nwidth = 16\nepochs = 3\n[[variants]]\noptimizer = \"adam\"\nlr = {grid}\n",
            data.display()
        ),
    )
    .unwrap();
    spec
}

/// `sweep.csv`'s rows as `(run, origin, selected)`.
fn origins(dir: &std::path::Path) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(dir.join("sweep.csv")).unwrap();
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| head.iter().position(|h| *h == name).unwrap();
    let (o, s) = (col("origin"), col("selected"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_string(), f[o].to_string(), f[s].to_string())
        })
        .collect()
}

#[test]
fn the_grid_protocol_extends_an_edge_pick_then_trains_its_seeds() {
    let d = tempfile::tempdir().unwrap();
    // Learning rates too small for 3 epochs: the largest wins, an edge,
    // twice; the pick after the 2 extensions then gets its seeds.
    let spec = protocol_spec(d.path(), "[0.0001, 0.0003, 0.001]");
    let out = d.path().join("out");
    let run = |dir: &std::path::Path| {
        let o = preinterp(
            &[
                "sweep",
                "run",
                spec.to_str().unwrap(),
                "-o",
                dir.to_str().unwrap(),
                "-q",
            ],
            d.path(),
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        stdout(&o)
    };
    let said = run(&out);
    assert!(
        said.contains("3 of 3 runs in this shard handled and 4 the grid protocol added"),
        "{said}"
    );
    let o = preinterp(&["sweep", "collect", out.to_str().unwrap()], d.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let rows = origins(&out);
    let of = |origin: &str| -> Vec<&str> {
        rows.iter()
            .filter(|r| r.1 == origin)
            .map(|r| r.0.as_str())
            .collect()
    };
    assert_eq!(
        of("extension"),
        ["optimizer-adam_lr-0.003", "optimizer-adam_lr-0.01"]
    );
    assert_eq!(
        of("seed"),
        [
            "optimizer-adam_lr-0.01_seed-1",
            "optimizer-adam_lr-0.01_seed-2"
        ]
    );
    // Exactly one pick, never a seed run.
    let picked: Vec<_> = rows.iter().filter(|r| r.2 == "1").collect();
    assert_eq!(picked.len(), 1, "{rows:?}");
    assert_eq!(picked[0].1, "extension");
    // Run again: nothing left to do, the same runs.
    let again = run(&out);
    assert!(again.contains("0 failed"), "{again}");
    let run_files = std::fs::read_dir(&out)
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            let name = name.to_string_lossy();
            name.starts_with("optimizer-") && name.ends_with(".h5")
        })
        .count();
    assert_eq!(run_files, 7);
}

#[test]
fn protocol_keys_out_of_range_are_one_clear_line() {
    let d = tempfile::tempdir().unwrap();
    for (key, want) in [
        ("seeds = 0", "`seeds = 0`: must be a whole number from 1"),
        ("extend_edges = -1", "`extend_edges = -1`"),
        ("seeds = 3\n[[variants]]\nseed = [0, 1]", "a `seed` axis"),
    ] {
        let spec = d.path().join("bad.toml");
        std::fs::write(
            &spec,
            format!("name = \"x\"\nselect_best = \"lr\"\n{key}\n[axes]\nlr = [0.1, 0.3]\n"),
        )
        .unwrap();
        let out = preinterp(&["sweep", "list", spec.to_str().unwrap()], d.path());
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
        assert!(stderr(&out).contains(want), "{}", stderr(&out));
    }
}

/// A tiny sweep on the MNIST fixture: two depths, two widths, two batch
/// sizes, so the cost model has every term to fit.
fn tiny_spec(dir: &std::path::Path) -> std::path::PathBuf {
    let spec = dir.join("tiny.toml");
    let data = root().join("fixtures/mnist-small");
    std::fs::write(
        &spec,
        format!(
            "name = \"tiny-plan\"\n[fixed]\ndataset = \"{}\"\ntrain_size = 500\nval_size = 200\n\
             epochs = 4\noptimizer = \"adam\"\n[axes]\ndepth = [1, 2]\nwidth = [32, 256]\n\
             batch_size = [16, 64]\n",
            data.display()
        ),
    )
    .unwrap();
    spec
}

#[test]
fn plan_of_a_calibrated_sweep_schedules_every_run_and_one_core_takes_the_sum() {
    let d = tempfile::tempdir().unwrap();
    let spec = tiny_spec(d.path());
    let (spec, runs) = (spec.to_str().unwrap(), d.path().join("runs"));
    let runs = runs.to_str().unwrap();
    let out = preinterp(
        &["sweep", "run", spec, "--out", runs, "--jobs", "1"],
        d.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let args = [
        "sweep",
        "plan",
        spec,
        "--calibrate",
        runs,
        "--cores",
        "1,2,64",
    ];
    let out = preinterp(&[&args[..], &["--json"]].concat(), d.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let targets = plan["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 8);
    let mut sum = 0.0;
    for t in targets {
        let (pred, real) = (
            t["run_s"].as_f64().unwrap(),
            t["measured_run_s"].as_f64().unwrap(),
        );
        // How close they are is the machine's business (tenths of a
        // second, on cores other tests share): speed is not tested here.
        // That the fit recovers known costs is `sweep::cost`'s unit test.
        assert!(
            pred.is_finite() && pred > 0.0 && real > 0.0,
            "{}: predicted {pred} s, measured {real} s",
            t["id"]
        );
        sum += t["seconds"].as_f64().unwrap();
    }
    let rows = plan["schedule"].as_array().unwrap();
    let one = rows[0]["spec_order_s"].as_f64().unwrap();
    assert!(
        (one - sum).abs() <= 1e-9 * sum,
        "1 core: {one} s, runs sum to {sum} s"
    );
    let many = rows[2]["spec_order_s"].as_f64().unwrap();
    assert!((many - rows[2]["longest_run_s"].as_f64().unwrap()).abs() <= 1e-9 * sum);
    let human = preinterp(&args, d.path());
    assert_eq!(human.status.code(), Some(0), "{}", stderr(&human));
    assert!(
        stdout(&human).contains("longest first"),
        "{}",
        stdout(&human)
    );
}

#[test]
fn plan_without_run_files_or_spec_is_one_clear_line() {
    let d = tempfile::tempdir().unwrap();
    let spec = tiny_spec(d.path());
    let empty = d.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (spec, empty) = (spec.to_str().unwrap(), empty.to_str().unwrap());
    for (args, needle) in [
        (
            vec!["sweep", "plan", spec, "--calibrate", empty],
            "--calibrate",
        ),
        (
            vec!["sweep", "plan", "nope.toml", "--calibrate", empty],
            "nope.toml",
        ),
        (vec!["sweep", "plan", spec], "--calibrate"),
    ] {
        let out = preinterp(&args, d.path());
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{}", stderr(&out));
    }
}

#[test]
fn list_json_is_one_object_per_run() {
    let d = tempfile::tempdir().unwrap();
    let spec = root().join("sweeps/fig3.toml");
    let out = preinterp(
        &["sweep", "list", spec.to_str().unwrap(), "--json"],
        d.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let runs: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(runs.len(), 400);
    assert_eq!(runs[0]["settings"]["epochs"], "150");
    assert_eq!(runs[0]["settings"]["dataset"], "mnist");
    assert!(runs[0]["id"]
        .as_str()
        .unwrap()
        .starts_with("dataset-mnist_"));
}

#[test]
fn a_grid_with_a_negative_or_infinite_rate_is_one_clear_line() {
    let d = tempfile::tempdir().unwrap();
    for lr in ["-0.1", "inf", "nan"] {
        let spec = d.path().join("bad.toml");
        std::fs::write(
            &spec,
            format!("name = \"x\"\nselect_best = \"lr\"\n[axes]\nlr = [{lr}, 0.3]\n"),
        )
        .unwrap();
        let out = preinterp(&["sweep", "list", spec.to_str().unwrap()], d.path());
        assert_eq!(out.status.code(), Some(2), "{lr}");
        assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
        assert!(
            stderr(&out).contains("bad.toml") && stderr(&out).contains("learning rate"),
            "{}",
            stderr(&out)
        );
    }
}
