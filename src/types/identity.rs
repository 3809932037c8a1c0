//! Who logged in, as the forced command names it: a registered key (`key-17`) or a user
//! certificate signed by a registered CA (`cert-3:alice`). forged resolves it to a user at every
//! request, so a key, a CA or a user removed since the login stops working at once.

use crate::exit::{Classify, Code};
use crate::types::certs::CaId;
use crate::types::keys::{self, KeyId};
use crate::types::shown::shown;
use crate::types::user_name::UserName;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Why a forced command argument is not an identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{arg}' is not an identity of the form key-<n> or cert-<n>:<user> with n a positive number"
)]
pub struct Error {
    /// The argument as given, escaped and shortened for display.
    arg: String,
}

/// The identity a session logged in with.
///
/// On the wire a key is its plain id (`17`, as before certificates existed) and a certificate
/// is `{"ca":3,"user":"alice"}`; in a forced command they are `key-17` and `cert-3:alice`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Identity {
    /// A registered public key.
    Key(KeyId),
    /// A user certificate whose principal resolved to `user`, signed by the CA `ca`.
    Certificate {
        /// The CA that signed the certificate.
        ca: CaId,
        /// The forge user the certificate's principal resolved to.
        user: UserName,
    },
}

impl Identity {
    /// Parses the forced command argument: `key-<n>` or `cert-<n>:<user>`.
    ///
    /// `n` is a positive decimal number without sign or leading zeros that fits an `i64`;
    /// `user` is a valid [`UserName`]. Nothing else is accepted, not even surrounding spaces.
    pub fn parse_arg(arg: &str) -> Result<Identity, Error> {
        let bad = || Error { arg: shown(arg) };
        if arg.starts_with("key-") {
            return KeyId::parse_arg(arg).map(Identity::Key).map_err(|_| bad());
        }
        let rest = arg.strip_prefix("cert-").ok_or_else(bad)?;
        let (digits, user) = rest.split_once(':').ok_or_else(bad)?;
        let ca = keys::positive_id(digits).ok_or_else(bad)?;
        let user = UserName::parse(user).map_err(|_| bad())?;
        Ok(Identity::Certificate {
            ca: CaId::new(ca),
            user,
        })
    }

    /// Returns the key, for a key identity; audit records carry it.
    pub fn key(&self) -> Option<KeyId> {
        match self {
            Identity::Key(key) => Some(*key),
            Identity::Certificate { .. } => None,
        }
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Identity::Key(key) => write!(f, "{key}"),
            Identity::Certificate { ca, user } => write!(f, "cert-{}:{user}", ca.get()),
        }
    }
}

impl FromStr for Identity {
    type Err = Error;

    fn from_str(arg: &str) -> Result<Identity, Error> {
        Identity::parse_arg(arg)
    }
}

impl Classify for Error {
    /// Every error here is input that cannot be used (identities): refused, nothing changed.
    fn code(&self) -> Code {
        Code::Refused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(ca: i64, user: &str) -> Identity {
        Identity::Certificate {
            ca: CaId::new(ca),
            user: UserName::parse(user).unwrap(),
        }
    }

    #[test]
    fn valid_arguments_parse_and_render_back() {
        let rows = [
            ("key-17", Identity::Key(KeyId::new(17))),
            (
                "key-9223372036854775807",
                Identity::Key(KeyId::new(i64::MAX)),
            ),
            ("cert-3:alice", cert(3, "alice")),
            ("cert-12:bob.smith-2", cert(12, "bob.smith-2")),
        ];
        for (arg, expected) in rows {
            assert_eq!(Identity::parse_arg(arg), Ok(expected.clone()), "{arg}");
            assert_eq!(expected.to_string(), arg);
        }
    }

    #[test]
    fn invalid_arguments_are_refused() {
        for arg in [
            "",
            "17",
            "key-0",
            "key-017",
            "key-+1",
            "key-1 ",
            "cert-",
            "cert-3",
            "cert-3:",
            "cert-0:alice",
            "cert-03:alice",
            "cert--3:alice",
            "cert-3:al ice",
            "cert-3:-alice",
            "cert-3:alice:bob",
            "cert-3:a\"b",
            "cert-99999999999999999999:alice",
            "Cert-3:alice",
        ] {
            let error = Identity::parse_arg(arg).unwrap_err();
            assert!(error.to_string().contains("is not an identity"), "{arg}");
        }
    }

    #[test]
    fn a_key_is_a_plain_number_on_the_wire_and_a_certificate_an_object() {
        let key = Identity::Key(KeyId::new(17));
        assert_eq!(serde_json::to_string(&key).unwrap(), "17");
        assert_eq!(serde_json::from_str::<Identity>("17").unwrap(), key);
        let certificate = cert(3, "alice");
        let text = serde_json::to_string(&certificate).unwrap();
        assert_eq!(text, r#"{"ca":3,"user":"alice"}"#);
        assert_eq!(
            serde_json::from_str::<Identity>(&text).unwrap(),
            certificate
        );
        assert!(serde_json::from_str::<Identity>(r#"{"ca":3,"user":"../x"}"#).is_err());
        assert!(serde_json::from_str::<Identity>(r#""key-17""#).is_err());
    }

    #[test]
    fn only_a_key_identity_has_a_key() {
        assert_eq!(Identity::Key(KeyId::new(4)).key(), Some(KeyId::new(4)));
        assert_eq!(cert(4, "alice").key(), None);
    }
}
