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

use crate::util::{fixtures, preinterp, shared_datasets, stderr};

/// Serves `files` (URL path -> bytes) on 127.0.0.1 until dropped or 60 s
/// pass; 404 for anything else. Returns the base URL.
struct Server {
    base: String,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Server {
    fn start(files: HashMap<String, Vec<u8>>) -> Server {
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
                        let _ = sock.write_all(b);
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
    let files = preinterp::data::FILES
        .iter()
        .map(|f| (format!("/{f}"), std::fs::read(dir.join(f)).unwrap()))
        .collect();
    Server::start(files)
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
