//! `forgectl`: the admin CLI. Parses the command line and sends each command to its module;
//! every command talks only to forged, never to the database.

mod commands;
mod output;

use clap::{Parser, Subcommand};
use forge::client::{ADMIN_TIMEOUT, Client};
use forge::config::Config;
use forge::exit::{self, Audience, Code};
use forge::logging::{self, Component};
use std::path::PathBuf;
use std::process::ExitCode;

/// Administer forge: users, keys, repositories, access and the audit log
///
/// Exit codes: 0 success (or "allow" for `access`), 1 refused or invalid input (or "deny"),
/// 2 usage, 70 internal error, 75 forged unreachable.
#[derive(Debug, Parser)]
#[command(name = "forgectl", version)]
struct Args {
    /// The configuration file [default: $FORGE_CONFIG, else /etc/forge/forge.toml]
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Add, list and remove users
    #[command(subcommand)]
    User(commands::user::Command),
    /// Add, list and remove SSH keys
    #[command(subcommand)]
    Key(commands::key::Command),
    /// Trust, list and remove user CAs for SSH certificates
    #[command(subcommand)]
    Ca(commands::ca::Command),
    /// Map certificate principals to users other than the one of their name
    #[command(subcommand)]
    Principal(commands::principal::Command),
    /// Create, list and remove repositories
    #[command(subcommand)]
    Repo(commands::repo::Command),
    /// Give a user read, write or admin access to a repository
    Grant(commands::access::GrantArgs),
    /// Take a user's access to a repository away
    Revoke(commands::access::RevokeArgs),
    /// Say whether a user may do something, as `gitolite access` does, and by which rule
    Access(commands::access::AccessArgs),
    /// Export or apply the policy: groups, ordered rules and options
    #[command(subcommand)]
    Policy(commands::policy::Command),
    /// Import users, keys, repositories and rules from another tool
    #[command(subcommand)]
    Import(commands::import::Command),
    /// Protect a branch (no force, no delete, named pushers) or make tags immutable
    Protect(commands::policy::ProtectArgs),
    /// Show recorded ref updates, newest first
    Audit(commands::audit::Args),
    /// Show whether forged is up, its version and what it holds
    Status(commands::status::Args),
    /// Write the authorized_keys file of the git account
    #[command(subcommand)]
    Keys(commands::keys::Command),
    /// Set up the system around forge: the sshd configuration
    #[command(subcommand)]
    Setup(commands::setup::Command),
}

fn main() -> ExitCode {
    logging::init(Component::Forgectl, "off");
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

fn run(args: Args) -> anyhow::Result<Code> {
    let config = Config::load(args.config.as_deref())?;
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
        Command::Import(command) => commands::import::run(&client, command),
        Command::Audit(audit) => commands::audit::run(&client, audit),
        Command::Status(status) => commands::status::run(&client, status),
        Command::Keys(command) => commands::keys::run(&client, &config, command),
        Command::Setup(command) => commands::setup::run(&config, command),
    }
}
