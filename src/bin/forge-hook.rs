//! `forge-hook`: the pre- and post-receive hook of every forge repository. Reads git's update
//! lines and hands them to `forge::hooks`.

use anyhow::Context;
use clap::{Parser, ValueEnum};
use forge::config::Config;
use forge::exit::{self, Audience};
use forge::hooks::{self, PushEnv};
use forge::logging::{self, Component};
use std::path::PathBuf;
use std::process::ExitCode;

/// The git hook of forge repositories: asks forged about each pushed ref update
///
/// git runs it through the shims in forge's hooks folder (core.hooksPath). Exit codes:
/// 0 accepted, 1 refused, 70 internal error, 75 forged unreachable (the push is refused).
#[derive(Debug, Parser)]
#[command(name = "forge-hook", version)]
struct Args {
    /// The configuration file [default: $FORGE_CONFIG, else /etc/forge/forge.toml]
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Which hook git is running
    #[arg(value_enum)]
    hook: Hook,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Hook {
    /// Decide every update before git makes any
    PreReceive,
    /// Report the updates git made
    PostReceive,
}

fn main() -> ExitCode {
    logging::init(Component::ForgeHook, "off");
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => exit::report("forge", Audience::RemoteUser, &e),
    }
}

fn run(args: &Args) -> anyhow::Result<()> {
    let config = Config::load(args.config.as_deref())?;
    let cwd = std::env::current_dir().context("reading the working folder")?;
    let push = PushEnv::from_env(|name| std::env::var(name).ok(), &config.repos, &cwd)?;
    let updates = hooks::read_updates(std::io::stdin().lock())?;
    let client = hooks::client(&config);
    match args.hook {
        Hook::PreReceive => {
            // The environment git gives pre-receive makes the quarantined objects visible.
            let repository = git2::Repository::open_from_env().map_err(hooks::Error::Repository)?;
            hooks::pre_receive(&client, &push, &repository, updates)?;
        }
        Hook::PostReceive => hooks::post_receive(&client, &push, updates)?,
    }
    Ok(())
}
