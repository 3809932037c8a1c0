//! `forgectl audit`.

use crate::output;
use forge::cli::forgectl::audit::Args;
use forge::exit::{Code, Failure};
use forge::wire::client::Client;
use forge::wire::{Request, Response};

pub fn run(client: &Client, args: Args) -> Result<Code, Failure> {
    if args.admin {
        return super::admin_audit::admin(client, &args);
    }
    if args.denied {
        return super::admin_audit::denied(client, &args);
    }
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
                e.time.to_string(),
                e.user.clone(),
                match (e.key, &e.ca) {
                    (Some(key), _) => key.to_string(),
                    (None, Some(ca)) => format!("cert:{ca}"),
                    (None, None) => "-".into(),
                },
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
