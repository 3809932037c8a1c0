//! `forged`: the forge daemon. Parses its arguments, loads the configuration and serves.

use clap::Parser;
use forge::cli::forged::Args;
use forge::config::Config;
use forge::daemon::Daemon;
use forge::exit::{self, Audience, Context, Failure};
use forge::logging::{self, Component};
use std::process::ExitCode;

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
    match serve(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "stopping");
            exit::report("forged", Audience::Admin, &e)
        }
    }
}

fn serve(config: Config) -> Result<(), Failure> {
    Daemon::open(config)
        .and_then(Daemon::serve)
        .context("forged cannot serve")
}
