//! `forged`: the single source of truth. It listens on a Unix socket, identifies each peer by
//! `SO_PEERCRED`, answers one request per line, and keeps all state in the [`Store`].
//!
//! Crash-only: every acknowledged change is committed before the answer is written, and at
//! start-up (and then every minute) pending ref updates are reconciled against the real refs.

mod creations;
mod denials;
pub(crate) mod disk;
mod error;
mod gate;
mod handlers;
mod listener;
mod peer;
mod serve;
mod state;
mod throttle;
mod trust;
mod workers;

pub use error::Error;
pub use peer::{Caller, Roles};
pub use state::Daemon;
