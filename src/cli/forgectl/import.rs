//! `forgectl import gitolite`.

use std::path::PathBuf;

/// The commands of `forgectl import`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Import a gitolite.conf (and its includes) and, with --keydir, its users' keys
    Gitolite {
        /// The gitolite.conf
        conf: PathBuf,
        /// The keydir (alice.pub, alice@laptop.pub, subfolders)
        #[arg(long, value_name = "DIR")]
        keydir: Option<PathBuf>,
        /// Import what can be imported even when some of it cannot (it is listed)
        #[arg(long)]
        partial: bool,
        /// Only print what would change
        #[arg(long)]
        dry_run: bool,
        /// Replace the policy the forge holds already; without it, an import that would
        /// change that policy shows what it would change and changes nothing
        #[arg(long)]
        replace: bool,
    },
}
