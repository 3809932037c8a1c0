//! `forgectl repo create|list|remove`.

use crate::output;
use forge::client::Client;
use forge::exit::{self, Code};
use forge::repo_name::RepoName;
use forge::wire::{Request, Response};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a bare repository that only forge users can reach
    Create {
        /// The name, such as acme/widgets (a trailing .git is dropped)
        #[arg(value_parser = RepoName::from_admin)]
        name: RepoName,
        /// One line saying what the repository holds
        #[arg(long, default_value = "")]
        description: String,
        /// Let every registered user read it
        #[arg(long)]
        public: bool,
    },
    /// List repositories with their grants
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Remove a repository; its files are moved to <repos>/.removed, not deleted
    Remove {
        /// The name
        #[arg(value_parser = RepoName::from_admin)]
        name: RepoName,
        /// Confirm the removal
        #[arg(long)]
        yes: bool,
    },
}

pub fn run(client: &Client, command: Command) -> anyhow::Result<Code> {
    match command {
        Command::Create {
            name,
            description,
            public,
        } => {
            let request = Request::RepoCreate {
                repo: name.clone(),
                description,
                public,
            };
            ask!(client, request, Response::Done => ());
            let visibility = if public { "public" } else { "private" };
            println!("created {visibility} repository '{name}'");
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
