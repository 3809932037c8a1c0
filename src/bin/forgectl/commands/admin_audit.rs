//! `forgectl audit --admin` and `forgectl audit --denied`.

use crate::output;
use forge::cli::forgectl::audit::Args;
use forge::exit::{Code, Failure};
use forge::types::shown::Escaped;
use forge::wire::client::Client;
use forge::wire::{Request, Response};

pub fn admin(client: &Client, args: &Args) -> Result<Code, Failure> {
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

pub fn denied(client: &Client, args: &Args) -> Result<Code, Failure> {
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
