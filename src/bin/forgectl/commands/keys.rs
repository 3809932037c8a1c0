//! `forgectl keys sync`: write the git account's `authorized_keys`.

use anyhow::Context;
use forge::authorized_keys;
use forge::client::Client;
use forge::config::Config;
use forge::exit::Code;
use forge::wire::{Request, Response};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Rewrite forge's block of authorized_keys from forged's keys; other lines are kept
    Sync {
        /// The file [default: ~<git_user>/.ssh/authorized_keys]
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
    },
}

pub fn run(client: &Client, config: &Config, command: Command) -> anyhow::Result<Code> {
    let Command::Sync { file } = command;
    let file = match file {
        Some(file) => file,
        None => default_file(&config.git_user)?,
    };
    let lines = ask!(client, Request::AuthorizedKeys, Response::AuthorizedKeys { lines } => lines);
    let existing = match std::fs::read(&file) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", file.display())),
    };
    let contents = authorized_keys::rewrite(&existing, &lines)
        .with_context(|| format!("cannot update {}", file.display()))?;
    if let Some(folder) = file.parent() {
        make_ssh_folder(folder)?;
    }
    authorized_keys::write_atomically(&file, &contents)
        .with_context(|| format!("cannot write {}", file.display()))?;
    println!("wrote {} key(s) to {}", lines.len(), file.display());
    Ok(Code::Success)
}

fn default_file(git_user: &str) -> anyhow::Result<PathBuf> {
    let user = nix::unistd::User::from_name(git_user)
        .ok()
        .flatten()
        .with_context(|| {
            format!("git_user '{git_user}' is not an account here; give --file or fix forge.toml")
        })?;
    Ok(user.dir.join(".ssh/authorized_keys"))
}

fn make_ssh_folder(folder: &Path) -> anyhow::Result<()> {
    if folder.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(folder)
        .with_context(|| format!("cannot create {}", folder.display()))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot restrict {}", folder.display()))?;
    Ok(())
}
