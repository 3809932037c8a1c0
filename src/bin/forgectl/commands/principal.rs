//! `forgectl principal map|unmap|list`: certificate principals that log in as another user
//! than the one of their name.

use crate::output;
use forge::cli::forgectl::principal::Command;
use forge::exit::{Code, Failure};
use forge::types::shown::Escaped;
use forge::wire::client::Client;
use forge::wire::{Request, Response};

pub fn run(client: &Client, command: Command) -> Result<Code, Failure> {
    match command {
        Command::Map { principal, user } => {
            let request = Request::PrincipalMap {
                principal: principal.clone(),
                user: user.clone(),
            };
            ask!(client, request, Response::Done => ());
            println!(
                "mapped principal '{}' to user '{user}'",
                Escaped(principal.as_str())
            );
        }
        Command::Unmap { principal } => {
            let request = Request::PrincipalUnmap {
                principal: principal.clone(),
            };
            ask!(client, request, Response::Done => ());
            println!("unmapped principal '{}'", Escaped(principal.as_str()));
        }
        Command::List { json } => {
            let principals = ask!(client, Request::PrincipalList, Response::Principals { principals } => principals);
            if json {
                output::json(&principals)?;
            } else {
                let rows: Vec<_> = principals
                    .iter()
                    .map(|p| {
                        vec![
                            p.principal.to_string(),
                            p.user.to_string(),
                            p.created.to_string(),
                        ]
                    })
                    .collect();
                output::table(&["PRINCIPAL", "USER", "CREATED"], &rows);
            }
        }
    }
    Ok(Code::Success)
}
