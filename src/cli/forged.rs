//! The command line of `forged`.

use clap::Parser;
use std::path::PathBuf;

/// The forge daemon: decides every git access and keeps forge's state
///
/// Listens on the Unix socket named in forge.toml, and serves forge-shell, forge-hook and
/// forgectl until SIGTERM or SIGINT. Exit codes: 0 stopped cleanly, 1 bad configuration,
/// 70 cannot serve (the log says why).
#[derive(Debug, Parser)]
#[command(name = "forged", version)]
pub struct Args {
    /// The configuration file [default: $FORGE_CONFIG, else /etc/forge/forge.toml]
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}
