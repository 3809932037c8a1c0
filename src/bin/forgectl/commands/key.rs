//! `forgectl key add|list|remove`.

use crate::output;
use anyhow::Context;
use forge::client::Client;
use forge::exit::Code;
use forge::keys::Fingerprint;
use forge::user_name::UserName;
use forge::wire::{Request, Response};
use std::io::Read;
use std::path::PathBuf;

/// The most bytes read from a key file; forged refuses more anyway.
const MAX_KEY_FILE_BYTES: u64 = 16 * 1024;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Add a public key to a user
    Add {
        /// The key's owner
        user: UserName,
        /// A .pub file holding one public key, or '-' for standard input
        file: PathBuf,
    },
    /// List keys, of one user or of everyone
    List {
        /// Only this user's keys
        user: Option<UserName>,
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
        Command::Add { user, file } => {
            let key = read_key(&file)?;
            let keys = ask!(client, Request::KeyAdd { user: user.clone(), key }, Response::Keys { keys } => keys);
            for key in keys {
                println!(
                    "added {} key {} to '{}' as key-{}",
                    key.algorithm,
                    key.fingerprint,
                    key.user,
                    key.id.get()
                );
            }
        }
        Command::List { user, json } => {
            let keys = ask!(client, Request::KeyList { user }, Response::Keys { keys } => keys);
            if json {
                output::json(&keys)?;
            } else {
                let rows: Vec<_> = keys
                    .iter()
                    .map(|k| {
                        vec![
                            k.user.to_string(),
                            k.id.to_string(),
                            k.algorithm.clone(),
                            k.fingerprint.to_string(),
                            k.created.clone(),
                            k.comment.clone(),
                        ]
                    })
                    .collect();
                output::table(
                    &["USER", "ID", "TYPE", "FINGERPRINT", "CREATED", "COMMENT"],
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
