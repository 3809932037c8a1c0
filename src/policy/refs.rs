//! Ref updates as a push proposes them: names, object ids, and the kind of each update.

use crate::exit::{Classify, Code};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The longest ref name forge accepts, in bytes.
pub const MAX_REF_NAME_BYTES: usize = 1024;

/// A git object id: 40 (SHA-1) or 64 (SHA-256) lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ObjectId(String);

/// A full ref name such as `refs/heads/main`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct RefName(String);

/// Why a ref update line or one of its parts is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// An object id is not 40 or 64 lowercase hex digits.
    #[error("'{given}' is not an object id")]
    BadObjectId {
        /// The text given, cut short.
        given: String,
    },
    /// A ref name does not start with `refs/`, is too long or holds a byte git refuses.
    #[error("'{given}' is not a full ref name")]
    BadRefName {
        /// The text given, cut short and escaped.
        given: String,
    },
    /// A pre-receive line is not `<old> <new> <ref>`.
    #[error("'{given}' is not an '<old> <new> <ref>' line")]
    BadLine {
        /// The line given, cut short and escaped.
        given: String,
    },
}

fn shorten(text: &str) -> String {
    text.chars()
        .take(80)
        .collect::<String>()
        .escape_default()
        .to_string()
}

impl ObjectId {
    /// Returns the object id in `hex` after checking its length and digits.
    pub fn parse(hex: &str) -> Result<ObjectId, Error> {
        let well_formed = matches!(hex.len(), 40 | 64)
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if well_formed {
            Ok(ObjectId(hex.to_owned()))
        } else {
            Err(Error::BadObjectId {
                given: shorten(hex),
            })
        }
    }

    /// Returns whether this is the all-zero id git uses for "no object".
    pub fn is_zero(&self) -> bool {
        self.0.bytes().all(|b| b == b'0')
    }

    /// Returns the id as hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl RefName {
    /// Returns the ref name in `name` after checking it is full and safe to print and store.
    ///
    /// git itself enforces the finer rules of `git check-ref-format`; forge only refuses names
    /// that do not start with `refs/`, are over [`MAX_REF_NAME_BYTES`], or hold a control byte,
    /// a space or a byte outside ASCII.
    pub fn parse(name: &str) -> Result<RefName, Error> {
        let well_formed = name.starts_with("refs/")
            && name.len() > "refs/".len()
            && name.len() <= MAX_REF_NAME_BYTES
            && name.bytes().all(|b| b.is_ascii_graphic());
        if well_formed {
            Ok(RefName(name.to_owned()))
        } else {
            Err(Error::BadRefName {
                given: shorten(name),
            })
        }
    }

    /// Returns the name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Returns the namespace of `reference` when it is a ref outside `refs/heads/` and
/// `refs/tags/`: `refs/<name>/` (or the whole ref when it has no second `/`, as `refs/stash`).
///
/// Such a ref (a replace ref, a note, ...) changes what git serves for other refs or lives
/// beside them, so forge lets a push touch it only through a rule whose refex names this
/// namespace literally (see the `engine` module doc). `None` for branches, tags, virtual refs
/// and anything not under `refs/`.
pub fn namespace_outside_branches_and_tags(reference: &str) -> Option<&str> {
    let rest = reference.strip_prefix("refs/")?;
    if rest.starts_with("heads/") || rest.starts_with("tags/") {
        return None;
    }
    let end = rest
        .find('/')
        .map_or(reference.len(), |at| "refs/".len() + at + 1);
    Some(&reference[..end])
}

macro_rules! display_and_deserialize_by_parse {
    ($type:ident) => {
        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                $type::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

display_and_deserialize_by_parse!(ObjectId);
display_and_deserialize_by_parse!(RefName);

/// What a ref update does to its ref.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateKind {
    /// The ref did not exist.
    Create,
    /// The ref is removed.
    Delete,
    /// The new commit descends from the old one.
    FastForward,
    /// History is rewritten: the old commit is not an ancestor of the new one, or either side
    /// is not a commit (a moved tag, say).
    NonFastForward,
}

impl UpdateKind {
    /// Returns the snake_case word for this kind, as stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateKind::Create => "create",
            UpdateKind::Delete => "delete",
            UpdateKind::FastForward => "fast_forward",
            UpdateKind::NonFastForward => "non_fast_forward",
        }
    }

    /// Returns the kind named by [`UpdateKind::as_str`].
    pub fn from_word(word: &str) -> Option<UpdateKind> {
        [
            UpdateKind::Create,
            UpdateKind::Delete,
            UpdateKind::FastForward,
            UpdateKind::NonFastForward,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == word)
    }
}

impl fmt::Display for UpdateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One ref update of a push: the ref, its old and new ids, and what kind of change it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefUpdate {
    /// The full ref name.
    pub ref_name: RefName,
    /// The id the ref had; all zeros when it is created.
    pub old: ObjectId,
    /// The id the ref gets; all zeros when it is deleted.
    pub new: ObjectId,
    /// What the update does.
    pub kind: UpdateKind,
    /// The files that differ between the old and the new tree (every file of the tree on a
    /// create or delete), for path rules; `None` when there were too many to send.
    #[serde(default)]
    pub paths: Option<Vec<String>>,
    /// Whether the pushed commits include a merge commit.
    #[serde(default)]
    pub has_merges: bool,
}

/// A ref update line as git hands it to pre- and post-receive, before classification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposedUpdate {
    /// The id the ref had.
    pub old: ObjectId,
    /// The id the ref gets.
    pub new: ObjectId,
    /// The full ref name.
    pub ref_name: RefName,
}

impl ProposedUpdate {
    /// Returns the update in one `<old> <new> <ref>` line (without its newline).
    pub fn parse_line(line: &str) -> Result<ProposedUpdate, Error> {
        let bad_line = || Error::BadLine {
            given: shorten(line),
        };
        let mut parts = line.split(' ');
        let (Some(old), Some(new), Some(ref_name), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad_line());
        };
        Ok(ProposedUpdate {
            old: ObjectId::parse(old)?,
            new: ObjectId::parse(new)?,
            ref_name: RefName::parse(ref_name)?,
        })
    }
}

impl Classify for Error {
    /// Every error here is input that cannot be used (ref updates): refused, nothing changed.
    fn code(&self) -> Code {
        Code::Refused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "1111111111111111111111111111111111111111";
    const ZERO: &str = "0000000000000000000000000000000000000000";

    #[test]
    fn object_ids_are_full_lowercase_hex() {
        assert!(ObjectId::parse(A).is_ok());
        assert!(ObjectId::parse(&"a".repeat(64)).is_ok());
        assert!(ObjectId::parse(ZERO).unwrap().is_zero());
        for bad in ["", "abc", &"A".repeat(40), &"g".repeat(40), &"1".repeat(41)] {
            assert!(ObjectId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ref_names_must_be_full_and_printable() {
        for good in [
            "refs/heads/main",
            "refs/tags/v1.0",
            "refs/heads/feature/x-1",
        ] {
            assert!(RefName::parse(good).is_ok(), "{good}");
        }
        let long = format!("refs/heads/{}", "a".repeat(1100));
        for bad in [
            "main",
            "refs/",
            "refs/heads/a b",
            "refs/heads/\n",
            "refs/heads/é",
            &long,
        ] {
            assert!(RefName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn refs_outside_branches_and_tags_have_a_namespace() {
        for (reference, namespace) in [
            ("refs/heads/main", None),
            ("refs/tags/v1", None),
            ("VREF/NAME/refs/replace/x", None),
            ("refs/replace/1111", Some("refs/replace/")),
            ("refs/notes/commits", Some("refs/notes/")),
            ("refs/heads", Some("refs/heads")),
            ("refs/stash", Some("refs/stash")),
            ("refs/headsx/y", Some("refs/headsx/")),
            ("refs/for/main/x", Some("refs/for/")),
        ] {
            assert_eq!(
                namespace_outside_branches_and_tags(reference),
                namespace,
                "{reference}"
            );
        }
    }

    #[test]
    fn pre_receive_lines_parse_strictly() {
        let line = format!("{ZERO} {A} refs/heads/main");
        let update = ProposedUpdate::parse_line(&line).unwrap();
        assert!(update.old.is_zero());
        assert_eq!(update.ref_name.as_str(), "refs/heads/main");
        for bad in [
            format!("{ZERO} {A}"),
            format!("{ZERO} {A} refs/heads/main extra"),
            format!("{ZERO}  {A} refs/heads/main"),
            format!("{ZERO} {A} main"),
        ] {
            assert!(ProposedUpdate::parse_line(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn update_kinds_round_trip_through_their_words() {
        for kind in [
            UpdateKind::Create,
            UpdateKind::Delete,
            UpdateKind::FastForward,
            UpdateKind::NonFastForward,
        ] {
            assert_eq!(UpdateKind::from_word(kind.as_str()), Some(kind));
        }
    }
}
