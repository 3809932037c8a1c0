//! Who may do what: gitolite's rules (permissions, refexes, groups, patterns, roles) and the
//! evaluator that decides every question with them.
//!
//! - [`rules`]: the words of a policy: [`Perm`], [`Need`], [`Refex`], [`Subject`], [`RepoSpec`].
//! - [`engine`]: [`Policy`], built from groups, rules and options; `access` answers as
//!   gitolite's `access()` does, `need_of` says what a ref update needs.
//! - [`document`]: a policy as data: on the wire, in the store, and as the TOML file admins
//!   export and apply.
//! - [`decide`]: the one decision every caller uses: access, creation, ref updates, and why.
//! - [`refs`]: ref updates as a push proposes them.
//! - [`shortcuts`]: the rules grants and public flags stand for, and the policy built with them.
//! - `regex_cache`: compiled refexes and patterns, kept across rebuilds (issue #12).
//!
//! [`Access`] is the level a `forgectl grant` gives: `read` stands for the rule `R`, `write` and
//! `admin` for `RW+`.
//!
//! Where forge is stricter than gitolite, on purpose (issue #11):
//!
//! - A ref outside `refs/heads/` and `refs/tags/` (`refs/replace/<id>`, `refs/notes/...`) is
//!   pushed only through an allow rule whose refex names its namespace literally: it begins with
//!   `refs/<namespace>/` (for a ref with no second `/`, such as `refs/stash`, with the whole
//!   ref). The blanket `refs/.*` of a rule without refs, so of every grant, names none, nor do
//!   regexes like `refs/(replace|notes)/`. Deny rules deny as they match. See [`engine`].
//! - A path rule decides file names as they are; a changed file whose name is not UTF-8 or
//!   holds a control character cannot be decided, and a push with one is refused wherever a
//!   path rule applies to the pusher. See [`decide::ref_update`].

pub mod decide;
pub mod document;
pub mod engine;
pub mod refs;
mod regex_cache;
pub mod rules;
pub mod shortcuts;
pub mod update_facts;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
