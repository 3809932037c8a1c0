//! `forge-keys`: sshd's `AuthorizedKeysCommand` (and, with `--principals`, its
//! `AuthorizedPrincipalsCommand`). Asks forged for the lines of the presented key or
//! certificate and prints them; prints nothing otherwise.

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
/// Configure sshd with `AuthorizedKeysCommand /usr/lib/forge/forge-keys %u %t %k`. For SSH user
/// certificates, add `AuthorizedPrincipalsCommand /usr/lib/forge/forge-keys --principals %u %t
/// %k`: %k is then the whole certificate, from which forged reads the signing CA and the
/// principals (sshd's %i and %s, the key id and serial, name neither). When forged is
/// unreachable it prints nothing (no login), says why on stderr and exits 75.
#[derive(Debug, Parser)]
#[command(name = "forge-keys", version)]
struct Args {
    /// The configuration file [default: $FORGE_CONFIG, else /etc/forge/forge.toml]
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Answer as AuthorizedPrincipalsCommand: one authorized_principals line per principal of
    /// the certificate that maps to a forge user
    #[arg(long)]
    principals: bool,
    /// The account being logged in (%u)
    login: String,
    /// The key or certificate type (%t)
    key_type: String,
    /// The key or certificate, base64 (%k)
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
    match client.call(&request) {
        Ok(Response::AuthorizedKeys { lines } | Response::AuthorizedPrincipals { lines }) => {
            for line in lines {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Ok(_) => exit::report(
            "forge-keys",
            Audience::Admin,
            &client::Error::Unexpected { op: request.op() }.into(),
        ),
        Err(e) => exit::report("forge-keys", Audience::Admin, &e.into()),
    }
}
