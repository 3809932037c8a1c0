//! The library's layout, checked: no file imports one that (through others) imports it back,
//! and the arrows between the sides of the socket point only the allowed way. The modules are
//! read from `src/` as text, `use` paths resolved to the file that defines them; test modules
//! are left out, since they may reach across for fixtures.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path (`["daemon", "handlers", "shell"]`) to the file that defines it.
type Modules = BTreeMap<Vec<String>, PathBuf>;

/// Which sides a side may not import from.
const FORBIDDEN: &[(&str, &[&str])] = &[
    ("shim", &["daemon", "store", "admin"]),
    ("store", &["wire", "daemon", "shim", "admin"]),
    ("wire", &["daemon", "store", "shim", "admin"]),
    (
        "types",
        &["daemon", "store", "shim", "admin", "wire", "policy"],
    ),
    ("policy", &["daemon", "store", "shim", "admin", "wire"]),
    (
        "exit",
        &[
            "daemon", "store", "shim", "admin", "wire", "policy", "types",
        ],
    ),
    (
        "fault",
        &[
            "daemon", "store", "shim", "admin", "wire", "policy", "types", "exit",
        ],
    ),
];

fn modules() -> Modules {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Modules::new();
    let mut folders = vec![src.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path != src.join("bin") {
                    folders.push(path);
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(&src).unwrap().with_extension("");
            let mut parts: Vec<String> = relative
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
                parts.pop();
            }
            found.insert(parts, path);
        }
    }
    found
}

/// Returns the longest prefix of `path` that is a module.
fn resolve(modules: &Modules, path: &[String]) -> Option<Vec<String>> {
    (1..=path.len())
        .rev()
        .map(|end| path[..end].to_vec())
        .find(|prefix| modules.contains_key(prefix))
}

/// Returns the paths `text` names after `prefix` (`crate` or `super`), each as segments,
/// with a `{...}` group expanded.
fn paths_after(text: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let needle = format!("{prefix}::");
    let mut rest = text;
    while let Some(at) = rest.find(&needle) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + needle.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        let base: Vec<String> = rest[..end]
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if rest[end..].starts_with('{') {
            let close = rest[end..].find('}').map_or(rest.len(), |c| end + c);
            for item in rest[end + 1..close].split(',') {
                let mut path = base.clone();
                path.extend(
                    item.trim()
                        .split("::")
                        .filter(|s| !s.is_empty() && *s != "self")
                        .map(str::to_owned),
                );
                paths.push(path);
            }
        } else {
            paths.push(base);
        }
    }
    paths
}

fn imports(modules: &Modules) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let mut graph = BTreeMap::new();
    for (module, file) in modules {
        let text = std::fs::read_to_string(file).unwrap();
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
        let code = code
            .split("#[cfg(test)]\npub(crate) mod tests")
            .next()
            .unwrap_or("");
        let is_folder = file.ends_with("mod.rs") || file.ends_with("lib.rs");
        let mut parent = module.clone();
        if !is_folder {
            parent.pop();
        }
        let mut parent_of_folder = parent.clone();
        parent_of_folder.pop();
        let mut found = BTreeSet::new();
        for path in paths_after(code, "crate") {
            found.extend(resolve(modules, &path));
        }
        for path in paths_after(code, "super") {
            let mut full = if is_folder {
                parent_of_folder.clone()
            } else {
                parent.clone()
            };
            full.extend(path);
            found.extend(resolve(modules, &full));
        }
        found.remove(module);
        graph.insert(module.clone(), found);
    }
    graph
}

fn shown(module: &[String]) -> String {
    if module.is_empty() {
        "lib".into()
    } else {
        module.join("/")
    }
}

/// Returns a cycle through `start`, if any: the modules on it in order.
fn cycle_through(
    graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
    start: &Vec<String>,
) -> Option<Vec<Vec<String>>> {
    let mut stack = vec![(start.clone(), vec![start.clone()])];
    let mut seen = BTreeSet::new();
    while let Some((at, path)) = stack.pop() {
        for next in graph.get(&at).into_iter().flatten() {
            if next == start {
                return Some(path);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push((next.clone(), longer));
            }
        }
    }
    None
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let modules = modules();
    assert!(modules.len() > 50, "only {} modules found", modules.len());
    let graph = imports(&modules);
    let cycles: Vec<String> = graph
        .keys()
        .filter_map(|module| cycle_through(&graph, module))
        .map(|cycle| {
            let names: Vec<String> = cycle.iter().map(|m| shown(m)).collect();
            format!("{} -> {}", names.join(" -> "), names[0])
        })
        .collect();
    assert!(
        cycles.is_empty(),
        "import cycles (give the shared idea one home):\n{}",
        cycles.join("\n")
    );
}

#[test]
fn the_sides_depend_only_the_allowed_way() {
    let modules = modules();
    let graph = imports(&modules);
    let mut wrong = Vec::new();
    for (module, imported) in &graph {
        let Some(side) = module.first() else { continue };
        let Some((_, forbidden)) = FORBIDDEN.iter().find(|(s, _)| s == side) else {
            continue;
        };
        for other in imported {
            if other
                .first()
                .is_some_and(|o| forbidden.contains(&o.as_str()))
            {
                wrong.push(format!("{} -> {}", shown(module), shown(other)));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layout:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_checks_see_a_cycle_and_a_wrong_way_arrow() {
    let code = "use crate::store::Store;\nuse super::{answer::Failure, creation};\n";
    let paths = paths_after(code, "crate");
    assert_eq!(paths, vec![vec!["store".to_owned(), "Store".to_owned()]]);
    let grouped = paths_after(code, "super");
    assert_eq!(grouped.len(), 2, "{grouped:?}");
    let name = |s: &str| vec![s.to_owned()];
    let graph = BTreeMap::from([
        (name("a"), BTreeSet::from([name("b")])),
        (name("b"), BTreeSet::from([name("a")])),
    ]);
    assert!(cycle_through(&graph, &name("a")).is_some());
}
