//! `forgectl audit`.

use crate::types::repo_name::RepoName;
use crate::types::user_name::UserName;

/// The arguments of `forgectl audit`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only updates to this repository
    #[arg(long, value_parser = RepoName::from_admin)]
    pub repo: Option<RepoName>,
    /// Only updates by this user
    #[arg(long)]
    pub user: Option<UserName>,
    /// At most this many entries
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}
