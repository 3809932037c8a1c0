//! `forgectl policy export|apply`, `forgectl protect` and `forgectl unprotect`.

use forge::admin::input;
use forge::admin::progress::Progress;
use forge::cli::forgectl::policy::{Command, ProtectArgs, UnprotectArgs};
use forge::exit::{Code, Failure};
use forge::policy::document::Document;
use forge::policy::shortcuts;
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
            let progress = Progress::new("policy apply", 3);
            progress.set_message(format!("reading {}", file.display()));
            let text = input::read_text(&file, MAX_POLICY_BYTES)?;
            let name = file
                .file_name()
                .map_or("-".into(), |n| n.to_string_lossy().into_owned());
            progress.inc(1);
            progress.set_message("checking the policy");
            let document = Document::from_toml(&text, &name)?;
            progress.inc(1);
            progress.set_message(format!(
                "{} {} rule(s) in forged",
                if dry_run { "comparing" } else { "applying" },
                document.rules.len()
            ));
            let request = Request::PolicyApply { document, dry_run };
            let (lines, applied, warnings) = ask!(client, request, Response::Changes { lines, applied, warnings } => (lines, applied, warnings));
            progress.inc(1);
            progress.finish(&print_changes(&lines, applied, &warnings));
        }
    }
    Ok(Code::Success)
}

/// Prints what a policy change changed, or would change, after its warnings (on stderr, one
/// line each); returns the line that sums it up, for the caller to print last.
pub fn print_changes(lines: &[String], applied: bool, warnings: &[String]) -> String {
    for warning in warnings {
        eprintln!("forgectl: warning: {}", Escaped(warning));
    }
    for line in lines {
        println!("{}", Escaped(line));
    }
    match (lines.is_empty(), applied) {
        (true, _) => "no changes".to_owned(),
        (false, true) => format!("applied {} change(s)", lines.len()),
        (false, false) => format!("dry run: {} change(s) not applied", lines.len()),
    }
}

/// Writes the rules that protect a branch or the tags, in front of every other rule,
/// replacing an earlier protection of the same branch (or the tags).
pub fn protect(client: &Client, args: ProtectArgs) -> Result<Code, Failure> {
    let rules = shortcuts::protection(args.repo.as_str(), args.branch.as_deref(), &args.pushers);
    let (lines, applied, warnings) = ask!(client, Request::PrependRules { rules }, Response::Changes { lines, applied, warnings } => (lines, applied, warnings));
    println!("{}", print_changes(&lines, applied, &warnings));
    Ok(Code::Success)
}

/// Removes the protection of a branch or the tags.
pub fn unprotect(client: &Client, args: UnprotectArgs) -> Result<Code, Failure> {
    let request = Request::Unprotect {
        repo: args.repo,
        branch: args.branch,
    };
    let (lines, applied, warnings) = ask!(client, request, Response::Changes { lines, applied, warnings } => (lines, applied, warnings));
    println!("{}", print_changes(&lines, applied, &warnings));
    Ok(Code::Success)
}
