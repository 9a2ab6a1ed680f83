//! Records the compiler and the git commit for `preinterp bench`'s
//! machine fingerprint (`PREINTERP_RUSTC`, `PREINTERP_COMMIT`).

use std::process::Command;

fn run(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    println!(
        "cargo:rustc-env=PREINTERP_RUSTC={}",
        run(&rustc, &["--version"])
    );
    let commit = run("git", &["describe", "--always", "--dirty", "--abbrev=12"]);
    println!("cargo:rustc-env=PREINTERP_COMMIT={commit}");
}
