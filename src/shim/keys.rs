//! What `forge-keys` does for sshd: as `AuthorizedKeysCommand`, print the `authorized_keys`
//! line of the presented key; as `AuthorizedPrincipalsCommand`, the `authorized_principals`
//! lines of the presented certificate. forged decides both; an unknown key gets no line.

use crate::wire::client::{self, Client};
use crate::wire::{Request, Response};

/// What sshd asked about, from its `%u %t %k` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// The account sshd is logging in to (`%u`).
    pub login: String,
    /// The key or certificate type (`%t`).
    pub key_type: String,
    /// The base64 key or certificate (`%k`).
    pub key: String,
    /// Whether sshd asks for principals (`AuthorizedPrincipalsCommand`) rather than keys.
    pub principals: bool,
}

/// Returns the lines sshd should read for `question`: none for a key or certificate forge does
/// not know.
pub fn lines(client: &Client, question: Question) -> Result<Vec<String>, client::Error> {
    let Question {
        login,
        key_type,
        key,
        principals,
    } = question;
    let request = if principals {
        Request::PrincipalsLookup {
            login,
            key_type,
            key,
        }
    } else {
        Request::KeyLookup {
            login,
            key_type,
            key,
        }
    };
    // Only the answer that matches the question: a key line printed for a principals question
    // (or the reverse) would mean something else to sshd.
    match (principals, client.call(&request)?) {
        (false, Response::AuthorizedKeys { lines })
        | (true, Response::AuthorizedPrincipals { lines }) => Ok(lines),
        _ => Err(client::Error::Unexpected { op: request.op() }),
    }
}
