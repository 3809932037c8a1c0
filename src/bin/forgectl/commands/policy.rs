//! `forgectl policy export|apply` and `forgectl protect`.

use forge::admin::input;
use forge::cli::forgectl::policy::{Command, ProtectArgs};
use forge::exit::{Code, Failure};
use forge::policy::document::{Document, RuleRow};
use forge::types::shown::Escaped;
use forge::wire::client::Client;
use forge::wire::{Request, Response};

/// The largest policy file read: far more than 100,000 rules.
const MAX_POLICY_BYTES: u64 = 64 << 20;

pub fn run(client: &Client, command: Command) -> Result<Code, Failure> {
    match command {
        Command::Export => {
            let document =
                ask!(client, Request::PolicyExport, Response::Policy { document } => document);
            print!("{}", document.to_toml());
        }
        Command::Apply { file, dry_run } => {
            let text = input::read_text(&file, MAX_POLICY_BYTES)?;
            let name = file
                .file_name()
                .map_or("-".into(), |n| n.to_string_lossy().into_owned());
            let document = Document::from_toml(&text, &name)?;
            let request = Request::PolicyApply { document, dry_run };
            let (lines, applied) =
                ask!(client, request, Response::Changes { lines, applied } => (lines, applied));
            print_changes(&lines, applied);
        }
    }
    Ok(Code::Success)
}

/// Prints what a policy change changed, or would change.
pub fn print_changes(lines: &[String], applied: bool) {
    for line in lines {
        println!("{}", Escaped(line));
    }
    match (lines.is_empty(), applied) {
        (true, _) => println!("no changes"),
        (false, true) => println!("applied {} change(s)", lines.len()),
        (false, false) => println!("dry run: {} change(s) not applied", lines.len()),
    }
}

/// Writes the rules that protect a branch or the tags, in front of every other rule.
pub fn protect(client: &Client, args: ProtectArgs) -> Result<Code, Failure> {
    let (refex, what) = match &args.branch {
        Some(branch) => {
            let branch = branch.strip_prefix("refs/heads/").unwrap_or(branch);
            (
                format!("refs/heads/{}$", regex_escape(branch)),
                format!("branch '{branch}'"),
            )
        }
        None => ("refs/tags/".to_owned(), "tags".to_owned()),
    };
    let source = format!("forgectl protect {} {what}", args.repo);
    let row = |seq, perm: &str, who: &str| RuleRow {
        seq,
        repo: args.repo.to_string(),
        who: who.to_owned(),
        perm: perm.to_owned(),
        refex: refex.clone(),
        source: source.clone(),
    };
    let mut rules: Vec<RuleRow> = args
        .pushers
        .iter()
        .enumerate()
        .map(|(index, pusher)| row(index as i64 + 1, "RW", pusher))
        .collect();
    rules.push(row(rules.len() as i64 + 1, "-", "@all"));
    let (lines, applied) = ask!(client, Request::PrependRules { rules }, Response::Changes { lines, applied } => (lines, applied));
    print_changes(&lines, applied);
    Ok(Code::Success)
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$".contains(c);
            special
                .then_some('\\')
                .into_iter()
                .chain(std::iter::once(c))
        })
        .collect()
}
