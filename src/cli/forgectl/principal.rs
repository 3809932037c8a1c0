//! `forgectl principal map|unmap|list`.

use crate::types::certs::Principal;
use crate::types::user_name::UserName;

/// The commands of `forgectl principal`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Log certificates with this principal in as USER
    Map {
        /// The certificate principal: no whitespace, control characters, ',' or '"'
        #[arg(value_parser = Principal::parse)]
        principal: Principal,
        /// The forge user it logs in as
        user: UserName,
    },
    /// Remove a principal's mapping; it logs in as the user of its name again, if any
    Unmap {
        /// The certificate principal
        #[arg(value_parser = Principal::parse)]
        principal: Principal,
    },
    /// List principal mappings
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
}
