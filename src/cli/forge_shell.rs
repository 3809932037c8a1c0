//! The command line of `forge-shell`.

use crate::types::identity::Identity;
use clap::Parser;
use std::path::PathBuf;

/// The forced command of forge keys and certificates: checks SSH_ORIGINAL_COMMAND with forged
/// and runs git
///
/// sshd runs it from an authorized_keys line written by `forgectl keys sync` or printed by
/// `forge-keys`, or an authorized_principals line printed by `forge-keys --principals`. Exit codes:
/// 0 success, 1 refused, 2 usage, 70 internal error, 75 forged unreachable.
#[derive(Debug, Parser)]
#[command(name = "forge-shell", version)]
pub struct Args {
    /// The configuration file [default: $FORGE_CONFIG, else /etc/forge/forge.toml]
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Who logged in: a key as `key-<id>`, a certificate as `cert-<ca id>:<user>`
    #[arg(value_name = "IDENTITY", value_parser = Identity::parse_arg)]
    pub identity: Identity,
}
