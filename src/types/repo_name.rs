//! Repository names: parsing, validation, and resolving a name to its directory under the
//! repositories root.
//!
//! A [`RepoName`] can only be made by parsing, so one you hold is always valid and always
//! resolves to a path inside the root. There are three ways in: [`RepoName::parse`] takes the
//! canonical form and normalizes nothing, [`RepoName::from_request`] takes what an SSH client
//! asked for, and [`RepoName::from_admin`] takes what an admin typed.

use crate::exit::{Classify, Code};
use std::fmt;
use std::path::{Path, PathBuf};

/// The longest repository name, in bytes.
pub const MAX_BYTES: usize = 255;

/// The longest last segment of a repository name, in bytes.
///
/// The repository lives in `<last segment>.git`, and that must fit in one file name
/// (`NAME_MAX`, 255 bytes on Linux).
pub const MAX_LAST_SEGMENT_BYTES: usize = MAX_BYTES - ".git".len();

/// An error from parsing a repository name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The name is the empty string.
    #[error("repository name is empty")]
    Empty,
    /// The name is longer than [`MAX_BYTES`].
    #[error("repository name is longer than {max} bytes")]
    TooLong {
        /// The limit, [`MAX_BYTES`].
        max: usize,
    },
    /// The name starts or ends with `/`, or has `//` in it.
    #[error("repository name has an empty segment (leading, trailing or double '/')")]
    EmptySegment,
    /// The name holds a byte other than `A-Z a-z 0-9 . _ -` and `/`.
    #[error(
        "character '{}' is not allowed in a repository name (use letters, digits, '.', '_', '-' and '/')",
        escaped(.byte)
    )]
    BadByte {
        /// The first byte that is not allowed.
        byte: u8,
    },
    /// A segment starts with `.` or `-`, which covers `.`, `..` and things like `-rf`.
    #[error("segment '{segment}' may not start with '.' or '-'")]
    BadSegmentStart {
        /// The offending segment.
        segment: String,
    },
    /// A segment ends in `.git`, in any letter case.
    #[error("segment '{segment}' may not end in '.git' (in any letter case)")]
    GitSuffixSegment {
        /// The offending segment.
        segment: String,
    },
    /// The last segment is longer than [`MAX_LAST_SEGMENT_BYTES`].
    #[error("the last segment of a repository name is longer than {max} bytes")]
    LastSegmentTooLong {
        /// The limit, [`MAX_LAST_SEGMENT_BYTES`].
        max: usize,
    },
    /// An admin gave the name as a path, starting with `/` or `~/`.
    #[error(
        "repository name may not start with '{prefix}'; give it relative to the repositories root, like 'acme/widgets'"
    )]
    PathPrefix {
        /// The prefix found: `/` or `~/`.
        prefix: &'static str,
    },
    /// An admin gave the name with a trailing `/`.
    #[error("repository name may not end with '/'")]
    TrailingSlash,
}

/// Renders a byte for a message, escaping anything that is not printable ASCII.
fn escaped(byte: &u8) -> String {
    std::ascii::escape_default(*byte).to_string()
}

/// A valid repository name, such as `acme/widgets`.
///
/// Made only by [`RepoName::parse`] and its normalizing siblings, and deserialized through
/// `parse` too, so every value obeys the rules listed there. Serialized as a plain string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoName(String);

impl RepoName {
    /// Parses a canonical repository name, without any normalization.
    ///
    /// The rules:
    ///
    /// 1. 1 to [`MAX_BYTES`] bytes.
    /// 2. Only the bytes `A-Z a-z 0-9 . _ -` and `/`.
    /// 3. `/`-separated segments, none of them empty (no leading, trailing or double `/`).
    /// 4. No segment starts with `.` or `-`, so no `.`, `..`, hidden directory or option.
    /// 5. No segment ends in `.git`, in any letter case, since `a.git/b` would nest one
    ///    repository inside another's git directory.
    /// 6. The last segment is at most [`MAX_LAST_SEGMENT_BYTES`], so `<last>.git` fits in a
    ///    file name.
    pub fn parse(name: &str) -> Result<RepoName, Error> {
        if name.is_empty() {
            return Err(Error::Empty);
        }
        if name.len() > MAX_BYTES {
            return Err(Error::TooLong { max: MAX_BYTES });
        }
        // Checking every byte first means the segments quoted in later errors are harmless.
        if let Some(&byte) = name.as_bytes().iter().find(|&&b| !is_name_byte(b)) {
            return Err(Error::BadByte { byte });
        }
        for segment in name.split('/') {
            check_segment(segment)?;
        }
        let last = name.rsplit('/').next().unwrap_or(name);
        if last.len() > MAX_LAST_SEGMENT_BYTES {
            return Err(Error::LastSegmentTooLong {
                max: MAX_LAST_SEGMENT_BYTES,
            });
        }
        Ok(RepoName(name.to_owned()))
    }

    /// Parses the repository path an SSH client asked for.
    ///
    /// Clients spell the same repository several ways (`acme/widgets`, `/acme/widgets.git`,
    /// `~/acme/widgets.git/`), so this strips, in order: one leading `~/`, or else one
    /// leading `/`; one trailing `/`; one trailing `.git` (lowercase only). The rest must pass
    /// [`RepoName::parse`]; nothing is stripped twice, so `//x` and `x.git.git` are refused.
    pub fn from_request(path: &str) -> Result<RepoName, Error> {
        let rest = match path.strip_prefix("~/") {
            Some(rest) => rest,
            None => path.strip_prefix('/').unwrap_or(path),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let rest = rest.strip_suffix(".git").unwrap_or(rest);
        RepoName::parse(rest)
    }

    /// Parses the name an admin typed, as for `forgectl repo create`.
    ///
    /// A trailing `.git` (lowercase) is tolerated and stripped, since admins often type the
    /// directory name. A leading `/` or `~/` and a trailing `/` are refused with their own
    /// errors: they suggest the admin meant a path, and a name is never one. The rest must
    /// pass [`RepoName::parse`].
    pub fn from_admin(name: &str) -> Result<RepoName, Error> {
        if name.starts_with("~/") {
            return Err(Error::PathPrefix { prefix: "~/" });
        }
        if name.starts_with('/') {
            return Err(Error::PathPrefix { prefix: "/" });
        }
        if name.ends_with('/') {
            return Err(Error::TrailingSlash);
        }
        RepoName::parse(name.strip_suffix(".git").unwrap_or(name))
    }

    /// Returns the name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Returns the name in ASCII lowercase.
    ///
    /// Two names with the same folded form differ only in letter case; forge refuses to
    /// create the second, so that `Acme/Widgets` and `acme/widgets` never both exist.
    pub fn folded(&self) -> String {
        self.0.to_ascii_lowercase()
    }

    /// Returns the repository's directory, `root/<name>.git`.
    ///
    /// The parsing rules leave no `.`, `..`, empty or absolute segment, so the result is
    /// always inside `root`.
    pub fn to_path(&self, root: &Path) -> PathBuf {
        root.join(format!("{}.git", self.0))
    }
}

/// Says whether a byte may appear in a name; `/` separates segments.
fn is_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-' | b'/')
}

/// Checks one segment whose bytes are already known to be allowed.
fn check_segment(segment: &str) -> Result<(), Error> {
    let bytes = segment.as_bytes();
    match bytes.first() {
        None => return Err(Error::EmptySegment),
        Some(b'.' | b'-') => {
            return Err(Error::BadSegmentStart {
                segment: segment.to_owned(),
            });
        }
        Some(_) => {}
    }
    let git = b".git";
    if bytes.len() >= git.len() && bytes[bytes.len() - git.len()..].eq_ignore_ascii_case(git) {
        return Err(Error::GitSuffixSegment {
            segment: segment.to_owned(),
        });
    }
    Ok(())
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for RepoName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for RepoName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        RepoName::parse(&name).map_err(serde::de::Error::custom)
    }
}

impl Classify for Error {
    /// Every error here is input that cannot be used (repository names): refused, nothing changed.
    fn code(&self) -> Code {
        Code::Refused
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Component;

    fn bad_start(segment: &str) -> Error {
        Error::BadSegmentStart {
            segment: segment.to_owned(),
        }
    }

    fn git_suffix(segment: &str) -> Error {
        Error::GitSuffixSegment {
            segment: segment.to_owned(),
        }
    }

    fn bad_byte(byte: u8) -> Error {
        Error::BadByte { byte }
    }

    /// Names the parser refuses that would escape the root or confuse a shell or git.
    fn hostile() -> Vec<String> {
        [
            "..",
            ".",
            "../etc/passwd",
            "a/../b",
            "a/./b",
            "a/..",
            "../../../../root/.ssh",
            ".hidden",
            "a/.ssh",
            "/etc/passwd",
            "~/x",
            "~root/x",
            "a\\..\\b",
            "-rf",
            ".git",
            "x.git/hooks",
            "a\0b",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    #[test]
    fn parse_accepts_valid_names_unchanged() {
        let exactly_255 = format!("{}/{}", "a".repeat(3), "b".repeat(MAX_LAST_SEGMENT_BYTES));
        let last_segment_251 = "c".repeat(MAX_LAST_SEGMENT_BYTES);
        let valid = [
            "a",
            "0",
            "_",
            "widgets",
            "acme/widgets",
            "Acme/Widgets",
            "a/b/c/d",
            "a.b",
            "a..b",
            "a.",
            "a-",
            "a_b",
            "a-b",
            "_x/_y",
            "git",
            "x/git",
            "x.gi",
            "x.gitx",
            "x.git2",
            "x.git_",
            "gitx.g",
            "v1.0.2",
            exactly_255.as_str(),
            last_segment_251.as_str(),
        ];
        assert_eq!(exactly_255.len(), MAX_BYTES);
        for input in valid {
            let name = RepoName::parse(input)
                .unwrap_or_else(|e| panic!("{input:?} should be valid, got {e}"));
            assert_eq!(name.as_str(), input);
            assert_eq!(name.to_string(), input);
        }
    }

    #[test]
    fn parse_refuses_invalid_and_hostile_names() {
        let too_long = "a".repeat(MAX_BYTES + 1);
        let too_long_in_segments = format!("{}/b", "a/".repeat(128));
        let last_segment_252 = "c".repeat(MAX_LAST_SEGMENT_BYTES + 1);
        let nested_last_segment_252 = format!("a/{last_segment_252}");
        let last_too_long = Error::LastSegmentTooLong {
            max: MAX_LAST_SEGMENT_BYTES,
        };
        let invalid: Vec<(&str, Error)> = vec![
            ("", Error::Empty),
            (&too_long, Error::TooLong { max: MAX_BYTES }),
            (&too_long_in_segments, Error::TooLong { max: MAX_BYTES }),
            (&last_segment_252, last_too_long.clone()),
            (&nested_last_segment_252, last_too_long),
            ("/", Error::EmptySegment),
            ("/a", Error::EmptySegment),
            ("a/", Error::EmptySegment),
            ("a//b", Error::EmptySegment),
            ("//", Error::EmptySegment),
            ("..", bad_start("..")),
            (".", bad_start(".")),
            ("../etc/passwd", bad_start("..")),
            ("a/../b", bad_start("..")),
            ("a/./b", bad_start(".")),
            ("a/..", bad_start("..")),
            (".hidden", bad_start(".hidden")),
            ("a/.ssh", bad_start(".ssh")),
            ("-rf", bad_start("-rf")),
            ("a/--upload-pack", bad_start("--upload-pack")),
            (".git", bad_start(".git")),
            ("x.git", git_suffix("x.git")),
            ("x.git/y", git_suffix("x.git")),
            ("X.GIT/y", git_suffix("X.GIT")),
            ("a.GIT/b", git_suffix("a.GIT")),
            ("x.Git", git_suffix("x.Git")),
            ("a/b.gIt", git_suffix("b.gIt")),
            ("a\nb", bad_byte(b'\n')),
            ("a\n", bad_byte(b'\n')),
            ("a\r", bad_byte(b'\r')),
            ("a\tb", bad_byte(b'\t')),
            ("a\0b", bad_byte(0)),
            ("a\x7f", bad_byte(0x7f)),
            ("ä", bad_byte(0xc3)),
            ("acme/wïdgets", bad_byte(0xc3)),
            ("a b", bad_byte(b' ')),
            (" a", bad_byte(b' ')),
            ("a ", bad_byte(b' ')),
            ("~/x", bad_byte(b'~')),
            ("a\\b", bad_byte(b'\\')),
            ("a:b", bad_byte(b':')),
            ("a@b", bad_byte(b'@')),
            ("a*", bad_byte(b'*')),
            ("a%2fb", bad_byte(b'%')),
            ("'x'", bad_byte(b'\'')),
            ("\"x\"", bad_byte(b'"')),
            ("$(id)", bad_byte(b'$')),
            ("`id`", bad_byte(b'`')),
            ("a;b", bad_byte(b';')),
            ("a|b", bad_byte(b'|')),
            // Bytes are checked before segments, so the first bad byte wins.
            ("../a b", bad_byte(b' ')),
        ];
        for (input, expected) in invalid {
            assert_eq!(RepoName::parse(input), Err(expected), "input {input:?}");
        }
    }

    #[test]
    fn bad_byte_message_shows_the_byte_escaped_on_one_line() {
        let valid = [
            (b'\n', "character '\\n' is not allowed"),
            (0, "character '\\x00' is not allowed"),
            (0xc3, "character '\\xc3' is not allowed"),
            (b' ', "character ' ' is not allowed"),
        ];
        for (byte, expected) in valid {
            let message = Error::BadByte { byte }.to_string();
            assert!(message.starts_with(expected), "{message}");
            assert!(message.bytes().all(|b| (0x20..=0x7e).contains(&b)));
        }
    }

    #[test]
    fn from_request_strips_one_of_each_client_decoration() {
        let valid = [
            ("acme/widgets", "acme/widgets"),
            ("/acme/widgets", "acme/widgets"),
            ("/acme/widgets.git", "acme/widgets"),
            ("acme/widgets.git", "acme/widgets"),
            ("acme/widgets/", "acme/widgets"),
            ("acme/widgets.git/", "acme/widgets"),
            ("~/acme/widgets.git/", "acme/widgets"),
            ("~/acme/widgets", "acme/widgets"),
            ("/x.git/", "x"),
            ("x.gitx", "x.gitx"),
            ("Acme/Widgets", "Acme/Widgets"),
        ];
        for (input, expected) in valid {
            let name = RepoName::from_request(input)
                .unwrap_or_else(|e| panic!("{input:?} should be valid, got {e}"));
            assert_eq!(name.as_str(), expected, "input {input:?}");
        }
    }

    #[test]
    fn from_request_strips_nothing_twice() {
        let invalid = [
            ("", Error::Empty),
            ("/", Error::Empty),
            ("~/", Error::Empty),
            (".git", Error::Empty),
            ("/.git/", Error::Empty),
            ("//x", Error::EmptySegment),
            ("~//x", Error::EmptySegment),
            ("/~/x", bad_byte(b'~')),
            ("~/~/x", bad_byte(b'~')),
            ("~", bad_byte(b'~')),
            ("~x", bad_byte(b'~')),
            ("x//", Error::EmptySegment),
            ("x.git//", git_suffix("x.git")),
            ("x/.git", Error::EmptySegment),
            ("x.git.git", git_suffix("x.git")),
            ("x.GIT", git_suffix("x.GIT")),
            ("x.git/y.git", git_suffix("x.git")),
            ("/../etc", bad_start("..")),
            ("~/.ssh", bad_start(".ssh")),
            ("/a\n", bad_byte(b'\n')),
        ];
        for (input, expected) in invalid {
            assert_eq!(
                RepoName::from_request(input),
                Err(expected),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn from_admin_tolerates_git_suffix_but_refuses_paths() {
        let valid = [
            ("acme/widgets", "acme/widgets"),
            ("acme/widgets.git", "acme/widgets"),
            ("x.gitx", "x.gitx"),
        ];
        for (input, expected) in valid {
            let name = RepoName::from_admin(input)
                .unwrap_or_else(|e| panic!("{input:?} should be valid, got {e}"));
            assert_eq!(name.as_str(), expected, "input {input:?}");
        }

        let invalid = [
            ("/acme/widgets", Error::PathPrefix { prefix: "/" }),
            ("//acme/widgets", Error::PathPrefix { prefix: "/" }),
            ("~/acme/widgets", Error::PathPrefix { prefix: "~/" }),
            ("acme/widgets/", Error::TrailingSlash),
            ("acme/widgets.git/", Error::TrailingSlash),
            ("", Error::Empty),
            (".git", Error::Empty),
            ("x.git.git", git_suffix("x.git")),
            ("x.GIT", git_suffix("x.GIT")),
            ("~x", bad_byte(b'~')),
            ("a//b", Error::EmptySegment),
            ("../x", bad_start("..")),
        ];
        for (input, expected) in invalid {
            assert_eq!(
                RepoName::from_admin(input),
                Err(expected),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn from_admin_says_why_a_path_is_refused() {
        let message = RepoName::from_admin("/srv/git/x").map(|_| ()).unwrap_err();
        assert_eq!(
            message.to_string(),
            "repository name may not start with '/'; give it relative to the repositories root, like 'acme/widgets'"
        );
    }

    #[test]
    fn folded_lowercases_ascii_letters_only() {
        let valid = [
            ("acme/widgets", "acme/widgets"),
            ("Acme/Widgets", "acme/widgets"),
            ("ACME/WIDGETS-2_x.y", "acme/widgets-2_x.y"),
        ];
        for (input, expected) in valid {
            let name = RepoName::parse(input).unwrap();
            assert_eq!(name.folded(), expected);
            assert_eq!(name.as_str(), input, "folding leaves the name alone");
        }
        let upper = RepoName::parse("Acme/Widgets").unwrap();
        let lower = RepoName::parse("acme/widgets").unwrap();
        assert_ne!(upper, lower);
        assert_eq!(upper.folded(), lower.folded());
    }

    #[test]
    fn to_path_appends_git_under_root() {
        let root = Path::new("/srv/forge/repos");
        let valid = [
            ("x", "/srv/forge/repos/x.git"),
            ("acme/widgets", "/srv/forge/repos/acme/widgets.git"),
            ("a/b/c", "/srv/forge/repos/a/b/c.git"),
        ];
        for (input, expected) in valid {
            let name = RepoName::parse(input).unwrap();
            assert_eq!(name.to_path(root), PathBuf::from(expected));
        }
    }

    /// Asserts that a name's directory is strictly inside root, one component per segment.
    fn assert_under_root(name: &RepoName, root: &Path) {
        let path = name.to_path(root);
        let rest = path.strip_prefix(root).expect("path stays under root");
        assert!(
            rest.components().all(|c| matches!(c, Component::Normal(_))),
            "{path:?} has a non-normal component"
        );
        assert_eq!(rest.components().count(), name.as_str().split('/').count());
    }

    #[test]
    fn to_path_never_leaves_root() {
        let root = Path::new("/srv/forge/repos");
        for input in hostile() {
            assert!(
                RepoName::parse(&input).is_err(),
                "{input:?} must be refused"
            );
            // The normalizing constructors may make a harmless name out of some of these
            // (`/etc/passwd` is `etc/passwd`), but never one outside the root.
            let normalized = [RepoName::from_request(&input), RepoName::from_admin(&input)];
            for name in normalized.iter().flatten() {
                assert_under_root(name, root);
            }
        }
        let valid = ["x", "a/b", "a..b/c.", "A/b-_/c", "x.gitx/y"];
        for input in valid {
            assert_under_root(&RepoName::parse(input).unwrap(), root);
        }
    }

    #[test]
    fn serde_round_trips_as_a_plain_string() {
        let name = RepoName::parse("acme/widgets").unwrap();
        let json = serde_json::to_string(&name).unwrap();
        assert_eq!(json, r#""acme/widgets""#);
        let back: RepoName = serde_json::from_str(&json).unwrap();
        assert_eq!(back, name);
    }

    #[test]
    fn deserialize_refuses_invalid_names() {
        let invalid = [
            r#""""#,
            r#""../etc""#,
            r#""a/""#,
            r#""x.git""#,
            r#""/a""#,
            "17",
        ];
        for input in invalid {
            assert!(
                serde_json::from_str::<RepoName>(input).is_err(),
                "{input} must be refused"
            );
        }
    }
}
