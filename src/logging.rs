//! Logging with `tracing`, set up the same way by every binary.
//!
//! `FORGE_LOG` takes an `EnvFilter` (`RUST_LOG` is honoured when it is unset). `forged` logs at
//! the level its configuration names, to stderr for journald, without timestamps when
//! `JOURNAL_STREAM` says journald is listening. The shims log nothing by default: their stderr
//! is the user's SSH channel, and forged already logs every decision.

use tracing_subscriber::EnvFilter;

/// Which binary is logging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    /// The daemon.
    Forged,
    /// The admin CLI.
    Forgectl,
    /// The forced command.
    ForgeShell,
    /// The git hooks.
    ForgeHook,
    /// sshd's key lookup.
    ForgeKeys,
}

/// Installs the global subscriber for `component`; `default_filter` applies when neither
/// `FORGE_LOG` nor `RUST_LOG` is set.
pub fn init(component: Component, default_filter: &str) {
    let from_env = std::env::var("FORGE_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .filter(|filter| !filter.is_empty());
    let filter = match (component, from_env) {
        (_, Some(filter)) => filter,
        (Component::Forged, None) => default_filter.to_owned(),
        // A shim with no filter asked for logs nothing: with no subscriber installed every
        // event is dropped as the "off" filter would drop it, and start-up, which sshd and git
        // pay on every operation, skips building one (issue #12).
        (_, None) => return,
    };
    let filter = EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a person at a terminal, never into journald or a log file.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false);
    // A second init (in tests) keeps the first subscriber, which is what we want.
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        let _ = builder.without_time().try_init();
    } else {
        let _ = builder.try_init();
    }
}
