//! `forgectl grant`, `revoke` and `access`.

use forge::cli::forgectl::access::{AccessArgs, GrantArgs, RevokeArgs};
use forge::exit::{Code, Failure};
use forge::types::shown::Escaped;
use forge::wire::client::Client;
use forge::wire::{Request, Response};

pub fn grant(client: &Client, args: GrantArgs) -> Result<Code, Failure> {
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

pub fn revoke(client: &Client, args: RevokeArgs) -> Result<Code, Failure> {
    let request = Request::Revoke {
        repo: args.repo.clone(),
        user: args.user.clone(),
    };
    ask!(client, request, Response::Done => ());
    println!("revoked the access of '{}' to '{}'", args.user, args.repo);
    Ok(Code::Success)
}

pub fn access(client: &Client, args: AccessArgs) -> Result<Code, Failure> {
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
        println!("{}", Escaped(&line));
        if args.explain {
            println!("{}", Escaped(&reason));
        }
    }
    Ok(if allowed {
        Code::Success
    } else {
        Code::Refused
    })
}
