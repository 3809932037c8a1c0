//! The test forge.toml and sshd_config, from the templates under `tests/fixtures/` that
//! `scripts/lib/forge-env.sh` (the demo and the benches) fills too: one source for both.

/// `tests/fixtures/forge.toml.in`.
pub const FORGE_TOML: &str = include_str!("../../fixtures/forge.toml.in");

/// `tests/fixtures/sshd_config.in`.
pub const SSHD_CONFIG: &str = include_str!("../../fixtures/sshd_config.in");

/// Returns `template` with each `@NAME@` replaced by its value in `values`, as
/// `forge_env_fill` does; fails the test if a placeholder is left unfilled.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut text = template.to_owned();
    for (name, value) in values {
        text = text.replace(&format!("@{name}@"), value);
    }
    let left = regex::Regex::new("@[A-Z_]+@").unwrap();
    if let Some(placeholder) = left.find(&text) {
        panic!("{} left unfilled in\n{text}", placeholder.as_str());
    }
    text
}
