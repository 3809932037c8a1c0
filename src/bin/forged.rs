//! `forged`: the forge daemon. Parses its arguments, loads the configuration and serves.

use anyhow::Context;
use clap::Parser;
use forge::config::Config;
use forge::daemon::Daemon;
use forge::exit::{self, Audience};
use forge::logging::{self, Component};
use std::path::PathBuf;
use std::process::ExitCode;

/// The forge daemon: decides every git access and keeps forge's state
///
/// Listens on the Unix socket named in forge.toml, and serves forge-shell, forge-hook and
/// forgectl until SIGTERM or SIGINT. Exit codes: 0 stopped cleanly, 1 bad configuration,
/// 70 cannot serve (the log says why).
#[derive(Debug, Parser)]
#[command(name = "forged", version)]
struct Args {
    /// The configuration file [default: $FORGE_CONFIG, else /etc/forge/forge.toml]
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = match Config::load(args.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            logging::init(Component::Forged, "info");
            return exit::report("forged", Audience::Admin, &e.into());
        }
    };
    logging::init(Component::Forged, &config.log);
    let served = Daemon::open(config)
        .and_then(Daemon::serve)
        .context("forged cannot serve");
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "stopping");
            exit::report("forged", Audience::Admin, &e)
        }
    }
}
