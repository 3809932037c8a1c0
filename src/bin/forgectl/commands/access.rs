//! `forgectl grant`, `revoke` and `access`.

use forge::client::Client;
use forge::exit::Code;
use forge::policy::Access;
use forge::repo_name::RepoName;
use forge::user_name::UserName;
use forge::wire::{Request, Response};

#[derive(Debug, clap::Args)]
pub struct GrantArgs {
    /// The repository
    #[arg(value_parser = RepoName::from_admin)]
    repo: RepoName,
    /// The user
    user: UserName,
    /// read, write or admin (replaces any earlier grant)
    access: Access,
}

#[derive(Debug, clap::Args)]
pub struct RevokeArgs {
    /// The repository
    #[arg(value_parser = RepoName::from_admin)]
    repo: RepoName,
    /// The user
    user: UserName,
}

#[derive(Debug, clap::Args)]
pub struct AccessArgs {
    /// The user
    user: UserName,
    /// The repository (one that does not exist yet is asked about with USER as its creator)
    #[arg(value_parser = RepoName::from_admin)]
    repo: RepoName,
    /// R, W, + (force), C (create a ref), D (delete), M (merge) or ^C (create the repository);
    /// or read, write, force, create, delete
    #[arg(value_parser = parse_operation)]
    operation: String,
    /// A ref (main, refs/tags/v1) or VREF/NAME/<path>; without it, any ref
    reference: Option<String>,
    /// Also say which rule decided, and where the rule came from
    #[arg(long)]
    explain: bool,
    /// Print JSON instead of lines
    #[arg(long)]
    json: bool,
}

fn parse_operation(text: &str) -> Result<String, String> {
    forge::policy::Need::parse(text)
        .map(|need| need.as_gitolite())
        .map_err(|e| e.to_string())
}

pub fn grant(client: &Client, args: GrantArgs) -> anyhow::Result<Code> {
    let request = Request::Grant {
        repo: args.repo.clone(),
        user: args.user.clone(),
        access: args.access,
    };
    ask!(client, request, Response::Done => ());
    println!(
        "granted {} on '{}' to '{}'",
        args.access, args.repo, args.user
    );
    Ok(Code::Success)
}

pub fn revoke(client: &Client, args: RevokeArgs) -> anyhow::Result<Code> {
    let request = Request::Revoke {
        repo: args.repo.clone(),
        user: args.user.clone(),
    };
    ask!(client, request, Response::Done => ());
    println!("revoked the access of '{}' to '{}'", args.user, args.repo);
    Ok(Code::Success)
}

pub fn access(client: &Client, args: AccessArgs) -> anyhow::Result<Code> {
    let request = Request::Access {
        user: args.user.clone(),
        repo: args.repo.clone(),
        need: args.operation.clone(),
        reference: args.reference.clone(),
    };
    let (allowed, line, reason) = ask!(client, request, Response::Explained { allowed, line, reason } => (allowed, line, reason));
    if args.json {
        crate::output::json(
            &serde_json::json!({ "allowed": allowed, "line": line, "reason": reason }),
        )?;
    } else {
        println!("{line}");
        if args.explain {
            println!("{reason}");
        }
    }
    Ok(if allowed {
        Code::Success
    } else {
        Code::Refused
    })
}
