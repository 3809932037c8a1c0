//! `forge-keys`: sshd's `AuthorizedKeysCommand`. Asks forged for the one `authorized_keys`
//! line of the presented key and prints it; prints nothing otherwise.

use clap::Parser;
use forge::client::{self, Client};
use forge::config::Config;
use forge::exit::{self, Audience};
use forge::logging::{self, Component};
use forge::wire::{Request, Response};
use std::path::PathBuf;
use std::process::ExitCode;

/// sshd's AuthorizedKeysCommand: print the forced-command line of a known key, else nothing
///
/// Configure sshd with `AuthorizedKeysCommand /usr/lib/forge/forge-keys %u %t %k`. When forged
/// is unreachable it prints nothing (no login), says why on stderr and exits 75.
#[derive(Debug, Parser)]
#[command(name = "forge-keys", version)]
struct Args {
    /// The configuration file [default: $FORGE_CONFIG, else /etc/forge/forge.toml]
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    /// The account being logged in (%u)
    login: String,
    /// The key type (%t)
    key_type: String,
    /// The key, base64 (%k)
    key: String,
}

fn main() -> ExitCode {
    logging::init(Component::ForgeKeys, "off");
    let args = Args::parse();
    let config = match Config::load(args.config.as_deref()) {
        Ok(config) => config,
        Err(e) => return exit::report("forge-keys", Audience::Admin, &e.into()),
    };
    let client = Client::new(&config.socket, client::SHIM_TIMEOUT);
    let request = Request::KeyLookup {
        login: args.login,
        key_type: args.key_type,
        key: args.key,
    };
    match client.call(&request) {
        Ok(Response::AuthorizedKeys { lines }) => {
            for line in lines {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Ok(_) => exit::report(
            "forge-keys",
            Audience::Admin,
            &client::Error::Unexpected { op: "key_lookup" }.into(),
        ),
        Err(e) => exit::report("forge-keys", Audience::Admin, &e.into()),
    }
}
