//! The README tells the truth about the code: its presets table (in
//! "What `train` does") lists every preset with the model, data,
//! optimiser, learning rate and batch size the code uses.

use preinterp::config::{Preset, RunConfig};
use preinterp::data::DatasetSpec;
use preinterp::optim::OptimizerKind;

use crate::util::root;

/// The presets table's rows: `| a | 3x100 | 5k MNIST | Adam, lr 3e-3 | 64 |`.
fn preset_rows(readme: &str) -> Vec<Vec<String>> {
    let mut lines = readme.lines().skip_while(|l| !l.starts_with("| preset |"));
    assert!(lines.next().is_some(), "no presets table in README.md");
    lines
        .skip(1) // |---|
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

/// A row as the code's preset would write it.
fn row_of(flag: &str, c: &RunConfig) -> Vec<String> {
    let data = match &c.dataset {
        DatasetSpec::Named(id) => match id.name() {
            "mnist" => "MNIST",
            "fashion-mnist" => "Fashion-MNIST",
            other => other,
        },
        DatasetSpec::Folder(_) => "a folder",
    };
    let optimiser = match c.optimizer {
        OptimizerKind::Adam { lr, .. } => format!("Adam, lr {}", short(lr)),
        OptimizerKind::Sgd { lr, .. } => format!("SGD, lr {}", short(lr)),
    };
    vec![
        flag.to_string(),
        format!("{}x{}", c.shape.depth, c.shape.width),
        format!("{}k {data}", c.train_size / 1000),
        optimiser,
        c.batch_size.to_string(),
    ]
}

/// `0.003` -> `3e-3`, `0.1` -> `0.1`: as the README writes rates.
fn short(x: f64) -> String {
    if x < 0.01 {
        let e = x.log10().floor();
        format!("{}e{}", (x / 10f64.powf(e)).round(), e)
    } else {
        format!("{x}")
    }
}

#[test]
fn the_presets_table_matches_the_presets_in_code() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let rows = preset_rows(&readme);
    let presets = Preset::ALL;
    assert_eq!(rows.len(), presets.len(), "{rows:?}");
    for (row, p) in rows.iter().zip(&presets) {
        assert_eq!(
            row,
            &row_of(p.flag(), &p.config()),
            "README.md presets table"
        );
    }
}

#[test]
fn rates_are_written_as_the_readme_writes_them() {
    assert_eq!(short(3e-3), "3e-3");
    assert_eq!(short(3e-4), "3e-4");
    assert_eq!(short(1e-3), "1e-3");
    assert_eq!(short(0.1), "0.1");
    assert_eq!(short(0.01), "0.01");
}
