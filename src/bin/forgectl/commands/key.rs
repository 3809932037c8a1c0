//! `forgectl key add|list|remove`.

use crate::output;
use forge::admin::{input, table};
use forge::cli::forgectl::key::Command;
use forge::exit::{Code, Failure};
use forge::wire::client::Client;
use forge::wire::{Request, Response};
use std::path::Path;

/// The most bytes read from a key file; forged refuses more anyway.
const MAX_KEY_FILE_BYTES: u64 = 16 * 1024;

/// Reads a `.pub` file, or standard input for `-`, up to the size forged accepts.
pub fn read_key(file: &Path) -> Result<String, Failure> {
    Ok(input::read_text(file, MAX_KEY_FILE_BYTES)?)
}

pub fn run(client: &Client, command: Command) -> Result<Code, Failure> {
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
                output::lines(table::of(&keys));
            }
        }
        Command::Remove { key } => {
            let keys = ask!(client, Request::KeyRemove { key }, Response::Keys { keys } => keys);
            for key in keys {
                println!(
                    "removed key-{} {} of '{}'",
                    key.id.get(),
                    key.fingerprint,
                    key.user
                );
            }
        }
    }
    Ok(Code::Success)
}
