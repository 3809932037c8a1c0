//! `forge-shell`: the forced command of every forge key. Parses its arguments and hands the
//! SSH session to `forge::shim::shell`.

use clap::Parser;
use forge::cli::forge_shell::Args;
use forge::config::Config;
use forge::exit::{self, Audience};
use forge::logging::{self, Component};
use forge::shim::shell::{self, Invocation};
use std::os::unix::ffi::OsStringExt;
use std::process::ExitCode;

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
