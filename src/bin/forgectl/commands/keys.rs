//! `forgectl keys sync`: write the git account's `authorized_keys`.

use anyhow::Context;
use forge::authorized_keys;
use forge::cli::forgectl::keys::Command;
use forge::client::Client;
use forge::config::Config;
use forge::exit::Code;
use forge::wire::{Request, Response};
use std::path::{Path, PathBuf};

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
        make_ssh_folder(folder, &config.git_user)?;
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

/// Creates the folder of a new authorized_keys file with the mode sshd's StrictModes wants,
/// owned by the git account when root creates it.
fn make_ssh_folder(folder: &Path, git_user: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if folder.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(folder)
        .with_context(|| format!("cannot create {}", folder.display()))?;
    std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot restrict {}", folder.display()))?;
    if nix::unistd::Uid::effective().is_root()
        && let Ok(Some(owner)) = nix::unistd::User::from_name(git_user)
    {
        std::os::unix::fs::chown(folder, Some(owner.uid.as_raw()), Some(owner.gid.as_raw()))
            .with_context(|| format!("cannot give {} to {git_user}", folder.display()))?;
    }
    Ok(())
}
