//! forge: git hosting over the system's own OpenSSH.
//!
//! Every rule and every format lives in this library; the binaries under `src/bin/` only parse
//! their arguments, call in here and turn the outcome into an exit code. `forged` is the single
//! source of truth: the shims (`forge-shell`, `forge-hook`) ask it one question each over the
//! Unix socket described in [`wire`] and hold no policy of their own.
#![warn(missing_docs)]

pub mod authorized_keys;
pub mod certs;
pub mod cli;
pub mod client;
pub mod config;
pub mod daemon;
pub mod exit;
pub mod git;
pub mod gitolite;
pub mod hooks;
pub mod identity;
pub mod keys;
pub mod logging;
pub mod policy;
pub mod repo_name;
pub mod shell;
pub mod ssh_command;
pub mod sshd_setup;
pub mod store;
pub mod timestamp;
pub mod user_name;
pub mod wire;
