//! `forgectl repo create|list|remove`.

use crate::output;
use forge::cli::forgectl::repo::Command;
use forge::exit::{self, Code, Failure};
use forge::types::shown::Escaped;
use forge::wire::client::Client;
use forge::wire::{Request, Response, RoleChange};

pub fn run(client: &Client, command: Command) -> Result<Code, Failure> {
    match command {
        Command::Create {
            name,
            description,
            public,
            creator,
        } => {
            let request = Request::RepoCreate {
                repo: name.clone(),
                description,
                public,
                creator: creator.clone(),
            };
            ask!(client, request, Response::Done => ());
            match creator {
                Some(creator) => {
                    println!("created repository '{name}' for its creator '{creator}'")
                }
                None if public => println!("created public repository '{name}'"),
                None => println!("created private repository '{name}'"),
            }
        }
        Command::Perms {
            name,
            change,
            role,
            member,
        } => {
            let change = match (change.as_deref(), role, member) {
                (Some("+"), Some(role), Some(member)) => RoleChange::Add { role, member },
                (Some(_), Some(role), Some(member)) => RoleChange::Remove { role, member },
                _ => RoleChange::List,
            };
            let (creator, roles) = ask!(client, Request::RepoPerms { repo: name.clone(), change }, Response::Roles { creator, roles } => (creator, roles));
            println!(
                "creator: {}",
                creator
                    .as_deref()
                    .unwrap_or("(none: not created from a pattern)")
            );
            for (role, member) in roles {
                println!("{} {}", Escaped(&role), Escaped(&member));
            }
        }
        Command::List { json } => {
            let repos = ask!(client, Request::RepoList, Response::Repos { repos } => repos);
            if json {
                output::json(&repos)?;
            } else {
                let rows: Vec<_> = repos
                    .iter()
                    .map(|r| {
                        let grants: Vec<String> = r
                            .grants
                            .iter()
                            .map(|g| format!("{}={}", g.user, g.access))
                            .collect();
                        vec![
                            r.name.to_string(),
                            if r.public { "public" } else { "private" }.to_owned(),
                            grants.join(","),
                            r.description.clone(),
                        ]
                    })
                    .collect();
                output::table(&["REPO", "VISIBILITY", "GRANTS", "DESCRIPTION"], &rows);
            }
        }
        Command::Restore { name, from } => return super::repo_restore::run(client, name, from),
        Command::Remove { name, yes } => {
            if !yes {
                let line = format!(
                    "not removing '{name}': its users lose access at once; add --yes to confirm"
                );
                return Ok(refused(&line));
            }
            ask!(client, Request::RepoRemove { repo: name.clone() }, Response::Done => ());
            println!(
                "removed repository '{name}'; its files were moved under the repos root's .removed folder"
            );
        }
    }
    Ok(Code::Success)
}

fn refused(line: &str) -> Code {
    let _ = exit::refuse("forgectl", line, Code::Refused);
    Code::Refused
}
