//! `forgectl principal map|unmap|list`: certificate principals that log in as another user
//! than the one of their name.

use crate::output;
use forge::certs::Principal;
use forge::client::Client;
use forge::exit::Code;
use forge::user_name::UserName;
use forge::wire::{Request, Response};

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

pub fn run(client: &Client, command: Command) -> anyhow::Result<Code> {
    match command {
        Command::Map { principal, user } => {
            let request = Request::PrincipalMap {
                principal: principal.clone(),
                user: user.clone(),
            };
            ask!(client, request, Response::Done => ());
            println!("mapped principal '{principal}' to user '{user}'");
        }
        Command::Unmap { principal } => {
            let request = Request::PrincipalUnmap {
                principal: principal.clone(),
            };
            ask!(client, request, Response::Done => ());
            println!("unmapped principal '{principal}'");
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
                            p.created.clone(),
                        ]
                    })
                    .collect();
                output::table(&["PRINCIPAL", "USER", "CREATED"], &rows);
            }
        }
    }
    Ok(Code::Success)
}
