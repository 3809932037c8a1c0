//! No test file is left out of the binary: with `autotests = false` cargo builds only
//! `tests/it/main.rs` and what it declares, so a file nobody declares would never run, silently.

use std::path::{Path, PathBuf};

/// Returns every `.rs` file under `folder`, at any depth, sorted.
fn rust_files(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![folder.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Returns the file that must declare `file` as a module, and the module's name: `main.rs` for
/// the binary's own folder, else the `mod.rs` of the file's folder (or of its parent, for a
/// `mod.rs`). `None` when `file` is the binary's root.
fn declaring_file(root: &Path, file: &Path) -> Option<(PathBuf, String)> {
    if file == root.join("main.rs") {
        return None;
    }
    let stem = file.file_stem().unwrap().to_str().unwrap();
    let (folder, name) = if stem == "mod" {
        let folder = file.parent().unwrap();
        (folder.parent().unwrap(), folder.file_name().unwrap())
    } else {
        (file.parent().unwrap(), file.file_stem().unwrap())
    };
    let parent = if folder == root {
        root.join("main.rs")
    } else {
        folder.join("mod.rs")
    };
    Some((parent, name.to_str().unwrap().to_owned()))
}

/// Returns whether `text` declares the module `name` (`mod name;`, `pub mod name;`, ...).
fn declares(text: &str, name: &str) -> bool {
    let declaration = format!("mod {name};");
    text.lines().any(|line| {
        let line = line.trim();
        line == declaration
            || line
                .strip_prefix("pub")
                .map(|rest| rest.trim_start_matches("(crate)").trim_start())
                .is_some_and(|rest| rest == declaration)
    })
}

#[test]
fn every_rust_file_under_tests_is_a_module_of_the_binary() {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let root = tests.join("it");
    let mut left_out = Vec::new();
    for file in rust_files(&tests) {
        let shown = file.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap();
        if !file.starts_with(&root) {
            left_out.push(format!(
                "{}: outside tests/it/, so in no binary",
                shown.display()
            ));
            continue;
        }
        let Some((parent, name)) = declaring_file(&root, &file) else {
            continue;
        };
        let text = std::fs::read_to_string(&parent).unwrap_or_default();
        if !declares(&text, &name) {
            let parent = parent.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap();
            left_out.push(format!(
                "{}: add `mod {name};` to {}",
                shown.display(),
                parent.display()
            ));
        }
    }
    assert!(
        left_out.is_empty(),
        "test files that no binary builds:\n{}",
        left_out.join("\n")
    );
}

#[test]
fn a_declaration_is_a_whole_mod_line() {
    let valid = [
        "mod forgectl;",
        "pub mod forgectl;",
        "pub(crate) mod forgectl;",
        "  mod forgectl;",
    ];
    let invalid = [
        "// mod forgectl;",
        "mod forgectl_extra;",
        "mod forge;",
        "use forgectl;",
    ];
    for line in valid {
        assert!(
            declares(line, "forgectl"),
            "{line:?} should declare forgectl"
        );
    }
    for line in invalid {
        assert!(
            !declares(line, "forgectl"),
            "{line:?} should not declare forgectl"
        );
    }
}
