//! `forgectl key add|list|remove`.

use crate::output;
use anyhow::Context;
use forge::cli::forgectl::key::Command;
use forge::client::Client;
use forge::exit::Code;
use forge::timestamp::Timestamp;
use forge::wire::{Request, Response};
use std::io::Read;
use std::path::PathBuf;

/// The most bytes read from a key file; forged refuses more anyway.
const MAX_KEY_FILE_BYTES: u64 = 16 * 1024;

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
