//! The words of a policy, as gitolite spells them: permissions, what an operation needs,
//! refexes, who a rule is for and which repositories it covers.

use crate::exit::{Classify, Code};
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a word of a policy is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Not one of gitolite's permissions.
    #[error("'{given}' is not a permission; use -, C, R, RW, RW+, RWC, RWD, RW+CD (M may follow)")]
    BadPerm {
        /// The text given.
        given: String,
    },
    /// Not one of R, W, +, C, D, M, ^C (or their words).
    #[error(
        "'{given}' is not an operation; use R, W, +, C, D, M or ^C (read, write, force, create, delete)"
    )]
    BadNeed {
        /// The text given.
        given: String,
    },
    /// A refex or repository pattern that does not compile.
    #[error("'{given}' is not a valid regular expression: {reason}")]
    BadRegex {
        /// The text given.
        given: String,
        /// What the regex engine said.
        reason: String,
    },
    /// A refex with characters gitolite refuses.
    #[error("'{given}' is not a valid ref pattern")]
    BadRefex {
        /// The text given.
        given: String,
    },
    /// A subject (user list entry) that is neither a user name nor an @name.
    #[error("'{given}' is neither a user nor an @group")]
    BadSubject {
        /// The text given.
        given: String,
    },
    /// A repository spec that is neither a name, a pattern nor an @group.
    #[error("'{given}' is neither a repository name, a pattern nor an @group")]
    BadRepoSpec {
        /// The text given.
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

/// A permission: `-` (deny), `C` (create repositories), `R`, or `RW` with `+`, `C`, `D`, `M`.
///
/// Checks follow gitolite exactly: an operation is granted when the permission text matches the
/// operation's pattern ([`Need::pattern_matches`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Perm(String);

impl Perm {
    /// Returns the permission in `text`, which must match
    /// `-|C|R|RW\+?(C?D?|D?C?)M?`, gitolite's own rule.
    pub fn parse(text: &str) -> Result<Perm, Error> {
        let bad = || Error::BadPerm {
            given: shorten(text),
        };
        match text {
            "-" | "C" | "R" => return Ok(Perm(text.to_owned())),
            _ => {}
        }
        let rest = text.strip_prefix("RW").ok_or_else(bad)?;
        let rest = rest.strip_prefix('+').unwrap_or(rest);
        let rest = rest.strip_suffix('M').unwrap_or(rest);
        if matches!(rest, "" | "C" | "D" | "CD" | "DC") {
            Ok(Perm(text.to_owned()))
        } else {
            Err(bad())
        }
    }

    /// Returns whether this is a deny rule (`-`).
    pub fn is_deny(&self) -> bool {
        self.0 == "-"
    }

    /// Returns the permission as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Returns whether a rule with this permission turns on "create needs C" for its
    /// repositories (gitolite's `CREATE_IS_C`): it is `RW` followed by a `C`.
    pub fn implies_create_is_c(&self) -> bool {
        self.0.starts_with("RW") && self.0[2..].contains('C')
    }

    /// Returns whether it turns on "delete needs D" (`DELETE_IS_D`).
    pub fn implies_delete_is_d(&self) -> bool {
        self.0.contains('D')
    }

    /// Returns whether it turns on merge checks (`MERGE_CHECK`).
    pub fn implies_merge_check(&self) -> bool {
        self.0.contains('M')
    }
}

impl fmt::Display for Perm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Perm {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Perm::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The operation a check is about: gitolite's `aa`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `R`: clone and fetch.
    Read,
    /// `W`: push a fast-forward (or, by default, create a ref).
    Write,
    /// `+`: rewind history (force push), or by default delete a ref or move a tag.
    Rewind,
    /// `C`: create a ref, when the repository's rules make creation need `C`.
    CreateRef,
    /// `D`: delete a ref, when the repository's rules make deletion need `D`.
    DeleteRef,
    /// `M`: push merge commits, when the repository's rules check merges.
    Merge,
    /// `^C`: create the repository itself from a pattern.
    CreateRepo,
}

/// What a check needs: an operation, and whether the pushed commits hold merges that the
/// repository's rules check (gitolite appends `M`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Need {
    /// The operation.
    pub op: Op,
    /// Whether merge commits are part of it.
    pub merge: bool,
}

impl Need {
    /// Returns the need of `op` without merges.
    pub const fn of(op: Op) -> Need {
        Need { op, merge: false }
    }

    /// Returns the need written as gitolite writes it (`R`, `W`, `+`, `C`, `D`, `M`, `^C`), or as
    /// a word (`read`, `write`, `force`, `create`, `delete`).
    pub fn parse(text: &str) -> Result<Need, Error> {
        let op = match text {
            "R" | "read" => Op::Read,
            "W" | "write" => Op::Write,
            "+" | "force" | "rewind" => Op::Rewind,
            "C" | "create" => Op::CreateRef,
            "D" | "delete" => Op::DeleteRef,
            "M" | "merge" => Op::Merge,
            "^C" | "create-repo" => Op::CreateRepo,
            _ => {
                return Err(Error::BadNeed {
                    given: shorten(text),
                });
            }
        };
        Ok(Need::of(op))
    }

    /// Returns whether a rule with `perm` grants this need; `perm` is not a deny rule.
    ///
    /// gitolite matches an unanchored regex against the permission text: `R` → `/R/`,
    /// `W` → `/W/`, `+` → `/\+/`, `C` → `/RW.*C/`, `D` → `/D/`, `M` → `/.*M/`, `^C` → `/^C/`,
    /// and a merge need appends `.*M`. Permissions are ordered `RW+CDM`, so "contains" is
    /// exact here.
    pub fn is_granted_by(self, perm: &Perm) -> bool {
        let text = perm.as_str();
        let base = match self.op {
            Op::Read => text.contains('R'),
            Op::Write => text.contains('W'),
            Op::Rewind => text.contains('+'),
            Op::CreateRef => perm.implies_create_is_c(),
            Op::DeleteRef => text.contains('D'),
            Op::Merge => text.contains('M'),
            Op::CreateRepo => text.starts_with('C'),
        };
        base && (!self.merge || text.contains('M'))
    }

    /// Returns what the need lets someone do, in words.
    pub fn describe(self) -> &'static str {
        match (self.op, self.merge) {
            (Op::Read, _) => "read",
            (Op::Write, false) => "push",
            (Op::Rewind, false) => "rewind (force-push), delete a branch or move a tag",
            (Op::CreateRef, false) => "create a ref",
            (Op::DeleteRef, false) => "delete a ref",
            (Op::Merge, _) | (_, true) => "push merge commits",
            (Op::CreateRepo, _) => "create this repository",
        }
    }

    /// Returns the need as gitolite prints it: `R`, `W`, `+`, `C`, `D`, `M`, `^C`, with `M`
    /// appended for merges.
    pub fn as_gitolite(self) -> String {
        let op = match self.op {
            Op::Read => "R",
            Op::Write => "W",
            Op::Rewind => "+",
            Op::CreateRef => "C",
            Op::DeleteRef => "D",
            Op::Merge => "M",
            Op::CreateRepo => "^C",
        };
        if self.merge && self.op != Op::Merge {
            format!("{op}M")
        } else {
            op.to_owned()
        }
    }
}

impl fmt::Display for Need {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_gitolite())
    }
}

/// A ref pattern: a regex matched at the start of a full ref name (or of `VREF/NAME/<path>`).
///
/// Written as gitolite writes it: empty means `refs/.*`; anything not starting with `refs/` or
/// `VREF/` gets `refs/heads/` in front; `NAME/...` means `VREF/NAME/...`. There is no `$` at the
/// end, so `main` also matches `main2`; write `main$` for exactly `main`. `/USER/` stands for the
/// asking user's name.
#[derive(Debug, Clone)]
pub struct Refex {
    text: String,
    regex: Option<Regex>,
}

/// The characters gitolite allows in a refex (its `REPOPATT_PATT` without the leading `@`).
fn is_refex_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-._@/+\\^$|()[]*?{},".contains(&byte)
}

impl Refex {
    /// Returns the refex that matches every ref.
    pub fn all() -> Refex {
        Refex::parse("").expect("refs/.* is a valid refex")
    }

    /// Returns the refex written as `text`, normalized as gitolite normalizes it.
    pub fn parse(text: &str) -> Result<Refex, Error> {
        let full = if text.is_empty() {
            "refs/.*".to_owned()
        } else if text.starts_with("refs/") || text.starts_with("VREF/") {
            text.to_owned()
        } else if let Some(path) = text.strip_prefix("NAME/") {
            format!("VREF/NAME/{path}")
        } else {
            format!("refs/heads/{text}")
        };
        if full.len() > 1024 || !full.bytes().all(is_refex_byte) {
            return Err(Error::BadRefex {
                given: shorten(text),
            });
        }
        let regex = if full.contains("/USER/") {
            None
        } else {
            Some(compile_prefix(&full)?)
        };
        Ok(Refex { text: full, regex })
    }

    /// Returns the refex as normalized text (`refs/heads/main`, `refs/.*`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Returns whether this is a virtual ref (`VREF/...`) rather than a real one.
    pub fn is_vref(&self) -> bool {
        self.text.starts_with("VREF/")
    }

    /// Returns whether this refex names `namespace` (`refs/replace/`, say): its text begins with
    /// it, literally. The blanket `refs/.*` (an empty refex) names no namespace.
    pub fn names(&self, namespace: &str) -> bool {
        self.text.starts_with(namespace)
    }

    /// Returns whether `reference` starts with a match of this refex, with `/USER/` standing for
    /// `user`.
    pub fn matches(&self, reference: &str, user: &str) -> bool {
        match &self.regex {
            Some(regex) => regex.is_match(reference),
            None => compile_prefix(&self.text.replacen("/USER/", &format!("/{user}/"), 1))
                .map(|regex| regex.is_match(reference))
                .unwrap_or(false),
        }
    }
}

impl PartialEq for Refex {
    fn eq(&self, other: &Refex) -> bool {
        self.text == other.text
    }
}

impl Eq for Refex {}

/// Compiles a refex as gitolite applies it, `/^$refex/`: the `^` binds only to the first
/// alternative of a top-level `|`, exactly as in Perl.
fn compile_prefix(text: &str) -> Result<Regex, Error> {
    super::regex_cache::compile(&format!("^{text}")).map_err(|e| Error::BadRegex {
        given: shorten(text),
        reason: e.to_string().lines().last().unwrap_or("").trim().to_owned(),
    })
}

/// Who a rule is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    /// One user.
    User(String),
    /// A group of users (`@devs`), or a role of a wild repository (`@READERS`, `@WRITERS`),
    /// or `@CREATOR`.
    Group(String),
    /// Everyone (`@all`).
    All,
}

impl Subject {
    /// Returns the subject written as `text`: a user name, `@all`, or `@name`.
    ///
    /// gitolite's rule: `^@?[0-9a-zA-Z][-0-9a-zA-Z._@+]*$`. `CREATOR`, `READERS` and `WRITERS`
    /// written without `@` in a rule are sugar for the `@` forms; [`Subject::parse_in_rule`]
    /// applies it.
    pub fn parse(text: &str) -> Result<Subject, Error> {
        let name = text.strip_prefix('@').unwrap_or(text);
        let valid = name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._@+".contains(&b))
            && name.len() <= 128;
        if !valid {
            return Err(Error::BadSubject {
                given: shorten(text),
            });
        }
        Ok(match text {
            "@all" => Subject::All,
            _ if text.starts_with('@') => Subject::Group(text.to_owned()),
            _ => Subject::User(text.to_owned()),
        })
    }

    /// Returns the subject as written in a rule's user list, where the words `CREATOR` and the
    /// role names in `roles` mean `@CREATOR` and `@<role>`.
    pub fn parse_in_rule(text: &str, roles: &[&str]) -> Result<Subject, Error> {
        if text == "CREATOR" || roles.contains(&text) {
            return Ok(Subject::Group(format!("@{text}")));
        }
        Subject::parse(text)
    }

    /// Returns the subject as text.
    pub fn as_str(&self) -> &str {
        match self {
            Subject::User(name) | Subject::Group(name) => name,
            Subject::All => "@all",
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which repositories a rule or option covers.
#[derive(Debug, Clone)]
pub enum RepoSpec {
    /// One repository, by name.
    Name(String),
    /// Every repository whose whole name matches a regex (gitolite's wild repos); `CREATOR`
    /// in it stands for the repository's creator.
    Pattern {
        /// The pattern as written.
        text: String,
        /// It, anchored at both ends.
        regex: Regex,
    },
    /// A group of repositories (`@team`).
    Group(String),
    /// Every repository (`@all`).
    All,
}

/// The bytes that make a repository name a pattern, as gitolite decides it.
const PATTERN_BYTES: &[u8] = b"\\^$|()[]*?{},";

impl RepoSpec {
    /// Returns the spec written as `text`: `@all`, `@group`, a pattern (a name holding one of
    /// `\ ^ $ | ( ) [ ] * ? { } ,`), or a plain name.
    pub fn parse(text: &str) -> Result<RepoSpec, Error> {
        let bad = || Error::BadRepoSpec {
            given: shorten(text),
        };
        let body = text.strip_prefix('@').unwrap_or(text);
        let valid =
            body.bytes().next().is_some_and(|b| {
                b.is_ascii_alphanumeric() || (b == b'[' && !text.starts_with('@'))
            }) && body.bytes().all(|b| {
                b.is_ascii_alphanumeric() || b"-._@/+".contains(&b) || PATTERN_BYTES.contains(&b)
            }) && !body.ends_with('/')
                && body.len() <= 1024;
        let is_pattern = text.bytes().any(|b| PATTERN_BYTES.contains(&b));
        // As gitolite: '..' and '.git/' are refused in names, not in patterns ('..*').
        let valid = valid && (is_pattern || !(body.contains("..") || body.contains(".git/")));
        if !valid {
            return Err(bad());
        }
        if text == "@all" {
            return Ok(RepoSpec::All);
        }
        if text.starts_with('@') {
            return Ok(RepoSpec::Group(text.to_owned()));
        }
        if is_pattern {
            let regex =
                super::regex_cache::compile(&format!("^{text}$")).map_err(|e| Error::BadRegex {
                    given: shorten(text),
                    reason: e.to_string().lines().last().unwrap_or("").trim().to_owned(),
                })?;
            return Ok(RepoSpec::Pattern {
                text: text.to_owned(),
                regex,
            });
        }
        Ok(RepoSpec::Name(text.to_owned()))
    }

    /// Returns the spec as written.
    pub fn as_str(&self) -> &str {
        match self {
            RepoSpec::Name(text) | RepoSpec::Group(text) => text,
            RepoSpec::Pattern { text, .. } => text,
            RepoSpec::All => "@all",
        }
    }

    /// Returns whether the spec is a pattern.
    pub fn is_pattern(&self) -> bool {
        matches!(self, RepoSpec::Pattern { .. })
    }
}

impl PartialEq for RepoSpec {
    fn eq(&self, other: &RepoSpec) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for RepoSpec {}

impl fmt::Display for RepoSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a rule came from, so `--explain` can say.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Source(pub String);

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One rule: for `who` on `repo`, `perm` on refs matching `refex`. Rules are tried in `seq`
/// order and the first that matches decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The rule's place in the order.
    pub seq: i64,
    /// The repositories it covers.
    pub repo: RepoSpec,
    /// Who it is for.
    pub who: Subject,
    /// What it allows, or `-` for deny.
    pub perm: Perm,
    /// The refs it is about.
    pub refex: Refex,
    /// Where it came from.
    pub source: Source,
}

/// A repository option (`deny-rules`, `CREATE_IS_C`, ...): the last one set wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoOption {
    /// Its place in the order.
    pub seq: i64,
    /// The repositories it covers.
    pub repo: RepoSpec,
    /// The option's name.
    pub name: String,
    /// Its value.
    pub value: String,
    /// Where it came from.
    pub source: Source,
}

impl Classify for Error {
    /// Every error here is input that cannot be used (rules): refused, nothing changed.
    fn code(&self) -> Code {
        Code::Refused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_are_gitoliets_exactly() {
        let valid = [
            "-", "C", "R", "RW", "RW+", "RWC", "RWD", "RWCD", "RWDC", "RW+C", "RW+D", "RW+CD",
            "RW+DC", "RWM", "RW+M", "RWCDM", "RW+DCM",
        ];
        for text in valid {
            assert!(Perm::parse(text).is_ok(), "{text}");
        }
        for text in [
            "", "W", "RWX", "RWMC", "rw", "RW++", "R W", "-R", "CR", "RWCC",
        ] {
            assert!(Perm::parse(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn needs_match_permissions_as_gitolites_regexes_do() {
        let rows = [
            ("R", "R", true),
            ("R", "RW+", true),
            ("R", "C", false),
            ("W", "R", false),
            ("W", "RW", true),
            ("+", "RW", false),
            ("+", "RW+D", true),
            ("C", "RWC", true),
            ("C", "RW+C", true),
            ("C", "RW+", false),
            ("C", "C", false),
            ("D", "RWD", true),
            ("D", "RW+", false),
            ("^C", "C", true),
            ("^C", "RWC", false),
            ("M", "RWM", true),
            ("M", "RW", false),
        ];
        for (need, perm, granted) in rows {
            let need = Need::parse(need).unwrap();
            assert_eq!(
                need.is_granted_by(&Perm::parse(perm).unwrap()),
                granted,
                "{need} by {perm}"
            );
        }
        let write_with_merges = Need {
            op: Op::Write,
            merge: true,
        };
        assert!(write_with_merges.is_granted_by(&Perm::parse("RW+M").unwrap()));
        assert!(!write_with_merges.is_granted_by(&Perm::parse("RW+").unwrap()));
        assert_eq!(write_with_merges.as_gitolite(), "WM");
    }

    #[test]
    fn refexes_are_normalized_and_match_as_prefixes() {
        let rows = [
            ("", "refs/.*"),
            ("master", "refs/heads/master"),
            ("refs/tags/v[0-9]", "refs/tags/v[0-9]"),
            ("NAME/docs/", "VREF/NAME/docs/"),
            ("VREF/NAME/x", "VREF/NAME/x"),
        ];
        for (given, normal) in rows {
            assert_eq!(Refex::parse(given).unwrap().as_str(), normal);
        }
        let master = Refex::parse("master").unwrap();
        assert!(master.matches("refs/heads/master", "u"));
        assert!(
            master.matches("refs/heads/master2", "u"),
            "no $ means prefix"
        );
        assert!(
            !Refex::parse("master$")
                .unwrap()
                .matches("refs/heads/master2", "u")
        );
        let alternatives = Refex::parse("refs/heads/a|refs/tags/").unwrap();
        assert!(
            alternatives.matches("refs/heads/x/refs/tags/y", "u"),
            "as in gitolite, '^' anchors only the first alternative"
        );
        let personal = Refex::parse("refs/heads/personal/USER/").unwrap();
        assert!(personal.matches("refs/heads/personal/joe/x", "joe"));
        assert!(!personal.matches("refs/heads/personal/bob/x", "joe"));
        for bad in ["ma;ster", "a b", "x\n", "(unclosed"] {
            assert!(Refex::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn only_a_refex_spelling_a_namespace_out_names_it() {
        for (refex, named) in [
            ("refs/replace/", true),
            ("refs/replace/[0-9a-f]+$", true),
            ("", false),
            ("refs/.*", false),
            ("refs/(replace|notes)/", false),
            ("refs/replace.*", false),
            ("refs/notes/", false),
        ] {
            let refex = Refex::parse(refex).unwrap();
            assert_eq!(refex.names("refs/replace/"), named, "{}", refex.as_str());
        }
    }

    #[test]
    fn repo_specs_tell_names_from_patterns_as_gitolite_does() {
        assert!(matches!(RepoSpec::parse("foo").unwrap(), RepoSpec::Name(_)));
        assert!(
            matches!(RepoSpec::parse("ab.+").unwrap(), RepoSpec::Name(_)),
            "'.' and '+' are plain"
        );
        assert!(RepoSpec::parse("cd.*").unwrap().is_pattern());
        assert!(RepoSpec::parse("pub/CREATOR/..*").unwrap().is_pattern());
        let RepoSpec::Pattern { regex, .. } = RepoSpec::parse("a|b").unwrap() else {
            panic!("a|b is a pattern")
        };
        assert!(
            regex.is_match("ax") && regex.is_match("xb") && !regex.is_match("xa"),
            "^a|b$ as in gitolite"
        );
        assert!(matches!(
            RepoSpec::parse("@team").unwrap(),
            RepoSpec::Group(_)
        ));
        assert!(matches!(RepoSpec::parse("@all").unwrap(), RepoSpec::All));
        for bad in ["", "foo/", "a/../b", "foo;bar", "-x", "a b"] {
            assert!(RepoSpec::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn subjects_follow_gitolites_user_names_and_role_sugar() {
        assert_eq!(
            Subject::parse("alice").unwrap(),
            Subject::User("alice".into())
        );
        assert_eq!(Subject::parse("@all").unwrap(), Subject::All);
        assert_eq!(
            Subject::parse_in_rule("CREATOR", &["READERS", "WRITERS"]).unwrap(),
            Subject::Group("@CREATOR".into())
        );
        assert_eq!(
            Subject::parse_in_rule("READERS", &["READERS", "WRITERS"]).unwrap(),
            Subject::Group("@READERS".into())
        );
        for bad in ["", "bad*user", "-u", "@", "a b"] {
            assert!(Subject::parse(bad).is_err(), "{bad:?}");
        }
    }
}
