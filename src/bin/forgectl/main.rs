//! `forgectl`: the admin CLI. Parses the command line and sends each command to its module;
//! every command talks only to forged, never to the database. The clap types live in
//! `forge::cli::forgectl`, where the man page and the shell completions read them too.

mod commands;
mod output;

use clap::Parser;
use forge::cli::forgectl::{Args, Command};
use forge::config::Config;
use forge::exit::{self, Audience, Code, Failure};
use forge::logging::{self, Component};
use forge::wire::client::{ADMIN_TIMEOUT, Client};
use std::process::ExitCode;

fn main() -> ExitCode {
    logging::init(Component::Forgectl, "off");
    exit::end_quietly_on_closed_stdout();
    let args = match Args::try_parse() {
        Ok(args) => args,
        // A well-formed command line with an invalid name or value is invalid input (1), not
        // a usage error (2).
        Err(e) if e.kind() == clap::error::ErrorKind::ValueValidation => {
            let _ = e.print();
            return Code::Refused.into();
        }
        Err(e) => e.exit(),
    };
    match run(args) {
        Ok(code) => code.into(),
        Err(e) => exit::report("forgectl", Audience::Admin, &e),
    }
}

fn run(args: Args) -> Result<Code, Failure> {
    if let Command::Completions(completions) = &args.command {
        // Needs neither forge.toml nor forged: packaging runs it at build time.
        return commands::completions::run(completions);
    }
    forge::admin::progress::set_quiet(args.quiet);
    let config = Config::load(args.config.as_deref())?;
    if let Command::Restore(restore) = args.command {
        // Runs on a stopped forge: needs no forged.
        return commands::backup::restore(&config, restore);
    }
    let client = Client::new(&config.socket, ADMIN_TIMEOUT);
    match args.command {
        Command::User(command) => commands::user::run(&client, command),
        Command::Key(command) => commands::key::run(&client, command),
        Command::Ca(command) => commands::ca::run(&client, command),
        Command::Principal(command) => commands::principal::run(&client, command),
        Command::Repo(command) => commands::repo::run(&client, command),
        Command::Grant(grant) => commands::access::grant(&client, grant),
        Command::Revoke(revoke) => commands::access::revoke(&client, revoke),
        Command::Access(access) => commands::access::access(&client, access),
        Command::Policy(command) => commands::policy::run(&client, command),
        Command::Protect(protect) => commands::policy::protect(&client, protect),
        Command::Unprotect(unprotect) => commands::policy::unprotect(&client, unprotect),
        Command::Import(command) => commands::import::run(&client, command),
        Command::Audit(audit) => commands::audit::run(&client, audit),
        Command::Status(status) => commands::status::run(&client, status),
        Command::Backup(backup) => commands::backup::backup(&client, &config, backup),
        Command::Restore(restore) => commands::backup::restore(&config, restore),
        Command::Maintenance(command) => commands::maintenance::run(&client, command),
        Command::Keys(command) => commands::keys::run(&client, &config, command),
        Command::Setup(command) => commands::setup::run(&config, command),
        Command::Completions(completions) => commands::completions::run(&completions),
    }
}
