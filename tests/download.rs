//! The downloader against a local HTTP server on loopback (127.0.0.1
//! only), serving fixture files and a corrupted one.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use preinterp::data::fetch::{download, sha256_file};
use preinterp::ErrorKind;

use crate::util::{fixtures, preinterp, shared_datasets, stderr, stdout};

/// Serves `files` (URL path -> bytes) on 127.0.0.1 until dropped or 60 s
/// pass; 404 for anything else. Returns the base URL. A truncating
/// server announces each file's full length but sends only half of it.
struct Server {
    base: String,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Server {
    fn start(files: HashMap<String, Vec<u8>>) -> Server {
        Server::spawn(files, false)
    }

    fn truncating(files: HashMap<String, Vec<u8>>) -> Server {
        Server::spawn(files, true)
    }

    fn spawn(files: HashMap<String, Vec<u8>>, truncate: bool) -> Server {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let base = format!("http://{}/", l.local_addr().unwrap());
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let s2 = stop.clone();
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut served = 0;
            while Instant::now() < deadline
                && served < 64
                && !s2.load(std::sync::atomic::Ordering::Relaxed)
            {
                let Ok((mut sock, _)) = l.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                served += 1;
                sock.set_nonblocking(false).unwrap();
                let mut r = BufReader::new(sock.try_clone().unwrap());
                let mut line = String::new();
                r.read_line(&mut line).unwrap();
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).unwrap() == 0 || h == "\r\n" {
                        break;
                    }
                }
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                match files.get(&path) {
                    Some(b) => {
                        let _ = write!(
                            sock,
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            b.len()
                        );
                        let sent = if truncate { &b[..b.len() / 2] } else { b };
                        let _ = sock.write_all(sent);
                    }
                    None => {
                        let _ = sock.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    }
                }
            }
        });
        Server { base, stop }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Serves the four dataset files of `dir` under their canonical names.
fn serve_dataset(dir: &Path) -> Server {
    Server::start(dataset_files(dir, "/"))
}

/// The four dataset files of `dir` as URL paths `PREFIX<name>` -> bytes.
fn dataset_files(dir: &Path, prefix: &str) -> HashMap<String, Vec<u8>> {
    preinterp::data::FILES
        .iter()
        .map(|f| (format!("{prefix}{f}"), std::fs::read(dir.join(f)).unwrap()))
        .collect()
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn downloads_verify_and_write_atomically() {
    let src = fixtures().join("mnist-small/t10k-labels-idx1-ubyte.gz");
    let good = std::fs::read(&src).unwrap();
    let mut bad = good.clone();
    let n = bad.len();
    bad[n / 2] ^= 1;
    let want = sha256_file(&src).unwrap();
    let server = Server::start(HashMap::from([
        ("/good.gz".to_string(), good.clone()),
        ("/bad.gz".to_string(), bad),
    ]));
    let dir = tempfile::tempdir().unwrap();

    let dest = dir.path().join("labels.gz");
    download(&format!("{}good.gz", server.base), &dest, &want).unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), good);

    let dest2 = dir.path().join("corrupt.gz");
    let e = download(&format!("{}bad.gz", server.base), &dest2, &want).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Data);
    assert!(
        e.to_string().contains("checksum mismatch") && e.to_string().contains("nothing was cached"),
        "{e}"
    );
    assert!(!dest2.exists());

    let e = download(&format!("{}missing.gz", server.base), &dest2, &want).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Download);
    assert!(e.to_string().contains("missing.gz"), "{e}");
    let mut names = leftovers(dir.path());
    names.sort();
    assert_eq!(
        names,
        vec!["labels.gz".to_string()],
        "no temp files left behind"
    );
}

#[test]
fn cli_refuses_a_corrupt_mirror_and_caches_nothing() {
    // Fixture files served under MNIST's names do not match MNIST's
    // canonical checksums.
    let server = serve_dataset(&fixtures().join("mnist-small"));
    let cache = tempfile::tempdir().unwrap();
    let out = preinterp(
        &["train", "--mirror", &server.base, "--epochs", "1"],
        cache.path(),
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("checksum mismatch") && err.contains("train-images-idx3-ubyte.gz"),
        "{err}"
    );
    let mnist = cache.path().join("mnist");
    assert!(
        leftovers(&mnist).is_empty(),
        "cached: {:?}",
        leftovers(&mnist)
    );
}

/// The real MNIST, served from `../shared/datasets/mnist` (present in CI),
/// lands in the cache and is then used without the server.
#[test]
fn cli_downloads_mnist_into_the_cache_then_uses_it() {
    let real = shared_datasets().join("mnist");
    assert!(
        real.is_dir(),
        "{} is needed for this test (CI has it)",
        real.display()
    );
    let server = serve_dataset(&real);
    let cache = tempfile::tempdir().unwrap();
    let small = [
        "--train-size",
        "200",
        "--val-size",
        "100",
        "--width",
        "8",
        "--epochs",
        "1",
    ];
    let run = |first: &[&str]| {
        let args: Vec<&str> = ["train"]
            .iter()
            .chain(first)
            .chain(&small)
            .copied()
            .collect();
        preinterp(&args, cache.path())
    };
    let out = run(&["--mirror", &server.base]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut names = leftovers(&cache.path().join("mnist"));
    names.sort();
    let mut want: Vec<String> = preinterp::data::FILES
        .iter()
        .map(|s| s.to_string())
        .collect();
    want.sort();
    assert_eq!(names, want);
    drop(server);
    let out = run(&["--no-download"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

fn sorted_names(dir: &Path) -> Vec<String> {
    let mut names = leftovers(dir);
    names.sort();
    names
}

fn canonical_names() -> Vec<String> {
    let mut want: Vec<String> = preinterp::data::FILES
        .iter()
        .map(|s| s.to_string())
        .collect();
    want.sort();
    want
}

/// `fetch all` from a loopback mirror serving the real datasets fills a
/// folder that `train --no-download --data-dir` then uses offline; a
/// second `fetch` reuses the verified files without the server.
#[test]
fn fetch_fills_a_folder_that_train_uses_offline() {
    let real = shared_datasets();
    assert!(
        real.join("mnist").is_dir() && real.join("fashion-mnist").is_dir(),
        "{} is needed for this test (CI has it)",
        real.display()
    );
    let mut files = dataset_files(&real.join("mnist"), "/mnist/");
    files.extend(dataset_files(
        &real.join("fashion-mnist"),
        "/fashion-mnist/",
    ));
    let server = Server::start(files);
    let cache = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let to = tmp.path().join("data");
    let to_s = to.to_str().unwrap();
    let mirror = format!("{}{{dataset}}/", server.base);
    let fetch = |extra: &[&str]| {
        let mut args = vec!["fetch", "all", "--to", to_s];
        args.extend(extra);
        preinterp(&args, cache.path())
    };
    let out = fetch(&["--mirror", &mirror]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("8 files downloaded, 0 already there"),
        "{text}"
    );
    assert!(text.contains(&format!("--data-dir {to_s}")), "{text}");
    assert!(
        text.contains(&format!("PREINTERP_DATA_DIR={to_s}")),
        "{text}"
    );
    for name in ["mnist", "fashion-mnist"] {
        assert_eq!(sorted_names(&to.join(name)), canonical_names(), "{name}");
    }
    assert!(leftovers(cache.path()).is_empty(), "the cache stays empty");
    drop(server);

    // Again, with the server gone: nothing to download.
    let out = fetch(&["--mirror", &mirror]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("0 files downloaded, 8 already there"),
        "{text}"
    );
    assert_eq!(
        text.matches("already there and verified").count(),
        8,
        "{text}"
    );
    let out = fetch(&["--no-download"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    for dataset in ["mnist", "fashion-mnist"] {
        let out = preinterp(
            &[
                "train",
                "--no-download",
                "--data-dir",
                to_s,
                "--dataset",
                dataset,
                "--train-size",
                "200",
                "--val-size",
                "100",
                "--width",
                "8",
                "--epochs",
                "1",
            ],
            cache.path(),
        );
        assert_eq!(out.status.code(), Some(0), "{dataset}: {}", stderr(&out));
    }
}

/// Runs `fetch mnist --to DIR/data ARGS` with an empty cache; returns the
/// exit code, stderr, and the files left in DIR/data/mnist.
fn failing_fetch(extra: &[&str]) -> (Option<i32>, String, Vec<String>) {
    let cache = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let to = tmp.path().join("data");
    let mut args = vec!["fetch", "mnist", "--to", to.to_str().unwrap()];
    args.extend(extra);
    let out = preinterp(&args, cache.path());
    let mnist = to.join("mnist");
    let left = if mnist.is_dir() {
        sorted_names(&mnist)
    } else {
        vec![]
    };
    (out.status.code(), stderr(&out), left)
}

/// The `downloading` progress lines go to stderr too; the error is the
/// one line after them.
fn error_lines(err: &str) -> Vec<&str> {
    err.lines()
        .filter(|l| !l.contains(": downloading "))
        .collect()
}

#[test]
fn fetch_refuses_bad_files_in_one_line_and_keeps_nothing() {
    let fixture = fixtures().join("mnist-small");
    // Fixture files under MNIST's names: the checksum does not match.
    let server = serve_dataset(&fixture);
    let (code, err, left) = failing_fetch(&["--mirror", &server.base]);
    assert_eq!(code, Some(1), "{err}");
    let lines = error_lines(&err);
    assert_eq!(lines.len(), 1, "{err}");
    let url = format!("{}train-images-idx3-ubyte.gz", server.base);
    assert!(
        lines[0].contains("checksum mismatch") && lines[0].contains(&url),
        "{err}"
    );
    assert!(left.is_empty(), "left behind: {left:?}");
    drop(server);

    // A transfer cut short (a truncated gzip).
    let server = Server::truncating(dataset_files(&fixture, "/"));
    let url = format!("{}train-images-idx3-ubyte.gz", server.base);
    let (code, err, left) = failing_fetch(&["--mirror", &server.base]);
    assert_eq!(code, Some(1), "{err}");
    let lines = error_lines(&err);
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains(&url), "{err}");
    assert!(left.is_empty(), "left behind: {left:?}");
    drop(server);

    // Nobody listening.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = format!("http://127.0.0.1:{port}/");
    let (code, err, left) = failing_fetch(&["--mirror", &dead]);
    assert_eq!(code, Some(1), "{err}");
    let lines = error_lines(&err);
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].contains("could not download mnist") && lines[0].contains(&dead),
        "{err}"
    );
    assert!(left.is_empty(), "left behind: {left:?}");

    // Checking a folder that is not there, without downloads.
    let (code, err, _) = failing_fetch(&["--no-download"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("downloads are off") && err.lines().count() == 1,
        "{err}"
    );
}

#[test]
fn fetch_refuses_an_unusable_folder_or_mirror_up_front() {
    let cache = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    // --to below a plain file cannot be created (root can write anywhere,
    // so no permission bits are used here).
    let file = tmp.path().join("plain");
    std::fs::write(&file, b"x").unwrap();
    let to = file.join("data");
    let out = preinterp(
        &[
            "fetch",
            "mnist",
            "--to",
            to.to_str().unwrap(),
            "--mirror",
            "http://127.0.0.1:9/",
        ],
        cache.path(),
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&to.join("mnist").display().to_string()),
        "{err}"
    );

    // One mirror without {dataset} cannot serve both datasets.
    let out = preinterp(
        &[
            "fetch",
            "all",
            "--to",
            tmp.path().to_str().unwrap(),
            "--mirror",
            "http://127.0.0.1:9/",
        ],
        cache.path(),
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("{dataset}") && err.lines().count() == 1,
        "{err}"
    );
    assert!(
        leftovers(tmp.path()) == vec!["plain".to_string()],
        "nothing created"
    );
}
