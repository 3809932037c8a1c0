//! `forgectl key add|list|remove`.

use crate::types::keys::{KeyRef, Title};
use crate::types::timestamp::Timestamp;
use crate::types::user_name::UserName;
use std::path::PathBuf;

/// The commands of `forgectl key`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Add a public key to a user
    ///
    /// The file holds exactly one bare public key line (blank and '#' lines around it are
    /// ignored); key options or a second key are refused. The key's comment is kept for
    /// `key list` but never written to authorized_keys.
    Add {
        /// The key's owner
        user: UserName,
        /// A .pub file holding one public key, or '-' for standard input
        file: PathBuf,
        /// When the key stops working: YYYY-MM-DD (the key no longer works from 00:00 UTC of
        /// that day) or an RFC 3339 time such as 2030-01-31T12:00:00Z; it must be in the future
        /// [default: never]
        #[arg(long, value_name = "DATE", value_parser = Timestamp::parse)]
        expires: Option<Timestamp>,
        /// A name for the key, at most 100 characters [default: the key's comment, cut to 100
        /// characters]
        #[arg(long, value_name = "T", value_parser = Title::parse)]
        title: Option<Title>,
    },
    /// List keys, of one user or of everyone, with title, creation, last use and expiry
    ///
    /// Last use is recorded to the minute when a key logs in; "never" means it has not since
    /// forge started recording.
    List {
        /// Only this user's keys
        user: Option<UserName>,
        /// Only keys not used since DATE (YYYY-MM-DD, 00:00 UTC, or RFC 3339); a key never used
        /// counts if it was added before DATE
        #[arg(long, value_name = "DATE", value_parser = Timestamp::parse)]
        unused_since: Option<Timestamp>,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Remove a key; it is refused at the next login
    Remove {
        /// The key: its id as `forgectl key list` shows it (key-17, or 17), or its SHA256
        /// fingerprint
        #[arg(value_name = "KEY", value_parser = KeyRef::parse)]
        key: KeyRef,
    },
}
