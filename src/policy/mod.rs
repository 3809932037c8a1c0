//! Who may do what: access levels, and the one function that decides a request.
//!
//! Today a user's access to a repository is the grant an admin gave them, or `read` on a public
//! repository; `write` permits every kind of ref update. The per-ref rule engine replaces
//! [`decide_ref`] without changing what the hooks send.

pub mod engine;
pub mod refs;
pub mod rules;

use serde::{Deserialize, Serialize};
use std::fmt;

pub use engine::{By, Policy, RepoState, Verdict};
pub use refs::{ObjectId, RefName, RefUpdate, UpdateKind};
pub use rules::{Need, Op, Perm, Refex, RepoOption, RepoSpec, Rule, Source, Subject};

/// What a user may do with a repository, ordered so that a check is a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Clone, fetch and archive.
    Read,
    /// Read, and push.
    Write,
    /// Write, and manage the repository.
    Admin,
}

/// Why a string is not an access level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{given}' is not an access level; use read, write or admin")]
pub struct ParseAccessError {
    given: String,
}

impl Access {
    /// Returns the access level named by `text`: `read`, `write`, `admin`, or `R`, `W`.
    pub fn parse(text: &str) -> Result<Access, ParseAccessError> {
        match text {
            "read" | "R" | "r" => Ok(Access::Read),
            "write" | "W" | "w" | "RW" => Ok(Access::Write),
            "admin" => Ok(Access::Admin),
            _ => Err(ParseAccessError {
                given: text.chars().take(40).collect(),
            }),
        }
    }

    /// Returns the lowercase word for this level.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
            Access::Admin => "admin",
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Access {
    type Err = ParseAccessError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Access::parse(text)
    }
}

/// What policy knows about one user and one repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// The access an admin granted this user on this repository, if any.
    pub grant: Option<Access>,
    /// Whether the repository is readable by every registered user.
    pub is_public: bool,
}

/// The outcome of one access question, with the reason an admin reads in `--explain`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Whether the request is allowed.
    pub allowed: bool,
    /// The rule that made the decision, in words.
    pub reason: String,
}

/// Returns whether a user with `standing` may have `wanted` access, and why.
pub fn decide(standing: Standing, wanted: Access) -> Decision {
    match standing.grant {
        Some(granted) if granted >= wanted => Decision {
            allowed: true,
            reason: format!("granted {granted}"),
        },
        _ if wanted == Access::Read && standing.is_public => Decision {
            allowed: true,
            reason: "the repository is public".to_owned(),
        },
        Some(granted) => Decision {
            allowed: false,
            reason: format!("granted only {granted}, {wanted} needed"),
        },
        None => Decision {
            allowed: false,
            reason: "no grant on this repository".to_owned(),
        },
    }
}

/// Returns whether a user with `standing` may make `update`, and why.
///
/// `write` permits every kind of update until per-ref rules exist.
pub fn decide_ref(standing: Standing, _update: &RefUpdate) -> Decision {
    decide(standing, Access::Write)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standing(grant: Option<Access>, is_public: bool) -> Standing {
        Standing { grant, is_public }
    }

    #[test]
    fn access_levels_compare_in_order() {
        assert!(Access::Read < Access::Write && Access::Write < Access::Admin);
    }

    #[test]
    fn access_words_parse() {
        for (text, access) in [
            ("read", Access::Read),
            ("R", Access::Read),
            ("write", Access::Write),
            ("W", Access::Write),
            ("admin", Access::Admin),
        ] {
            assert_eq!(Access::parse(text), Ok(access));
        }
        for text in ["", "Read", "rw+", "owner", "read "] {
            assert!(Access::parse(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn decisions_follow_grants_and_public_read() {
        use Access::*;
        let rows = [
            (standing(None, false), Read, false),
            (standing(None, false), Write, false),
            (standing(None, true), Read, true),
            (standing(None, true), Write, false),
            (standing(Some(Read), false), Read, true),
            (standing(Some(Read), false), Write, false),
            (standing(Some(Read), true), Write, false),
            (standing(Some(Write), false), Write, true),
            (standing(Some(Write), false), Admin, false),
            (standing(Some(Admin), false), Write, true),
            (standing(Some(Admin), false), Admin, true),
        ];
        for (who, wanted, allowed) in rows {
            assert_eq!(decide(who, wanted).allowed, allowed, "{who:?} {wanted}");
        }
    }

    #[test]
    fn a_denial_names_what_was_missing() {
        let decision = decide(standing(Some(Access::Read), false), Access::Write);
        assert_eq!(decision.reason, "granted only read, write needed");
    }
}
