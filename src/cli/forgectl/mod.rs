//! The command line of `forgectl`: noun, then verb (`forgectl key add`).
//!
//! One module per command group holds the group's clap type; the function that runs it sits in
//! the binary, in the file of the same name (`cli/forgectl/key.rs` here, its `run` in
//! `src/bin/forgectl/commands/key.rs`). A new group gets a module here, a variant in
//! [`Command`] and an arm in the binary's one `match`; the man page and the completions pick it
//! up from here.

pub mod access;
pub mod audit;
pub mod backup;
pub mod ca;
pub mod completions;
pub mod import;
pub mod key;
pub mod keys;
pub mod maintenance;
pub mod policy;
pub mod principal;
pub mod repo;
pub mod setup;
pub mod status;
pub mod user;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Administer forge: users, keys, repositories, access and the audit log
///
/// Exit codes: 0 success (or "allow" for `access`), 1 refused or invalid input (or "deny"),
/// 2 usage, 70 internal error, 75 forged unreachable.
#[derive(Debug, Parser)]
#[command(name = "forgectl", version)]
pub struct Args {
    /// The configuration file [default: $FORGE_CONFIG, else /etc/forge/forge.toml]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Draw no progress bars (they are drawn on stderr only when it is a terminal)
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The command groups and commands of forgectl.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add, list and remove users
    #[command(subcommand)]
    User(user::Command),
    /// Add, list and remove SSH keys
    #[command(subcommand)]
    Key(key::Command),
    /// Trust, list and remove user CAs for SSH certificates
    #[command(subcommand)]
    Ca(ca::Command),
    /// Map certificate principals to users other than the one of their name
    #[command(subcommand)]
    Principal(principal::Command),
    /// Create, list and remove repositories
    #[command(subcommand)]
    Repo(repo::Command),
    /// Give a user read, write (no force push or delete) or admin access to a repository
    Grant(access::GrantArgs),
    /// Take a user's access to a repository away
    Revoke(access::RevokeArgs),
    /// Say whether a user may do something, as `gitolite access` does, and by which rule
    Access(access::AccessArgs),
    /// Export or apply the policy: groups, ordered rules and options
    #[command(subcommand)]
    Policy(policy::Command),
    /// Import users, keys, repositories and rules from another tool
    #[command(subcommand)]
    Import(import::Command),
    /// Protect a branch (no force, no delete, named pushers) or make tags immutable
    Protect(policy::ProtectArgs),
    /// Remove the protection of a branch or of the tags that `protect` wrote
    Unprotect(policy::UnprotectArgs),
    /// Show recorded ref updates, newest first; or changes of state (--admin) or denied access
    /// attempts (--denied)
    Audit(audit::Args),
    /// Show whether forged is up, its version and what it holds
    Status(status::Args),
    /// Back up the database and the repositories, online and consistent
    ///
    /// Pushes are paused only while the database snapshot is made and the repositories'
    /// files are linked (new pushes wait briefly, or are refused with exit 75), then resume.
    Backup(backup::BackupArgs),
    /// Check a backup (--verify), or put it in place on a stopped or fresh forge
    Restore(backup::RestoreArgs),
    /// Refuse pushes and changes for a while, with a message; reads go on
    #[command(subcommand)]
    Maintenance(maintenance::Command),
    /// Write the authorized_keys file of the git account
    #[command(subcommand)]
    Keys(keys::Command),
    /// Set up the system around forge: the sshd configuration
    #[command(subcommand)]
    Setup(setup::Command),
    /// Print the completion script of a shell on standard output
    ///
    /// Debian's package installs them where each shell looks: bash's in
    /// /usr/share/bash-completion/completions/forgectl, zsh's in
    /// /usr/share/zsh/vendor-completions/_forgectl and fish's in
    /// /usr/share/fish/vendor_completions.d/forgectl.fish. Needs neither forge.toml nor forged.
    Completions(completions::Args),
}
