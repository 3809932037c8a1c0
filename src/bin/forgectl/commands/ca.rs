//! `forgectl ca add|list|remove`: the user CAs whose SSH certificates log users in.

use crate::commands::key::read_key;
use crate::output;
use forge::cli::forgectl::ca::Command;
use forge::exit::{Code, Failure};
use forge::wire::client::Client;
use forge::wire::{Request, Response};

pub fn run(client: &Client, command: Command) -> Result<Code, Failure> {
    match command {
        Command::Add { name, file } => {
            let key = read_key(&file)?;
            let cas = ask!(client, Request::CaAdd { name, key }, Response::Cas { cas } => cas);
            for ca in cas {
                println!(
                    "added {} user CA {} as '{}'",
                    ca.algorithm, ca.fingerprint, ca.name
                );
            }
        }
        Command::List { json } => {
            let cas = ask!(client, Request::CaList, Response::Cas { cas } => cas);
            if json {
                output::json(&cas)?;
            } else {
                let rows: Vec<_> = cas
                    .iter()
                    .map(|ca| {
                        vec![
                            ca.name.to_string(),
                            ca.algorithm.clone(),
                            ca.fingerprint.to_string(),
                            ca.created.to_string(),
                            ca.comment.clone(),
                        ]
                    })
                    .collect();
                output::table(
                    &["NAME", "TYPE", "FINGERPRINT", "CREATED", "COMMENT"],
                    &rows,
                );
            }
        }
        Command::Remove { name } => {
            let cas = ask!(client, Request::CaRemove { name }, Response::Cas { cas } => cas);
            for ca in cas {
                println!("removed user CA '{}' ({})", ca.name, ca.fingerprint);
            }
        }
    }
    Ok(Code::Success)
}
