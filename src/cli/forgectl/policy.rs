//! `forgectl policy export|apply`, `forgectl protect` and `forgectl unprotect`.

use crate::types::repo_name::RepoName;
use std::path::PathBuf;

/// The commands of `forgectl policy`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the policy (groups, rules, options) as a TOML file
    Export,
    /// Replace the policy with a TOML file's, in one transaction; prints what changes
    Apply {
        /// The policy file, or '-' for standard input
        file: PathBuf,
        /// Only print what would change
        #[arg(long)]
        dry_run: bool,
    },
}

/// The arguments of `forgectl protect`.
#[derive(Debug, clap::Args)]
pub struct ProtectArgs {
    /// The repository
    #[arg(value_parser = RepoName::from_admin)]
    pub repo: RepoName,
    /// The branch to protect: no force push, no delete, and only the pushers push to it
    #[arg(required_unless_present = "tags", conflicts_with = "tags")]
    pub branch: Option<String>,
    /// Make tags immutable instead: the pushers may create tags, nobody moves or deletes one
    #[arg(long)]
    pub tags: bool,
    /// Who may push (users or @groups, comma-separated, all existing); replaces the pushers
    /// of an earlier protection of the same branch or the tags
    #[arg(long, value_delimiter = ',', required = true)]
    pub pushers: Vec<String>,
}

/// The arguments of `forgectl unprotect`.
#[derive(Debug, clap::Args)]
pub struct UnprotectArgs {
    /// The repository
    #[arg(value_parser = RepoName::from_admin)]
    pub repo: RepoName,
    /// The branch whose protection goes
    #[arg(required_unless_present = "tags", conflicts_with = "tags")]
    pub branch: Option<String>,
    /// Remove the protection of the tags instead
    #[arg(long)]
    pub tags: bool,
}
