//! `forgectl grant`, `revoke` and `access`.

use crate::policy::Access;
use crate::types::repo_name::RepoName;
use crate::types::user_name::UserName;

/// The arguments of `forgectl grant`.
#[derive(Debug, clap::Args)]
pub struct GrantArgs {
    /// The repository
    #[arg(value_parser = RepoName::from_admin)]
    pub repo: RepoName,
    /// The user
    pub user: UserName,
    /// read (clone and fetch), write (also push new refs and fast-forwards: RW) or admin (also
    /// force push and delete refs: RW+); replaces any earlier grant
    pub access: Access,
}

/// The arguments of `forgectl revoke`.
#[derive(Debug, clap::Args)]
pub struct RevokeArgs {
    /// The repository
    #[arg(value_parser = RepoName::from_admin)]
    pub repo: RepoName,
    /// The user
    pub user: UserName,
}

/// The arguments of `forgectl access`.
#[derive(Debug, clap::Args)]
pub struct AccessArgs {
    /// The user
    pub user: UserName,
    /// The repository (one that does not exist yet is asked about with USER as its creator)
    #[arg(value_parser = RepoName::from_admin)]
    pub repo: RepoName,
    /// R, W, + (force), C (create a ref), D (delete), M (merge) or ^C (create the repository);
    /// or read, write, force, create, delete
    #[arg(value_parser = parse_operation)]
    pub operation: String,
    /// A ref (main, refs/tags/v1) or VREF/NAME/<path>; without it, any ref
    pub reference: Option<String>,
    /// Also say which rule decided, and where the rule came from
    #[arg(long)]
    pub explain: bool,
    /// Print JSON instead of lines
    #[arg(long)]
    pub json: bool,
}

/// Checks an operation as `forgectl access` takes it, and returns it spelled as gitolite does.
fn parse_operation(text: &str) -> Result<String, String> {
    crate::policy::Need::parse(text)
        .map(|need| need.as_gitolite())
        .map_err(|e| e.to_string())
}
