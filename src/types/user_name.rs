//! User names: what forge calls the people who push and clone.

use crate::exit::{Classify, Code};
use std::fmt;

/// The longest user name forge accepts, in bytes.
pub const MAX_BYTES: usize = 64;

/// A forge user name: 1 to 64 bytes of `[A-Za-z0-9._-]`, not starting with `.` or `-`.
///
/// The same alphabet as a repository segment, so a name is safe in a log line, a table, a
/// gitolite-style keydir file name and a `CREATOR` substitution. It can only be made by parsing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct UserName(String);

/// Why a string is not a user name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The name is empty.
    #[error("user name is empty")]
    Empty,
    /// The name is longer than [`MAX_BYTES`].
    #[error("user name is longer than {max} bytes")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// The name holds a byte outside `[A-Za-z0-9._-]`.
    #[error("user name may only hold letters, digits, '.', '_' and '-', not '{}'", .byte.escape_ascii())]
    BadByte {
        /// The offending byte.
        byte: u8,
    },
    /// The name starts with `.` or `-`.
    #[error("user name may not start with '.' or '-'")]
    BadStart,
}

impl UserName {
    /// Returns the user name in `name` after checking every byte.
    pub fn parse(name: &str) -> Result<UserName, Error> {
        let bytes = name.as_bytes();
        let first = *bytes.first().ok_or(Error::Empty)?;
        if bytes.len() > MAX_BYTES {
            return Err(Error::TooLong { max: MAX_BYTES });
        }
        if let Some(&byte) = bytes
            .iter()
            .find(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')))
        {
            return Err(Error::BadByte { byte });
        }
        if first == b'.' || first == b'-' {
            return Err(Error::BadStart);
        }
        Ok(UserName(name.to_owned()))
    }

    /// Returns the name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for UserName {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        UserName::parse(name)
    }
}

impl<'de> serde::Deserialize<'de> for UserName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        UserName::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl Classify for Error {
    /// Every error here is input that cannot be used (user names): refused, nothing changed.
    fn code(&self) -> Code {
        Code::Refused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names_parse_unchanged() {
        for name in ["alice", "a", "bob.smith", "ci_bot-2", "X9", &"a".repeat(64)] {
            assert_eq!(
                UserName::parse(name).map(|n| n.0),
                Ok(name.to_owned()),
                "{name}"
            );
        }
    }

    #[test]
    fn invalid_names_are_refused_with_the_reason() {
        let long = "a".repeat(65);
        let rows: &[(&str, Error)] = &[
            ("", Error::Empty),
            (&long, Error::TooLong { max: 64 }),
            ("al ice", Error::BadByte { byte: b' ' }),
            ("alice\n", Error::BadByte { byte: b'\n' }),
            ("a/b", Error::BadByte { byte: b'/' }),
            ("ä", Error::BadByte { byte: 0xc3 }),
            ("@admins", Error::BadByte { byte: b'@' }),
            (".alice", Error::BadStart),
            ("-alice", Error::BadStart),
        ];
        for (name, expected) in rows {
            assert_eq!(UserName::parse(name).as_ref(), Err(expected), "{name:?}");
        }
    }

    #[test]
    fn deserializing_checks_the_name() {
        assert!(serde_json::from_str::<UserName>("\"alice\"").is_ok());
        assert!(serde_json::from_str::<UserName>("\"../x\"").is_err());
    }
}
