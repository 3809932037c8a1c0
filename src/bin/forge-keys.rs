//! `forge-keys`: sshd's `AuthorizedKeysCommand` (and, with `--principals`, its
//! `AuthorizedPrincipalsCommand`). Asks forged for the lines of the presented key or
//! certificate and prints them; prints nothing otherwise.

use clap::Parser;
use forge::cli::forge_keys::Args;
use forge::config::Config;
use forge::exit::{self, Audience, Failure};
use forge::logging::{self, Component};
use forge::shim::keys::{self, Question};
use forge::wire::client::{self, Client};
use std::process::ExitCode;

fn main() -> ExitCode {
    logging::init(Component::ForgeKeys, "off");
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => exit::report("forge-keys", Audience::Admin, &e),
    }
}

fn run(args: Args) -> Result<(), Failure> {
    let config = Config::load(args.config.as_deref())?;
    let client = Client::new(&config.socket, client::SHIM_TIMEOUT);
    let question = Question {
        login: args.login,
        key_type: args.key_type,
        key: args.key,
        principals: args.principals,
    };
    for line in keys::lines(&client, question)? {
        println!("{line}");
    }
    Ok(())
}
