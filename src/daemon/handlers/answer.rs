//! What a handler returns: a [`Response`], or a [`Failure`] that the dispatcher turns into an
//! error answer carrying the request id.

use crate::exit::{Classify, Code};
use crate::store;
use crate::wire::{ErrorKind, Response};

/// A handler's failure: what kind, and the one line the client shows.
#[derive(Debug)]
pub(super) struct Failure {
    pub(super) kind: ErrorKind,
    pub(super) message: String,
}

impl Failure {
    pub(super) fn refused(message: impl Into<String>) -> Failure {
        Failure {
            kind: ErrorKind::Refused,
            message: message.into(),
        }
    }

    pub(super) fn denied() -> Failure {
        Failure {
            kind: ErrorKind::Denied,
            message: "denied".into(),
        }
    }

    /// A refusal for now, that the client may retry later (a rate limit).
    pub(super) fn busy(message: impl Into<String>) -> Failure {
        Failure {
            kind: ErrorKind::Busy,
            message: message.into(),
        }
    }

    pub(super) fn internal(message: impl Into<String>) -> Failure {
        Failure {
            kind: ErrorKind::Internal,
            message: message.into(),
        }
    }
}

impl From<store::Error> for Failure {
    fn from(error: store::Error) -> Failure {
        match error.code() {
            Code::Refused => Failure::refused(error.to_string()),
            Code::Unavailable => Failure {
                kind: ErrorKind::Busy,
                message: "the database is busy; try again".into(),
            },
            Code::Success | Code::Usage | Code::Internal => {
                Failure::internal(crate::exit::one_line(error))
            }
        }
    }
}

impl From<crate::daemon::disk::Error> for Failure {
    fn from(error: crate::daemon::disk::Error) -> Failure {
        match error.code() {
            Code::Refused => Failure::refused(crate::exit::one_line(error)),
            _ => Failure::internal(crate::exit::one_line(error)),
        }
    }
}

pub(super) type Handled = Result<Response, Failure>;
