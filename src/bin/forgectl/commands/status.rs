//! `forgectl status`.

use forge::cli::forgectl::status::Args;
use forge::exit::{Code, Failure};
use forge::wire::client::Client;
use forge::wire::{Request, Response};

pub fn run(client: &Client, args: Args) -> Result<Code, Failure> {
    let status = ask!(client, Request::Status, Response::Status(status) => status);
    if args.json {
        crate::output::json(&status)?;
    } else {
        println!(
            "forged {} is up (protocol {}, for {}s)",
            status.version, status.protocol, status.uptime_seconds
        );
        println!("users:           {}", status.users);
        println!("keys:            {}", status.keys);
        println!("repositories:    {}", status.repos);
        println!("audit entries:   {}", status.audit_entries);
        println!("pending updates: {}", status.pending_updates);
        if let Some(message) = &status.maintenance {
            println!(
                "maintenance:     on: {}",
                forge::types::shown::Escaped(message)
            );
        }
        for problem in &status.problems {
            println!("problem:         {problem}");
        }
    }
    Ok(Code::Success)
}
