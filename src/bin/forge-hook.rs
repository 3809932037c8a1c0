//! `forge-hook`: the pre- and post-receive hook of every forge repository. Reads git's update
//! lines and hands them to `forge::shim::hook`.

use forge::cli::forge_hook::{Args, Hook};
use forge::config::Config;
use forge::exit::{self, Audience, Failure};
use forge::logging::{self, Component};
use forge::shim::hook;
use forge::shim::push_env::PushEnv;
use std::process::ExitCode;

fn main() -> ExitCode {
    logging::init(Component::ForgeHook, "off");
    let args = Args::from_argv(std::env::args_os()).unwrap_or_else(|e| e.exit());
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => exit::report("forge", Audience::RemoteUser, &e),
    }
}

fn run(args: &Args) -> Result<(), Failure> {
    let config = Config::load(args.config.as_deref())?;
    let cwd = std::env::current_dir().map_err(hook::Error::Read)?;
    let push = PushEnv::from_env(|name| std::env::var(name).ok(), &config.repos, &cwd)?;
    let updates = hook::read_updates(std::io::stdin().lock())?;
    let client = hook::client(&config);
    match args.hook {
        Hook::PreReceive => {
            // The environment git gives pre-receive makes the quarantined objects visible.
            let repository = git2::Repository::open_from_env().map_err(hook::Error::Repository)?;
            hook::pre_receive(&client, &push, &repository, updates)?;
        }
        Hook::PostReceive => hook::post_receive(&client, &push, updates)?,
    }
    Ok(())
}
