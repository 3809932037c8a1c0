//! `forgectl status`.

use forge::cli::forgectl::status::Args;
use forge::client::Client;
use forge::exit::Code;
use forge::wire::{Request, Response};

pub fn run(client: &Client, args: Args) -> anyhow::Result<Code> {
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
    }
    Ok(Code::Success)
}
