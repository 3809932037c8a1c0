//! `forgectl ca add|list|remove`: the user CAs whose SSH certificates log users in.

use crate::types::certs::CaName;
use std::path::PathBuf;

/// The commands of `forgectl ca`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Trust a user CA: certificates it signs log in as the users their principals name
    Add {
        /// A name for the CA: letters, digits, '.', '_' and '-'
        #[arg(value_parser = CaName::parse)]
        name: CaName,
        /// A .pub file holding the CA's public key, or '-' for standard input
        file: PathBuf,
    },
    /// List the trusted user CAs
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Stop trusting a user CA; its certificates are refused at the next login
    Remove {
        /// The CA's name
        #[arg(value_parser = CaName::parse)]
        name: CaName,
    },
}
