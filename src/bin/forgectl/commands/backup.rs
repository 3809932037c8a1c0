//! `forgectl backup DIR` and `forgectl restore DIR [--verify]`.

use forge::admin::backup::{restore, take, verify};
use forge::cli::forgectl::backup::{BackupArgs, RestoreArgs};
use forge::config::Config;
use forge::exit::{Code, Failure};
use forge::wire::client::Client;

pub fn backup(client: &Client, config: &Config, args: BackupArgs) -> Result<Code, Failure> {
    let lease = std::time::Duration::from_secs(args.pause_lease.into());
    let done = take::take(client, &config.repos, &args.dir, args.db_only, lease)?;
    if !args.quiet {
        println!(
            "backup in {}: {} repositories, {} refs, {} object files linked, {} files copied, database {} bytes; pushes paused {} ms",
            args.dir.display(),
            done.repos,
            done.refs,
            done.files.linked,
            done.files.copied,
            done.database_bytes,
            done.paused.as_millis()
        );
    }
    Ok(Code::Success)
}

pub fn restore(config: &Config, args: RestoreArgs) -> Result<Code, Failure> {
    if args.verify {
        let checked = verify::verify(&args.dir)?;
        if !args.quiet {
            println!(
                "backup {} checks out: database sound, {} repositories and {} refs agree with the manifest and the audit log",
                args.dir.display(),
                checked.repos,
                checked.refs
            );
        }
        return Ok(Code::Success);
    }
    let done = restore::restore(&args.dir, config, args.db_only, args.force)?;
    if !args.quiet {
        let aside = if done.moved_aside.is_empty() {
            String::new()
        } else {
            format!(
                "; moved aside: {}",
                done.moved_aside
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        println!(
            "restored {} into {} and {} repositories into {}{aside}; start forged",
            args.dir.display(),
            config.database.display(),
            done.repos,
            config.repos.display()
        );
    }
    Ok(Code::Success)
}
