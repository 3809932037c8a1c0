//! `forgectl user add|list|remove`.

use crate::types::user_name::UserName;

/// The commands of `forgectl user`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Add a user
    Add {
        /// The user name: letters, digits, '.', '_' and '-'
        name: UserName,
    },
    /// List users with their number of keys
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Remove a user with their keys and grants (their audit history stays)
    Remove {
        /// The user name
        name: UserName,
    },
}
