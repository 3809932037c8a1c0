//! `forgectl audit`.

use crate::output;
use forge::client::Client;
use forge::exit::Code;
use forge::repo_name::RepoName;
use forge::user_name::UserName;
use forge::wire::{Request, Response};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only updates to this repository
    #[arg(long, value_parser = RepoName::from_admin)]
    repo: Option<RepoName>,
    /// Only updates by this user
    #[arg(long)]
    user: Option<UserName>,
    /// At most this many entries
    #[arg(long, default_value_t = 50)]
    limit: u32,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

pub fn run(client: &Client, args: Args) -> anyhow::Result<Code> {
    let request = Request::Audit {
        repo: args.repo,
        user: args.user,
        limit: args.limit,
    };
    let entries = ask!(client, request, Response::Audit { entries } => entries);
    if args.json {
        output::json(&entries)?;
        return Ok(Code::Success);
    }
    let short = |id: &str| id.chars().take(10).collect::<String>();
    let rows: Vec<_> = entries
        .iter()
        .map(|e| {
            vec![
                e.time.clone(),
                e.user.clone(),
                e.key.map(|k| k.to_string()).unwrap_or_else(|| "-".into()),
                e.repo.clone(),
                e.ref_name.clone(),
                e.kind.to_string(),
                format!("{}..{}", short(&e.old), short(&e.new)),
            ]
        })
        .collect();
    output::table(
        &["TIME", "USER", "KEY", "REPO", "REF", "KIND", "OLD..NEW"],
        &rows,
    );
    Ok(Code::Success)
}
