//! `forgectl setup sshd`.

use crate::admin::sshd_setup;
use std::path::PathBuf;

/// The commands of `forgectl setup`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Put forge behind the system sshd: write a Match block for the git account and reload sshd
    ///
    /// Prints the file it will write (and the diff from the one already there), asks, writes it
    /// atomically, validates the main configuration with `sshd -t` (putting the previous file
    /// back if sshd rejects it) and reloads sshd. Other accounts log in as before.
    Sshd(SshdArgs),
}

/// The options of `forgectl setup sshd`.
#[derive(Debug, clap::Args)]
pub struct SshdArgs {
    /// Write without asking (needed when there is no terminal)
    #[arg(long)]
    pub yes: bool,
    /// Do not reload sshd afterwards
    #[arg(long)]
    pub no_reload: bool,
    /// Also trust this user CA (public key) and let forge-keys answer for its certificates
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// The snippet to write
    #[arg(long, value_name = "PATH", default_value = sshd_setup::DEFAULT_FILE)]
    pub file: PathBuf,
    /// The sshd binary that validates the configuration
    #[arg(long, value_name = "PATH", default_value = sshd_setup::DEFAULT_SSHD)]
    pub sshd: PathBuf,
    /// The main sshd configuration, which must include the snippet
    #[arg(long, value_name = "PATH", default_value = sshd_setup::DEFAULT_MAIN_CONFIG)]
    pub sshd_config: PathBuf,
}
