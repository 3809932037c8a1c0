//! The command line of `forge-hook`.

use clap::{Parser, ValueEnum};
use std::path::PathBuf;

/// The git hook of forge repositories: asks forged about each pushed ref update
///
/// git runs it through the shims in forge's hooks folder (core.hooksPath). Exit codes:
/// 0 accepted, 1 refused, 70 internal error, 75 forged unreachable (the push is refused).
#[derive(Debug, Parser)]
#[command(name = "forge-hook", version)]
pub struct Args {
    /// The configuration file [default: $FORGE_CONFIG, else /etc/forge/forge.toml]
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Which hook git is running
    #[arg(value_enum)]
    pub hook: Hook,
}

/// The git hooks forge-hook serves.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Hook {
    /// Decide every update before git makes any
    PreReceive,
    /// Report the updates git made
    PostReceive,
}
