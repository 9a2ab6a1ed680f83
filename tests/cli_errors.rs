//! Every bad input gets one line on stderr naming the file or flag, exit
//! code 2 (usage) or 1 (runtime), and never a panic.

use std::io::Write;
use std::path::Path;

use flate2::write::GzEncoder;
use flate2::Compression;

use crate::util::{copy_fixture, fixtures, preinterp, stderr, stdout};

/// Runs `args`, expects `code` and a single error line containing every
/// one of `needles`.
fn expect_error(args: &[&str], code: i32, needles: &[&str]) {
    let cache = tempfile::tempdir().unwrap();
    let out = preinterp(args, cache.path());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(code), "args {args:?}: stderr {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {err}");
    assert!(lines[0].starts_with("preinterp: error: "), "{err}");
    for n in needles {
        assert!(err.contains(n), "{err:?} should mention {n:?}");
    }
}

fn train_on(dir: &Path) -> Vec<String> {
    [
        "train",
        "--dataset",
        dir.to_str().unwrap(),
        "--train-size",
        "100",
        "--val-size",
        "50",
        "--epochs",
        "1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn run_on(dir: &Path, code: i32, needles: &[&str]) {
    let args = train_on(dir);
    let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    expect_error(&args, code, needles);
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn gunzip(path: &Path) -> Vec<u8> {
    use std::io::Read;
    let mut v = vec![];
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut v)
        .unwrap();
    v
}

#[test]
fn the_fixture_trains() {
    let cache = tempfile::tempdir().unwrap();
    let dir = fixtures().join("mnist-small");
    let args = train_on(&dir);
    let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    let out = preinterp(&args, cache.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("status: complete"));
    assert!(
        stderr(&out).is_empty(),
        "nothing on stderr when it is not a tty"
    );
}

#[test]
fn corrupt_gzip() {
    let d = tempfile::tempdir().unwrap();
    copy_fixture("mnist-small", d.path());
    let f = d.path().join("train-images-idx3-ubyte.gz");
    let mut b = std::fs::read(&f).unwrap();
    let mid = b.len() / 2;
    for x in &mut b[mid..mid + 64] {
        *x ^= 0x5a;
    }
    std::fs::write(&f, b).unwrap();
    run_on(d.path(), 1, &["train-images-idx3-ubyte.gz", "corrupt gzip"]);
}

#[test]
fn truncated_gzip_and_truncated_idx() {
    let d = tempfile::tempdir().unwrap();
    copy_fixture("mnist-small", d.path());
    let f = d.path().join("train-images-idx3-ubyte.gz");
    let b = std::fs::read(&f).unwrap();
    std::fs::write(&f, &b[..b.len() / 3]).unwrap();
    run_on(d.path(), 1, &["train-images-idx3-ubyte.gz"]);

    // An uncompressed IDX cut short: the header promises 1000 images.
    let d = tempfile::tempdir().unwrap();
    copy_fixture("mnist-small", d.path());
    let raw = gunzip(&f_of(d.path()));
    std::fs::remove_file(f_of(d.path())).unwrap();
    std::fs::write(
        d.path().join("train-images-idx3-ubyte"),
        &raw[..raw.len() - 1000],
    )
    .unwrap();
    run_on(d.path(), 1, &["train-images-idx3-ubyte", "truncated IDX"]);
}

fn f_of(d: &Path) -> std::path::PathBuf {
    d.join("train-images-idx3-ubyte.gz")
}

#[test]
fn wrong_magic_number() {
    let d = tempfile::tempdir().unwrap();
    copy_fixture("mnist-small", d.path());
    let f = d.path().join("train-labels-idx1-ubyte.gz");
    let mut raw = gunzip(&f);
    raw[3] = 0x03; // 0x00000803: an images magic on a labels file
    std::fs::write(&f, gz(&raw)).unwrap();
    run_on(d.path(), 1, &["train-labels-idx1-ubyte.gz", "magic"]);
}

#[test]
fn image_label_count_mismatch() {
    let d = tempfile::tempdir().unwrap();
    copy_fixture("mnist-small", d.path());
    let f = d.path().join("train-labels-idx1-ubyte.gz");
    let mut raw = gunzip(&f);
    raw.truncate(raw.len() - 1);
    raw[4..8].copy_from_slice(&999u32.to_be_bytes());
    std::fs::write(&f, gz(&raw)).unwrap();
    run_on(
        d.path(),
        1,
        &["train-labels-idx1-ubyte.gz", "999 labels", "1000 images"],
    );
}

#[test]
fn checksum_mismatch_against_a_manifest_and_against_canonical() {
    let d = tempfile::tempdir().unwrap();
    copy_fixture("mnist-small", d.path());
    let sums = std::fs::read_to_string(fixtures().join("CHECKSUMS.sha256")).unwrap();
    let mine: String = sums
        .lines()
        .filter(|l| l.contains("mnist-small/") && !l.contains("fashion"))
        .map(|l| l.replace("mnist-small/", ""))
        .map(|l| {
            if l.contains("t10k-labels") {
                format!("{}{}", "0".repeat(64), &l[64..])
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(d.path().join("CHECKSUMS.sha256"), mine).unwrap();
    run_on(
        d.path(),
        1,
        &["t10k-labels-idx1-ubyte.gz", "checksum mismatch"],
    );

    // Fixture files posing as MNIST do not have MNIST's checksums.
    let d = tempfile::tempdir().unwrap();
    copy_fixture("mnist-small", &d.path().join("mnist"));
    let dd = d.path().to_str().unwrap();
    expect_error(
        &["train", "--data-dir", dd, "--no-download", "--epochs", "1"],
        1,
        &["train-images-idx3-ubyte.gz", "checksum mismatch"],
    );
}

#[test]
fn missing_data_folder_says_how_to_supply_one() {
    expect_error(
        &[
            "train",
            "--data-dir",
            "/nonexistent/preinterp-data",
            "--epochs",
            "1",
        ],
        2,
        &[
            "--data-dir",
            "/nonexistent/preinterp-data",
            "PREINTERP_DATA_DIR",
        ],
    );
    let empty = tempfile::tempdir().unwrap();
    let e = empty.path().to_str().unwrap();
    expect_error(
        &["train", "--data-dir", e, "--no-download", "--epochs", "1"],
        1,
        &["mnist not found", "--data-dir"],
    );
}

#[test]
fn impossible_configs_are_usage_errors() {
    let ds = fixtures().join("mnist-small");
    let ds = ds.to_str().unwrap();
    for (flag, value, needle) in [
        ("--width", "0", "--width"),
        ("--depth", "0", "--depth"),
        ("--batch-size", "0", "--batch-size"),
        ("--train-size", "0", "--train-size"),
        ("--lr", "0", "--lr"),
        ("--lr", "-0.1", "--lr"),
        ("--lr", "nan", "--lr"),
        ("--lr", "inf", "--lr"),
        ("--train-size", "1001", "larger than the training pool"),
        ("--preset", "z", "--preset z"),
        ("--momentum", "0.5", "--momentum"),
        ("--loss-hist-range", "1,0.1", "--loss-hist-range"),
        ("--loss-hist-range", "0,3", "--loss-hist-range"),
        ("--loss-hist-range", "1e-8", "--loss-hist-range"),
        (
            "--loss-hist-bins-per-decade",
            "0",
            "--loss-hist-bins-per-decade",
        ),
        ("--weight-hist-bins", "0", "--weight-hist-bins"),
        ("--weight-hist-range", "-1", "--weight-hist-range"),
    ] {
        expect_error(
            &["train", "--dataset", ds, "--epochs", "1", flag, value],
            2,
            &[needle],
        );
    }
    // clap's own errors (unknown flag) also exit 2.
    let cache = tempfile::tempdir().unwrap();
    let out = preinterp(&["train", "--no-such-flag"], cache.path());
    assert_eq!(out.status.code(), Some(2));
    // clap's own errors are one line too, naming the flag.
    expect_error(
        &["train", "--no-such-flag"],
        2,
        &["--no-such-flag", "--help"],
    );
    expect_error(
        &["train", "--epochs"],
        2,
        &["--epochs", "a value is required"],
    );
    expect_error(&["bench", "--only", "evl"], 2, &["--only", "evl", "eval"]);
}

#[test]
fn divergence_is_an_outcome_not_a_crash() {
    let cache = tempfile::tempdir().unwrap();
    let ds = fixtures().join("mnist-small");
    let args = [
        "train",
        "--dataset",
        ds.to_str().unwrap(),
        "--train-size",
        "500",
        "--val-size",
        "100",
        "--optimizer",
        "sgd",
        "--lr",
        "1e6",
        "--epochs",
        "3",
        "--json",
    ];
    let out = preinterp(&args, cache.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["report"]["status"], "diverged");
    assert!(doc["report"]["diverged_at_iteration"].as_u64().unwrap() >= 1);
    // Epoch 0 (before training) is kept; no partial epoch is recorded.
    let epochs = doc["report"]["epochs"].as_array().unwrap();
    assert!(!epochs.is_empty() && epochs.len() <= 3);
    assert!(epochs
        .iter()
        .all(|e| e["train"]["loss"].as_f64().unwrap().is_finite()));
}

/// A model that cannot fit in memory is refused before anything is
/// allocated or loaded: one line naming the flags, the estimate and the
/// machine's memory (it used to abort with a failed allocation).
#[test]
fn a_model_too_large_for_memory_is_refused_up_front() {
    let ds = fixtures().join("mnist-small");
    let ds = ds.to_str().unwrap();
    for (depth, width) in [("3", "60000"), ("100000", "100000")] {
        let flags = format!("--depth {depth} --width {width}: the model needs about ");
        expect_error(
            &["train", "--dataset", ds, "--depth", depth, "--width", width],
            2,
            &[&flags, "GB", "of memory"],
        );
    }
}

/// A sweep key or flag that is not a setting names itself; a flag whose
/// value has the wrong type names the flag.
#[test]
fn settings_errors_name_the_key_or_flag() {
    expect_error(&["train", "--lr", "abc"], 2, &["--lr abc: not a number"]);
    expect_error(
        &["train", "--optimizer", "adamw"],
        2,
        &["--optimizer adamw", "adam, sgd"],
    );
    expect_error(
        &["train", "--epochs", "3", "--until-interpolation"],
        2,
        &["--epochs", "--until-interpolation"],
    );
    let d = tempfile::tempdir().unwrap();
    let r = d.path().join("r.h5");
    expect_error(
        &["train", "--resume", r.to_str().unwrap(), "--width", "5"],
        2,
        &["--resume: --width cannot be given"],
    );
}

/// Every command's help uses one value-name style (`<FILE>`, `<DIR>`,
/// `<N>`, ...: no flag's own name as its value) and the short flags
/// users expect.
#[test]
fn help_uses_one_value_name_style_and_short_flags() {
    let cache = tempfile::tempdir().unwrap();
    let commands: [&[&str]; 11] = [
        &[],
        &["train"],
        &["report"],
        &["reproduce", "a"],
        &["reproduce", "paper"],
        &["sweep", "list"],
        &["sweep", "collect"],
        &["sweep", "run"],
        &["sweep", "plan"],
        &["bench"],
        &["compare"],
    ];
    let mut all = String::new();
    // `-q` only where there is progress to quieten.
    let quiet: [&[&str]; 4] = [
        &["train"],
        &["reproduce", "a"],
        &["reproduce", "paper"],
        &["sweep", "run"],
    ];
    for c in commands {
        let mut args = c.to_vec();
        args.push("--help");
        let out = preinterp(&args, cache.path());
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert_eq!(
            stdout(&out).contains("-q, --quiet"),
            quiet.contains(&c),
            "{args:?}"
        );
        all += &stdout(&out);
    }
    for bad in [
        "<SAVE_INIT>",
        "<OUT>",
        "<DATA_DIR>",
        "<REPEATS>",
        "<JOBS>",
        "<THRESHOLD>",
        "_",
    ] {
        let hit = all
            .split('<')
            .skip(1)
            .filter_map(|s| s.split('>').next())
            .find(|v| format!("<{v}>") == bad || (bad == "_" && v.contains('_')));
        assert!(hit.is_none(), "value name {hit:?} in the help");
    }
    for want in [
        "-o, --out <FILE>",
        "-o, --out <DIR>",
        "-j, --jobs <N>",
        "-q, --quiet",
        "-h, --help",
    ] {
        assert!(all.contains(want), "no {want} in the help");
    }
}
