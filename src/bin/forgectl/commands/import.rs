//! `forgectl import gitolite`: users, keys, repositories and the policy of a gitolite site.

use forge::admin::gitolite::{self, Settings, import};
use forge::admin::progress::Progress;
use forge::cli::forgectl::import::Command;
use forge::exit::Context;
use forge::exit::{Code, Failure};
use forge::types::shown::Escaped;
use forge::wire::client::Client;
use forge::wire::{Request, Response};

pub fn run(client: &Client, command: Command) -> Result<Code, Failure> {
    let Command::Gitolite {
        conf,
        keydir,
        partial,
        dry_run,
        replace,
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
    if !replace && !dry_run {
        let current =
            ask!(client, Request::PolicyExport, Response::Policy { document } => document);
        let lines = current.replaced_by(&prepared.document);
        if !lines.is_empty() {
            eprintln!("forgectl: the import would change the forge's policy so:");
            for line in &lines {
                eprintln!("  {}", Escaped(line));
            }
            eprintln!(
                "forgectl: cannot import: the forge holds a policy already, and the import would replace it ({} change(s), listed above); nothing was changed: pass --replace to replace it",
                lines.len()
            );
            return Ok(Code::Refused);
        }
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
        replace,
    };
    let (lines, applied, warnings) = ask!(client, request, Response::Changes { lines, applied, warnings } => (lines, applied, warnings));
    progress.inc(1);
    progress.finish(&super::policy::print_changes(&lines, applied, &warnings));
    Ok(Code::Success)
}
