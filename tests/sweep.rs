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
fn fig3_has_80_configurations_times_3_learning_rates() {
    let spec = root().join("sweeps/fig3.toml");
    let all = ids(&["sweep", "list", spec.to_str().unwrap()]);
    assert_eq!(all.len(), 240);
    let configs: std::collections::BTreeSet<&str> = all
        .iter()
        .map(|i| i.rsplit_once("_lr-").unwrap().0)
        .collect();
    assert_eq!(configs.len(), 80);
}
