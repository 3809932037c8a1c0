//! Why forged cannot start or go on serving, and the exit code each reason calls for.

use crate::exit::{self, Classify, Code};
use crate::store;
use std::path::PathBuf;

/// Why forged cannot serve.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database cannot be opened or migrated.
    #[error("cannot open the database {}", path.display())]
    Store {
        /// The database file.
        path: PathBuf,
        /// Why.
        #[source]
        source: store::Error,
    },
    /// A folder forged needs cannot be made.
    #[error("cannot create {}", path.display())]
    Folder {
        /// The folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Another forged answers on the socket.
    #[error("another forged is already listening on {}; stop it first", path.display())]
    AlreadyRunning {
        /// The socket.
        path: PathBuf,
    },
    /// The socket path holds something that is not a socket.
    #[error("{} exists and is not a socket; remove it or set 'socket' in forge.toml", path.display())]
    NotASocket {
        /// The path.
        path: PathBuf,
    },
    /// The socket cannot be bound or served.
    #[error("cannot listen on {}", path.display())]
    Listen {
        /// The socket.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// systemd passed more than the one socket forged listens on.
    #[error("systemd passed {count} sockets; forged listens on exactly one (check forged.socket)")]
    PassedSockets {
        /// How many.
        count: usize,
    },
    /// The socket systemd passed is not a listening Unix stream socket.
    #[error(
        "the socket systemd passed is not a Unix stream socket; check ListenStream= in forged.socket"
    )]
    PassedSocket(#[source] std::io::Error),
    /// The socket systemd passed is not the one forge.toml names, so clients would miss it.
    #[error(
        "systemd passed a socket on {passed} but forge.toml says socket = {}; make forged.socket and forge.toml agree",
        configured.display()
    )]
    PassedOtherSocket {
        /// Where the passed socket listens.
        passed: String,
        /// The socket forge.toml names.
        configured: PathBuf,
    },
    /// The stored policy does not build (it was valid when stored; a newer forge wrote it?).
    #[error("the stored policy is not valid")]
    Policy(#[source] crate::policy::document::Error),
    /// forged runs as the wrong account, or the git account could touch the database.
    #[error(transparent)]
    Trust(#[from] crate::daemon::trust::Error),
    /// Signal handlers cannot be installed.
    #[error("cannot install signal handlers")]
    Signals(#[source] std::io::Error),
    /// A thread of forged's own cannot be started.
    #[error("cannot start a thread")]
    Thread(#[source] std::io::Error),
}

impl Classify for Error {
    fn code(&self) -> Code {
        match self {
            Error::Store { source, .. } => source.code(),
            Error::Folder { source, .. } | Error::Listen { source, .. } => exit::io_code(source),
            Error::AlreadyRunning { .. }
            | Error::NotASocket { .. }
            | Error::PassedSockets { .. }
            | Error::PassedSocket(_)
            | Error::PassedOtherSocket { .. } => Code::Refused,
            Error::Trust(source) => source.code(),
            Error::Policy(_) | Error::Signals(_) | Error::Thread(_) => Code::Internal,
        }
    }
}
