//! `forgectl audit`.

use crate::output;
use forge::cli::forgectl::audit::Args;
use forge::exit::{Code, Failure};
use forge::types::shown::Escaped;
use forge::wire::client::Client;
use forge::wire::{Request, Response};

pub fn run(client: &Client, args: Args) -> Result<Code, Failure> {
    if args.admin {
        return admin(client, &args);
    }
    if args.denied {
        return denied(client, &args);
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

fn admin(client: &Client, args: &Args) -> Result<Code, Failure> {
    let request = Request::AdminAudit {
        since: args.since,
        limit: args.limit,
    };
    let entries = ask!(client, request, Response::AdminAudit { entries } => entries);
    if args.json {
        output::json(&entries)?;
        return Ok(Code::Success);
    }
    let rows: Vec<_> = entries
        .iter()
        .map(|e| {
            vec![
                e.time.to_string(),
                format!("{}({})", Escaped(&e.peer_name), e.peer_uid),
                e.op.clone(),
                Escaped(&e.args).to_string(),
                Escaped(&e.result).to_string(),
            ]
        })
        .collect();
    output::table(&["TIME", "WHO", "OP", "ARGS", "RESULT"], &rows);
    Ok(Code::Success)
}

fn denied(client: &Client, args: &Args) -> Result<Code, Failure> {
    let request = Request::DeniedAudit {
        since: args.since,
        limit: args.limit,
    };
    let entries = ask!(client, request, Response::Denied { entries } => entries);
    if args.json {
        output::json(&entries)?;
        return Ok(Code::Success);
    }
    let rows: Vec<_> = entries
        .iter()
        .map(|e| {
            vec![
                e.time.to_string(),
                Escaped(&e.user).to_string(),
                match (e.key, &e.ca) {
                    (Some(key), _) => format!("key-{key}"),
                    (None, Some(ca)) => format!("cert:{}", Escaped(ca)),
                    (None, None) => "-".into(),
                },
                e.repo.clone(),
                Escaped(&e.access).to_string(),
                Escaped(&e.rule).to_string(),
                e.left_out.to_string(),
            ]
        })
        .collect();
    output::table(
        &["TIME", "USER", "KEY", "REPO", "ACCESS", "RULE", "LEFT_OUT"],
        &rows,
    );
    Ok(Code::Success)
}
