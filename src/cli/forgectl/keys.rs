//! `forgectl keys sync`.

use std::path::PathBuf;

/// The commands of `forgectl keys`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Rewrite forge's block of authorized_keys from forged's keys; other lines are kept
    Sync {
        /// The file [default: ~<git_user>/.ssh/authorized_keys]
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
    },
}
