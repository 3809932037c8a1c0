//! `forgectl import gitolite`: users, keys, repositories and the policy of a gitolite site.

use forge::admin::gitolite::{self, Settings, import};
use forge::cli::forgectl::import::Command;
use forge::exit::Context;
use forge::exit::{Code, Failure};
use forge::wire::client::Client;
use forge::wire::{Request, Response};

pub fn run(client: &Client, command: Command) -> Result<Code, Failure> {
    let Command::Gitolite {
        conf,
        keydir,
        partial,
        dry_run,
    } = command;
    let parsed = gitolite::parse_file(&conf, &Settings::default())
        .with_context(|| format!("cannot import {}", conf.display()))?;
    let keys = keydir
        .as_deref()
        .map(gitolite::keydir::read)
        .transpose()
        .context("cannot read the keydir")?;
    let prepared = import::prepare(&parsed, keys.as_ref());
    for warning in &prepared.warnings {
        eprintln!("forgectl: warning: {warning}");
    }
    for problem in &prepared.problems {
        eprintln!("forgectl: cannot import: {problem}");
    }
    if !prepared.problems.is_empty() && !partial {
        let line = format!(
            "{} part(s) of this gitolite setup cannot be imported (listed above); nothing was changed: fix them, or pass --partial to import the rest",
            prepared.problems.len()
        );
        eprintln!("forgectl: {line}");
        return Ok(Code::Refused);
    }
    let request = Request::Import {
        users: prepared.users,
        keys: prepared
            .keys
            .iter()
            .map(|(user, key)| (user.clone(), key.to_openssh()))
            .collect(),
        repos: prepared.repos,
        document: prepared.document,
        dry_run,
    };
    let (lines, applied) =
        ask!(client, request, Response::Changes { lines, applied } => (lines, applied));
    super::policy::print_changes(&lines, applied);
    Ok(Code::Success)
}
