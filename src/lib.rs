//! forge: git hosting over the system's own OpenSSH.
//!
//! Every rule and every format lives in this library; the binaries under `src/bin/` only parse
//! their arguments, call in here and turn the outcome into an exit code. `forged` is the single
//! source of truth: the shims (`forge-shell`, `forge-hook`) ask it one question each over the
//! Unix socket described in [`wire`] and hold no policy of their own.
#![warn(missing_docs)]

pub mod admin;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod exit;
pub mod logging;
pub mod policy;
pub mod shim;
pub mod store;
pub mod types;
pub mod wire;
