//! `forgectl keys sync`: write the git account's `authorized_keys`.

use forge::admin::authorized_keys;
use forge::admin::progress::Progress;
use forge::cli::forgectl::keys::Command;
use forge::config::Config;
use forge::exit::{Code, Failure};
use forge::wire::client::Client;
use forge::wire::{Request, Response};

pub fn run(client: &Client, config: &Config, command: Command) -> Result<Code, Failure> {
    let Command::Sync { file } = command;
    let progress = Progress::new("keys sync", 2);
    progress.set_message("asking forged for every key");
    let lines = ask!(client, Request::AuthorizedKeys, Response::AuthorizedKeys { lines } => lines);
    progress.inc(1);
    progress.set_message(format!("writing {} key(s)", lines.len()));
    let file = authorized_keys::sync(file.as_deref(), &config.git_user, &lines)?;
    progress.inc(1);
    progress.finish(&format!(
        "wrote {} key(s) to {}",
        lines.len(),
        file.display()
    ));
    Ok(Code::Success)
}
