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
    /// The repository
    #[arg(value_parser = RepoName::from_admin)]
    repo: RepoName,
    /// R or read, W or write
    #[arg(value_parser = parse_operation)]
    operation: Access,
    /// Print JSON instead of a line
    #[arg(long)]
    json: bool,
}

fn parse_operation(text: &str) -> Result<Access, String> {
    match Access::parse(text) {
        Ok(Access::Admin) | Err(_) => Err(format!(
            "'{text}' is not an operation; use R, read, W or write"
        )),
        Ok(access) => Ok(access),
    }
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
        access: args.operation,
    };
    let decision = ask!(client, request, Response::Decision { decision } => decision);
    if args.json {
        crate::output::json(&decision)?;
    } else {
        let verdict = if decision.allowed { "allow" } else { "deny" };
        println!(
            "{verdict}: {} {} {} ({})",
            args.user, args.operation, args.repo, decision.reason
        );
    }
    Ok(if decision.allowed {
        Code::Success
    } else {
        Code::Refused
    })
}
