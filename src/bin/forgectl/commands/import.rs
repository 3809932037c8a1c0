//! `forgectl import gitolite`: users, keys, repositories and the policy of a gitolite site.

use forge::admin::gitolite::{self, Settings, import};
use forge::admin::progress::Progress;
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
    let progress = Progress::new("import gitolite", 4);
    progress.set_message(format!("reading {}", conf.display()));
    let parsed = gitolite::parse_file(&conf, &Settings::default())
        .with_context(|| format!("cannot import {}", conf.display()))?;
    progress.inc(1);
    progress.set_message("reading the keydir");
    let keys = keydir
        .as_deref()
        .map(gitolite::keydir::read)
        .transpose()
        .context("cannot read the keydir")?;
    progress.inc(1);
    progress.set_message("translating the rules");
    let prepared = import::prepare(&parsed, keys.as_ref());
    progress.inc(1);
    for warning in &prepared.warnings {
        progress.println(&format!("forgectl: warning: {warning}"));
    }
    for problem in &prepared.problems {
        progress.println(&format!("forgectl: cannot import: {problem}"));
    }
    if !prepared.problems.is_empty() && !partial {
        drop(progress);
        let line = format!(
            "{} part(s) of this gitolite setup cannot be imported (listed above); nothing was changed: fix them, or pass --partial to import the rest",
            prepared.problems.len()
        );
        eprintln!("forgectl: {line}");
        return Ok(Code::Refused);
    }
    progress.set_message(format!(
        "{} {} user(s), {} key(s), {} repositor(ies), {} rule(s) in forged",
        if dry_run { "comparing" } else { "importing" },
        prepared.users.len(),
        prepared.keys.len(),
        prepared.repos.len(),
        prepared.document.rules.len()
    ));
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
    progress.inc(1);
    progress.finish(&super::policy::print_changes(&lines, applied));
    Ok(Code::Success)
}
