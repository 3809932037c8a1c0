//! `forgectl user add|list|remove`.

use crate::output;
use forge::cli::forgectl::user::Command;
use forge::exit::{Code, Failure};
use forge::wire::client::Client;
use forge::wire::{Request, Response};

pub fn run(client: &Client, command: Command) -> Result<Code, Failure> {
    match command {
        Command::Add { name } => {
            ask!(client, Request::UserAdd { user: name.clone() }, Response::Done => ());
            println!("added user '{name}'");
        }
        Command::List { json } => {
            let users = ask!(client, Request::UserList, Response::Users { users } => users);
            if json {
                output::json(&users)?;
            } else {
                let rows: Vec<_> = users
                    .iter()
                    .map(|u| {
                        vec![
                            u.name.to_string(),
                            u.keys.to_string(),
                            u.created.to_string(),
                        ]
                    })
                    .collect();
                output::table(&["USER", "KEYS", "CREATED"], &rows);
            }
        }
        Command::Remove { name } => {
            ask!(client, Request::UserRemove { user: name.clone() }, Response::Done => ());
            println!("removed user '{name}' with their keys and grants");
        }
    }
    Ok(Code::Success)
}
