//! `scripts/demo` as a new user meets it (#13): without a Rust toolchain it says in one line
//! what is missing and how to install it, before it touches anything.

use std::path::Path;
use std::process::Command;

/// Returns a folder of links to every program on `PATH` except the Rust toolchain's.
fn path_without_cargo() -> tempfile::TempDir {
    let shadow = tempfile::tempdir().expect("a temporary folder");
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if ["cargo", "rustc", "rustup"].contains(&name.to_string_lossy().as_ref()) {
                continue;
            }
            let link = shadow.path().join(&name);
            if !link.exists() {
                std::os::unix::fs::symlink(entry.path(), link).expect("a link");
            }
        }
    }
    shadow
}

#[test]
fn regression_13_the_demo_without_cargo_says_what_is_missing_in_one_line() {
    let shadow = path_without_cargo();
    let bash = shadow.path().join("bash");
    assert!(bash.exists(), "no bash on PATH");
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/demo");
    let output = Command::new(&bash)
        .arg(&demo)
        .arg("--check")
        .env("PATH", shadow.path())
        .output()
        .expect("bash runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr,
        "scripts/demo: cargo is missing; install Rust with rustup (https://rustup.rs), then rerun\n"
    );
    assert!(output.stdout.is_empty());
}
