//! `forgectl audit`.

use crate::types::repo_name::RepoName;
use crate::types::timestamp::Timestamp;
use crate::types::user_name::UserName;

/// The arguments of `forgectl audit`: the ref updates by default, or with `--admin` the
/// changes of state admins asked for, or with `--denied` the access attempts refused.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("which").args(["admin", "denied"])))]
pub struct Args {
    /// List the admin audit instead: every change of state, who asked (uid and name), what,
    /// the result and when, oldest first
    #[arg(long, conflicts_with_all = ["denied", "repo", "user"])]
    pub admin: bool,
    /// List the denied access attempts instead (who, key or CA, repository, access, the rule
    /// that denied), oldest first; a flood is cut to a few rows a minute, each saying how many
    /// attempts before it were left out
    #[arg(long, conflicts_with_all = ["repo", "user"])]
    pub denied: bool,
    /// With --admin or --denied: only rows since DATE (YYYY-MM-DD, 00:00 UTC, or RFC 3339)
    #[arg(long, value_name = "DATE", value_parser = Timestamp::parse, requires = "which")]
    pub since: Option<Timestamp>,
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
