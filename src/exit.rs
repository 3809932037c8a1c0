//! Exit codes, and the one type that turns an error into a user's line and a code.
//!
//! | code | meaning |
//! |------|---------|
//! | 0    | success |
//! | 1    | refused: denied, or invalid input; nothing changed |
//! | 2    | usage: the command line is wrong (clap's code) |
//! | 70   | internal error: a bug; details in the forged log |
//! | 75   | forged unreachable, busy or timed out: try again later |
//!
//! Every library error says its own code by implementing [`Classify`], with a `match` over its
//! variants, so a new variant cannot be added without deciding its code. The binaries return
//! [`Failure`], which can be made only from a classified error (or from a code given
//! explicitly): an error nobody classified does not compile. This module depends on nothing
//! else in forge, so every side can use it.

use std::fmt;
use std::process::ExitCode;

/// What a binary's exit status means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Success.
    Success = 0,
    /// Denied, or invalid input; nothing changed.
    Refused = 1,
    /// The command line is wrong.
    Usage = 2,
    /// A bug; details in the forged log.
    Internal = 70,
    /// forged unreachable, busy or timed out; try again later.
    Unavailable = 75,
}

impl From<Code> for ExitCode {
    fn from(code: Code) -> ExitCode {
        ExitCode::from(code as u8)
    }
}

/// Who reads a binary's error line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// An admin at a terminal: the whole error chain, on one line.
    Admin,
    /// A git user at the other end of an SSH channel: one cleaned line, with no paths, SQL or
    /// socket names, in which a denied repository reads exactly like a missing one.
    RemoteUser,
}

/// The line a remote user sees for an error that has nothing more specific to say.
pub const INTERNAL_LINE: &str = "internal error; tell your admin";

/// An error that knows which exit code it calls for and what a remote git user may read of it.
pub trait Classify: std::error::Error + Send + Sync + 'static {
    /// Returns the exit code this error calls for.
    fn code(&self) -> Code;

    /// Returns the one line a remote git user sees: no paths, SQL or socket names.
    fn remote_line(&self) -> String {
        match self.code() {
            Code::Unavailable => UNAVAILABLE_LINE.into(),
            _ => INTERNAL_LINE.into(),
        }
    }
}

/// The line a remote user sees when forged cannot answer now.
pub const UNAVAILABLE_LINE: &str =
    "authorization service unavailable; try again in a minute, or tell your admin";

/// A binary's error: a classified library error with its exit code, its remote user's line,
/// and any context the binary added.
pub struct Failure {
    code: Code,
    remote: String,
    error: anyhow::Error,
}

impl<E: Classify> From<E> for Failure {
    fn from(error: E) -> Failure {
        Failure {
            code: error.code(),
            remote: error.remote_line(),
            error: anyhow::Error::new(error),
        }
    }
}

impl Failure {
    /// Returns a failure the binary itself found, with the code it calls for; for refusals
    /// that are not errors of the library (a file that cannot be read, say).
    pub fn new(code: Code, error: impl Into<anyhow::Error>) -> Failure {
        let error = error.into();
        let remote = match code {
            Code::Unavailable => UNAVAILABLE_LINE.into(),
            _ => INTERNAL_LINE.into(),
        };
        Failure {
            code,
            remote,
            error,
        }
    }

    /// Returns the exit code.
    pub fn code(&self) -> Code {
        self.code
    }

    /// Returns the failure with `context` put in front of its message; the code stays.
    pub fn context(self, context: impl fmt::Display + Send + Sync + 'static) -> Failure {
        Failure {
            error: self.error.context(context),
            ..self
        }
    }

    /// Returns whether any cause in the chain is an `E`.
    pub fn is<E: std::error::Error + Send + Sync + 'static>(&self) -> bool {
        self.error.chain().any(|cause| cause.is::<E>())
    }

    /// Returns the line `audience` reads.
    pub fn line(&self, audience: Audience) -> String {
        match audience {
            Audience::Admin => format!("{:#}", self.error),
            Audience::RemoteUser => self.remote.clone(),
        }
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} (exit {})", self.error, self.code as u8)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

/// Adds context to a `Result` whose error can become a [`Failure`], keeping its code.
pub trait Context<T> {
    /// Returns the result with `context` put in front of an error's message.
    fn context(self, context: impl fmt::Display + Send + Sync + 'static) -> Result<T, Failure>;

    /// Returns the result with the context `f` makes put in front of an error's message.
    fn with_context<C: fmt::Display + Send + Sync + 'static>(
        self,
        f: impl FnOnce() -> C,
    ) -> Result<T, Failure>;
}

impl<T, E: Into<Failure>> Context<T> for Result<T, E> {
    fn context(self, context: impl fmt::Display + Send + Sync + 'static) -> Result<T, Failure> {
        self.map_err(|e| e.into().context(context))
    }

    fn with_context<C: fmt::Display + Send + Sync + 'static>(
        self,
        f: impl FnOnce() -> C,
    ) -> Result<T, Failure> {
        self.map_err(|e| e.into().context(f()))
    }
}

/// Returns `error` and its causes on one line (`what: why: deeper cause`), as admins and the
/// forged log read errors.
pub fn one_line(error: impl std::error::Error + Send + Sync + 'static) -> String {
    format!("{:#}", anyhow::Error::new(error))
}

/// Returns the exit code an operating system error calls for: the admin's to fix (a missing
/// file, a permission, a full disk) is refused, a busy or interrupted one is worth retrying,
/// anything else is a bug.
pub fn io_code(error: &std::io::Error) -> Code {
    use std::io::ErrorKind as Kind;
    match error.kind() {
        Kind::NotFound
        | Kind::PermissionDenied
        | Kind::AlreadyExists
        | Kind::IsADirectory
        | Kind::NotADirectory
        | Kind::DirectoryNotEmpty
        | Kind::ReadOnlyFilesystem
        | Kind::StorageFull
        | Kind::QuotaExceeded
        | Kind::FileTooLarge
        | Kind::InvalidInput
        | Kind::InvalidData
        | Kind::InvalidFilename
        | Kind::CrossesDevices
        | Kind::AddrInUse => Code::Refused,
        Kind::WouldBlock
        | Kind::TimedOut
        | Kind::Interrupted
        | Kind::ConnectionRefused
        | Kind::ConnectionReset
        | Kind::BrokenPipe
        | Kind::ResourceBusy => Code::Unavailable,
        _ => Code::Internal,
    }
}

/// Writes `failure` for `audience` as `<tool>: <line>` on stderr, and returns its exit code.
pub fn report(tool: &str, audience: Audience, failure: &Failure) -> ExitCode {
    eprintln!("{tool}: {}", failure.line(audience));
    failure.code.into()
}

/// Writes `line` as `<tool>: <line>` on stderr and returns `code`; for refusals found by the
/// binaries themselves, which are not errors of the library.
pub fn refuse(tool: &str, line: &str, code: Code) -> ExitCode {
    eprintln!("{tool}: {line}");
    code.into()
}

/// Lets a closed standard output end the process quietly, as it ends `cat` or `ls`.
///
/// Rust starts every program with `SIGPIPE` ignored, so a write to a closed pipe fails and
/// `println!` panics (`forgectl repo list | head -1`). Restoring the default action makes the
/// kernel end the process at that write, with the status every shell knows (141 under bash's
/// `pipefail`). Call it first in `main`, before any thread starts.
pub fn end_quietly_on_closed_stdout() {
    // SAFETY: setting a signal's disposition to SIG_DFL installs no handler, so no code runs
    // in signal context; it is done before any other thread exists.
    #[allow(unsafe_code)]
    let _ = unsafe {
        nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGPIPE,
            nix::sys::signal::SigHandler::SigDfl,
        )
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum Sample {
        #[error("no such thing at /srv/secret")]
        Missing,
        #[error("forged is busy")]
        Busy,
    }

    impl Classify for Sample {
        fn code(&self) -> Code {
            match self {
                Sample::Missing => Code::Refused,
                Sample::Busy => Code::Unavailable,
            }
        }
    }

    #[test]
    fn a_failure_keeps_its_code_through_context() {
        let failure = Failure::from(Sample::Missing).context("reading the thing");
        assert_eq!(failure.code(), Code::Refused);
        assert_eq!(
            failure.line(Audience::Admin),
            "reading the thing: no such thing at /srv/secret"
        );
        assert_eq!(failure.line(Audience::RemoteUser), INTERNAL_LINE);
        assert!(failure.is::<Sample>());
    }

    #[test]
    fn unavailable_errors_tell_remote_users_to_try_again() {
        let failure = Failure::from(Sample::Busy);
        assert_eq!(failure.code(), Code::Unavailable);
        assert_eq!(failure.line(Audience::RemoteUser), UNAVAILABLE_LINE);
    }

    #[test]
    fn codes_are_the_documented_numbers() {
        let codes = [
            (Code::Success, 0),
            (Code::Refused, 1),
            (Code::Usage, 2),
            (Code::Internal, 70),
            (Code::Unavailable, 75),
        ];
        for (code, number) in codes {
            assert_eq!(code as u8, number);
        }
    }
}
