//! What runs inside sshd and git, as the git account: the forced command (`forge-shell`), the
//! hooks (`forge-hook`) and the key lookup (`forge-keys`).
//!
//! Each shim asks forged one question over the socket, then `exec`s git or answers sshd. They
//! hold no policy and no state of their own, open no database, and depend only on
//! [`crate::types`], [`crate::wire`] and [`crate::policy`]; never on the daemon, the store or
//! admin-only code.
//!
//! - [`shell`]: the forced command's flow, from `SSH_ORIGINAL_COMMAND` to `exec`.
//! - [`ssh_command`]: parsing `SSH_ORIGINAL_COMMAND` strictly.
//! - [`git`]: running git with an argument vector and an environment built anew.
//! - [`push_env`]: the `FORGE_*` environment forge-shell hands the hooks.
//! - [`hook`]: pre-receive and post-receive.
//! - [`keys`]: sshd's `AuthorizedKeysCommand` and `AuthorizedPrincipalsCommand`.

pub mod git;
pub mod hook;
pub mod keys;
pub mod push_env;
pub mod shell;
pub mod ssh_command;
