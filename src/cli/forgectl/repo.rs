//! `forgectl repo create|list|perms|remove`.

use crate::types::repo_name::RepoName;
use crate::types::user_name::UserName;

/// The commands of `forgectl repo`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a bare repository that only forge users can reach
    Create {
        /// The name, such as acme/widgets (a trailing .git is dropped)
        #[arg(value_parser = RepoName::from_admin)]
        name: RepoName,
        /// One line saying what the repository holds
        #[arg(long, default_value = "")]
        description: String,
        /// Let every registered user read it
        #[arg(long)]
        public: bool,
        /// Create it from a pattern on this user's behalf, with them as its creator, exactly as
        /// if they had pushed to it
        #[arg(long, conflicts_with = "public")]
        creator: Option<UserName>,
    },
    /// List repositories with their grants
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// List or change the roles (READERS, WRITERS) of a repository created from a pattern
    Perms {
        /// The repository
        #[arg(value_parser = RepoName::from_admin)]
        name: RepoName,
        /// + to give, - to take away; nothing lists
        #[arg(value_parser = ["+", "-"], requires = "role")]
        change: Option<String>,
        /// READERS or WRITERS
        #[arg(requires = "member")]
        role: Option<String>,
        /// A user or @group
        member: Option<String>,
    },
    /// Bring back a removed repository from <repos>/.removed, as a private repository without
    /// grants; the latest removed copy unless --from
    Restore {
        /// The name it had
        #[arg(value_parser = RepoName::from_admin)]
        name: RepoName,
        /// The removed copy to take, by the folder under <repos>/.removed that holds it (the
        /// unix time of its removal)
        #[arg(long, value_name = "TIME")]
        from: Option<String>,
    },
    /// Remove a repository; its files are moved to <repos>/.removed, not deleted
    Remove {
        /// The name
        #[arg(value_parser = RepoName::from_admin)]
        name: RepoName,
        /// Confirm the removal
        #[arg(long)]
        yes: bool,
    },
}
