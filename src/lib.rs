//! forge: git hosting over the system's own OpenSSH.
//!
//! Every rule and every format lives in this library; the binaries under `src/bin/` only parse
//! their arguments, call in here and turn the outcome into an exit code. `forged` is the single
//! source of truth: the shims ask it one question each over the Unix socket described in
//! [`wire`] and hold no policy of their own.
//!
//! The modules are grouped by the side of the socket they run on, and depend only downwards:
//!
//! - [`types`] and [`policy`]: values and rules every side shares; they do no I/O of their own.
//! - [`wire`]: the protocol, spoken by both ends, and the client every caller of forged uses.
//! - [`shim`]: what sshd and git run (`forge-shell`, `forge-hook`, `forge-keys`); it uses only
//!   `types`, `policy` and `wire`.
//! - [`daemon`] and [`store`]: `forged` and the database only it opens; the store knows
//!   nothing of the wire protocol.
//! - [`admin`]: what only `forgectl` runs on the host.
//! - [`config`], [`logging`], [`exit`] and [`cli`]: what every binary shares: forge.toml,
//!   logging, exit codes, and the command lines.
//! - [`fault`]: named fault points, alive only in test builds (the `fault-points` feature).
#![warn(missing_docs)]

pub mod admin;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod exit;
pub mod fault;
pub mod logging;
pub mod policy;
pub mod shim;
pub mod store;
pub mod types;
pub mod wire;
