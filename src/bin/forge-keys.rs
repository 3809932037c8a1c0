//! `forge-keys`: sshd's `AuthorizedKeysCommand` (and, with `--principals`, its
//! `AuthorizedPrincipalsCommand`). Asks forged for the lines of the presented key or
//! certificate and prints them; prints nothing otherwise.

use clap::Parser;
use forge::cli::forge_keys::Args;
use forge::client::{self, Client};
use forge::config::Config;
use forge::exit::{self, Audience};
use forge::logging::{self, Component};
use forge::wire::{Request, Response};
use std::process::ExitCode;

fn main() -> ExitCode {
    logging::init(Component::ForgeKeys, "off");
    let args = Args::parse();
    let config = match Config::load(args.config.as_deref()) {
        Ok(config) => config,
        Err(e) => return exit::report("forge-keys", Audience::Admin, &e.into()),
    };
    let client = Client::new(&config.socket, client::SHIM_TIMEOUT);
    let request = if args.principals {
        Request::PrincipalsLookup {
            login: args.login,
            key_type: args.key_type,
            key: args.key,
        }
    } else {
        Request::KeyLookup {
            login: args.login,
            key_type: args.key_type,
            key: args.key,
        }
    };
    // Only the answer that matches the question: a key line printed for a principals question
    // (or the reverse) would mean something else to sshd.
    match (args.principals, client.call(&request)) {
        (false, Ok(Response::AuthorizedKeys { lines }))
        | (true, Ok(Response::AuthorizedPrincipals { lines })) => {
            for line in lines {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        (_, Ok(_)) => exit::report(
            "forge-keys",
            Audience::Admin,
            &client::Error::Unexpected { op: request.op() }.into(),
        ),
        (_, Err(e)) => exit::report("forge-keys", Audience::Admin, &e.into()),
    }
}
