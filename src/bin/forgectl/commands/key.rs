//! `forgectl key add|list|remove`.

use crate::output;
use anyhow::Context;
use forge::client::Client;
use forge::exit::Code;
use forge::keys::{Fingerprint, Title};
use forge::timestamp::Timestamp;
use forge::user_name::UserName;
use forge::wire::{Request, Response};
use std::io::Read;
use std::path::PathBuf;

/// The most bytes read from a key file; forged refuses more anyway.
const MAX_KEY_FILE_BYTES: u64 = 16 * 1024;

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
        /// The key's SHA256 fingerprint, as `forgectl key list` shows it
        #[arg(value_parser = Fingerprint::parse)]
        fingerprint: Fingerprint,
    },
}

/// Reads a `.pub` file, or standard input for `-`, up to the size forged accepts.
pub fn read_key(file: &PathBuf) -> anyhow::Result<String> {
    let mut text = String::new();
    let mut limited: Box<dyn Read> = if file.as_os_str() == "-" {
        Box::new(std::io::stdin().take(MAX_KEY_FILE_BYTES + 1))
    } else {
        let opened =
            std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
        Box::new(opened.take(MAX_KEY_FILE_BYTES + 1))
    };
    limited
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read {} as text", file.display()))?;
    Ok(text)
}

pub fn run(client: &Client, command: Command) -> anyhow::Result<Code> {
    match command {
        Command::Add {
            user,
            file,
            expires,
            title,
        } => {
            let key = read_key(&file)?;
            let request = Request::KeyAdd {
                user: user.clone(),
                key,
                title,
                expires,
            };
            let keys = ask!(client, request, Response::Keys { keys } => keys);
            for key in keys {
                let until = key
                    .expires
                    .map(|at| format!(", expires {at}"))
                    .unwrap_or_default();
                println!(
                    "added {} key {} to '{}' as key-{}{until}",
                    key.algorithm,
                    key.fingerprint,
                    key.user,
                    key.id.get()
                );
            }
        }
        Command::List {
            user,
            unused_since,
            json,
        } => {
            let request = Request::KeyList { user, unused_since };
            let keys = ask!(client, request, Response::Keys { keys } => keys);
            if json {
                output::json(&keys)?;
            } else {
                let rows: Vec<_> = keys
                    .iter()
                    .map(|k| {
                        let or = |at: Option<Timestamp>, none: &str| {
                            at.map_or_else(|| none.to_owned(), |at| at.to_string())
                        };
                        vec![
                            k.user.to_string(),
                            k.id.to_string(),
                            k.algorithm.clone(),
                            k.fingerprint.to_string(),
                            if k.title.is_empty() {
                                "-".to_owned()
                            } else {
                                k.title.clone()
                            },
                            k.created.clone(),
                            or(k.last_used, "never"),
                            or(k.expires, "never"),
                        ]
                    })
                    .collect();
                output::table(
                    &[
                        "USER",
                        "ID",
                        "TYPE",
                        "FINGERPRINT",
                        "TITLE",
                        "CREATED",
                        "LAST-USED",
                        "EXPIRES",
                    ],
                    &rows,
                );
            }
        }
        Command::Remove { fingerprint } => {
            let keys =
                ask!(client, Request::KeyRemove { fingerprint }, Response::Keys { keys } => keys);
            for key in keys {
                println!("removed key {} of '{}'", key.fingerprint, key.user);
            }
        }
    }
    Ok(Code::Success)
}
