//! `forge-shell`: the forced command of every forge key. Parses its arguments and hands the
//! SSH session to `forge::shell`.

use clap::Parser;
use forge::config::Config;
use forge::exit::{self, Audience};
use forge::identity::Identity;
use forge::logging::{self, Component};
use forge::shell::{self, Invocation};
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;
use std::process::ExitCode;

/// The forced command of forge keys and certificates: checks SSH_ORIGINAL_COMMAND with forged
/// and runs git
///
/// sshd runs it from an authorized_keys line written by `forgectl keys sync` or printed by
/// `forge-keys`, or an authorized_principals line printed by `forge-keys --principals`. Exit codes:
/// 0 success, 1 refused, 2 usage, 70 internal error, 75 forged unreachable.
#[derive(Debug, Parser)]
#[command(name = "forge-shell", version)]
struct Args {
    /// The configuration file [default: $FORGE_CONFIG, else /etc/forge/forge.toml]
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Who logged in: a key as `key-<id>`, a certificate as `cert-<ca id>:<user>`
    #[arg(value_name = "IDENTITY", value_parser = Identity::parse_arg)]
    identity: Identity,
}

fn main() -> ExitCode {
    logging::init(Component::ForgeShell, "off");
    let args = Args::parse();
    let config = match Config::load(args.config.as_deref()) {
        Ok(config) => config,
        Err(e) => return exit::report("forge", Audience::RemoteUser, &e.into()),
    };
    let invocation = Invocation {
        original_command: std::env::var_os("SSH_ORIGINAL_COMMAND").map(OsStringExt::into_vec),
        home: std::env::var_os("HOME"),
        git_protocol: std::env::var_os("GIT_PROTOCOL"),
    };
    match shell::run(&config, args.identity, invocation, &mut std::io::stdout()) {
        Ok(code) => code.into(),
        Err(e) => exit::report("forge", Audience::RemoteUser, &e.into()),
    }
}
