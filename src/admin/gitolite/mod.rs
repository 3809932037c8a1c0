//! Reading a gitolite 3.6.12 installation: its `gitolite.conf` and its keydir.
//!
//! [`parse_file`] runs gitolite's own compile pipeline (`explode` for `include` lines, the
//! syntactic sugar passes, then `parse`) over a conf file and returns a [`Conf`]: a plain
//! model of the groups, rules and options gitolite would have compiled, in gitolite's order
//! and with gitolite's sequence numbers, plus its warnings and the features forge does not
//! implement. What gitolite refuses to compile is an [`Error`] naming the file and line.
//! [`keydir`] reads the users' public keys.
//!
//! The model decides nothing: the policy engine turns it into forge's rules. How gitolite
//! decides with this data (`access()`, the update hook) is written up in the gitolite
//! semantics notes of issue 4.

mod compile;
mod explode;
mod glob;
pub mod import;
pub mod keydir;
mod names;
mod sugar;

use crate::exit::{Classify, Code};
use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

pub use names::is_pattern;

/// The roles gitolite's default rc defines (`ROLES => { READERS => 1, WRITERS => 1 }`).
pub const DEFAULT_ROLES: [&str; 2] = ["READERS", "WRITERS"];

/// The `option` names forge knows how to carry over; any other is listed as unsupported.
pub const KNOWN_OPTIONS: [&str; 4] = ["deny-rules", "CREATE_IS_C", "DELETE_IS_D", "MERGE_CHECK"];

/// Where a line of configuration came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Source {
    /// The conf file: the path given to [`parse_file`], or an included file (its glob joined
    /// to the folder of the main conf file, as gitolite resolves it).
    pub file: PathBuf,
    /// The line number in that file, from 1.
    pub line: u32,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// What the parse needs to know from gitolite's rc file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The role names (`$rc{ROLES}`): a rule's user word equal to one of them (or to
    /// `CREATOR`) means the role, written `@ROLE` in [`Rule::user`].
    pub roles: BTreeSet<String>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            roles: DEFAULT_ROLES.iter().map(|r| r.to_string()).collect(),
        }
    }
}

/// A gitolite.conf, compiled as gitolite 3.6.12 compiles it.
///
/// Names keep gitolite's spelling: groups and roles start with `@`; `@all` is everyone (as a
/// user) or every repository (as a repo).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Conf {
    /// Groups of users, in the order they were first defined (then undefined ones in the order
    /// they were first named).
    ///
    /// gitolite has one kind of group, used for users, repos and refs alike. This lists every
    /// group named in a rule's user list, and every defined group that is named neither on a
    /// `repo` line nor in a rule's ref list (gl-perms files may name it). A group named in a
    /// rule but never defined is here with no members. Members are user names or `@all`
    /// (kept literally: a group holding `@all` does not hold every user).
    pub user_groups: Vec<Group>,
    /// Groups of repositories: every group named on a `repo` line, in the same order.
    ///
    /// Members are plain names or patterns (see [`is_pattern`]); a pattern member is matched
    /// against a repository name as `^pattern$`.
    pub repo_groups: Vec<Group>,
    /// The access rules, in sequence order: one per (ref x user) of a rule line and per
    /// repository of the `repo` line above it.
    ///
    /// Every rule gitolite would compile is here, including those whose feature is listed in
    /// [`Conf::unsupported`] (VREFs other than `VREF/NAME`).
    pub rules: Vec<Rule>,
    /// The `option` lines (and `config gitolite-options.*` lines), in sequence order, one per
    /// repository of the `repo` line above them, including those `RW..C`, `..D` and `..M` rules
    /// turn on.
    pub options: Vec<RepoOption>,
    /// The plain repositories gitolite would create: the plain names that carry a rule or an
    /// option, and the plain members of groups that carry a rule. Sorted.
    pub repos: Vec<String>,
    /// gitolite's warnings (and forge's own, see [`WarningKind`]), in the order they arose.
    pub warnings: Vec<Warning>,
    /// What gitolite does with this conf that forge will not do, in the order found.
    pub unsupported: Vec<Unsupported>,
}

impl Conf {
    /// Returns every plain user name the conf mentions: in rules and as members of
    /// [`Conf::user_groups`].
    pub fn user_names(&self) -> BTreeSet<&str> {
        let in_rules = self.rules.iter().map(|rule| rule.user.as_str());
        let in_groups = self
            .user_groups
            .iter()
            .flat_map(|group| group.members.iter().map(String::as_str));
        in_rules
            .chain(in_groups)
            .filter(|name| !name.starts_with('@'))
            .collect()
    }
}

/// A group: `@name = member member ...`, possibly over several lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The group name, with its `@`.
    pub name: String,
    /// The members once the whole conf is read. A group named on the right of another group's
    /// definition was expanded to its members of that moment (gitolite's snapshot rule).
    pub members: BTreeSet<String>,
    /// Where the group was first defined; `None` if it never was.
    pub source: Option<Source>,
}

/// One access rule: `perm refex = user` for one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// gitolite's sequence number: rules apply in this order, across all repo lines.
    pub seq: u32,
    /// A plain repository name, a pattern, a `@group` or `@all`.
    pub repo: String,
    /// A user name, a `@group`, `@all`, `@CREATOR` or a role (`@READERS`, `@WRITERS`, ...).
    pub user: String,
    /// One of `-`, `C`, `R`, or `RW` followed by optional `+`, `C`/`D`/`CD`/`DC` and `M`.
    pub perm: String,
    /// The ref regex, matched as `^refex` (a prefix): `refs/...` or `VREF/...`; a bare name
    /// on the conf line got `refs/heads/` in front, an empty ref list became `refs/.*`.
    pub refex: String,
    /// The rule line.
    pub source: Source,
}

/// One `option NAME = VALUE` for one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoOption {
    /// gitolite's sequence number; for the same option on one repository the latest wins.
    pub seq: u32,
    /// A plain repository name, a pattern, a `@group` or `@all`.
    pub repo: String,
    /// The option name, without gitolite's `gitolite-options.` prefix (`deny-rules`).
    pub name: String,
    /// The value, without one pair of surrounding quotes.
    pub value: String,
    /// The option line, or the rule line that turned it on.
    pub source: Source,
}

/// A warning from reading the conf: the conf still compiles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The line that caused it.
    pub source: Source,
    /// What is wrong.
    pub kind: WarningKind,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.kind)
    }
}

/// The warnings; the messages are gitolite's, except where marked as forge's own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WarningKind {
    /// A line of no known form; gitolite ignores it (a bad perm such as `W` or `RWMC`, an
    /// empty user list, an empty group).
    #[error("syntax error, ignoring: '{line}'")]
    SyntaxError {
        /// The line after gitolite's clean-up and sugar.
        line: String,
    },
    /// An `R` rule with a ref.
    #[error("doesn't make sense to supply a ref ('{refex}') for 'R' rule")]
    RefOnReadRule {
        /// The refex.
        refex: String,
    },
    /// A rule names a group not defined (yet).
    #[error("possible undeclared group '{group}'")]
    UndeclaredGroup {
        /// The group, with its `@`.
        group: String,
    },
    /// A repo name ended in `.git`, which was dropped.
    #[error("explicit '.git' extension ignored for {repo}.git")]
    GitExtension {
        /// The name without `.git`.
        repo: String,
    },
    /// An `include` names a file that does not exist.
    #[error("included file not found: '{file}'")]
    IncludeNotFound {
        /// The name as the glob gave it.
        file: String,
    },
    /// An `include` names a file already read.
    #[error("{file} already included")]
    AlreadyIncluded {
        /// The name as the glob gave it.
        file: String,
    },
    /// forge's own: rules before any `repo` line, which gitolite drops silently.
    #[error("rule before any 'repo' line ignored")]
    RuleOutsideRepo,
    /// forge's own: a line that is not UTF-8; the bad bytes were replaced.
    #[error("line is not valid UTF-8")]
    NotUtf8,
}

/// Something gitolite would do with the conf that forge does not implement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// What it is.
    pub what: Feature,
    /// Where it is.
    pub source: Source,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.what)
    }
}

/// The gitolite features forge does not implement, as they appear in a conf.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Feature {
    /// A `subconf` (delegated conf fragment); its file was not read.
    #[error("subconf '{name}' ({file}) is not supported; its rules were not read")]
    Subconf {
        /// The subconf name.
        name: String,
        /// The fragment file as the glob gave it (empty for a bare `subconf NAME` line).
        file: String,
    },
    /// A `config` line, or `desc`/`owner`/`category` (which become gitweb config); gitolite's
    /// default rc refuses them too.
    #[error("git config '{key}' is not supported")]
    Config {
        /// The config key (`gitweb.description` for `desc`).
        key: String,
    },
    /// An `option` outside [`KNOWN_OPTIONS`].
    #[error("option '{name}' is not supported")]
    Option {
        /// The option name.
        name: String,
    },
    /// A VREF other than `VREF/NAME/...`.
    #[error("'{refex}' is not supported: forge implements only VREF/NAME")]
    Vref {
        /// The refex.
        refex: String,
    },
}

/// What gitolite refuses to compile (its `FATAL` cases), and what forge cannot read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A group's right-hand side names a group not defined before it.
    #[error("{at}: undefined group '{group}'")]
    UndefinedGroup {
        /// The line.
        at: Source,
        /// The group.
        group: String,
    },
    /// A group name that is not a valid name.
    #[error("{at}: bad group '{group}'")]
    BadGroup {
        /// The line.
        at: Source,
        /// The group.
        group: String,
    },
    /// A group member that is neither a name nor a pattern.
    #[error("{at}: bad expansion '{member}'")]
    BadExpansion {
        /// The line.
        at: Source,
        /// The member.
        member: String,
    },
    /// A user that is not a valid gitolite user name.
    #[error("{at}: bad username '{user}'")]
    BadUser {
        /// The line.
        at: Source,
        /// The user.
        user: String,
    },
    /// A repo name that is neither a name nor a pattern.
    #[error("{at}: bad reponame '{repo}'")]
    BadRepo {
        /// The line.
        at: Source,
        /// The repo.
        repo: String,
    },
    /// A plain repo gitolite would create is not a usable path (it ends in `/`, or holds
    /// `..` or `.git/`, or ends in `.git`).
    #[error("{at}: '{repo}' {problem}")]
    BadRepoPath {
        /// The line that names the repo.
        at: Source,
        /// The repo.
        repo: String,
        /// gitolite's words for the problem, such as "ends with a '/'".
        problem: &'static str,
    },
    /// A ref that is neither a name nor a pattern.
    #[error("{at}: bad ref '{refex}'")]
    BadRef {
        /// The line.
        at: Source,
        /// The full refex.
        refex: String,
    },
    /// An option value with a shell metacharacter.
    #[error("{at}: bad config value '{value}'")]
    BadConfigValue {
        /// The line.
        at: Source,
        /// The value.
        value: String,
    },
    /// An `include` or `subconf` whose file glob is not quoted.
    #[error("{at}: invalid include/subconf file/glob '{glob}'")]
    UnquotedInclude {
        /// The line.
        at: Source,
        /// The glob as written.
        glob: String,
    },
    /// An included file whose name does not end in `.conf`.
    #[error("{at}: invalid include/subconf filename '{file}'")]
    BadIncludeName {
        /// The line.
        at: Source,
        /// The file.
        file: String,
    },
    /// A subconf name outside `[-\w.]`.
    #[error("{at}: bad subconf '{name}'")]
    BadSubconf {
        /// The line.
        at: Source,
        /// The name.
        name: String,
    },
    /// A repo pattern that the `regex` crate cannot compile as `^pattern$`.
    #[error("{at}: repo pattern '{pattern}' is not a regex forge can use: {source}")]
    RepoRegex {
        /// The line.
        at: Source,
        /// The pattern.
        pattern: String,
        /// What the regex parser said.
        #[source]
        source: Box<regex::Error>,
    },
    /// A refex that the `regex` crate cannot compile as `^refex`.
    #[error("{at}: ref '{refex}' is not a regex forge can use: {source}")]
    RefRegex {
        /// The line.
        at: Source,
        /// The refex.
        refex: String,
        /// What the regex parser said.
        #[source]
        source: Box<regex::Error>,
    },
}

impl Error {
    /// Returns the conf line the error is about (`None` for a file that cannot be read).
    pub fn at(&self) -> Option<&Source> {
        match self {
            Error::Read { .. } => None,
            Error::UndefinedGroup { at, .. }
            | Error::BadGroup { at, .. }
            | Error::BadExpansion { at, .. }
            | Error::BadUser { at, .. }
            | Error::BadRepo { at, .. }
            | Error::BadRepoPath { at, .. }
            | Error::BadRef { at, .. }
            | Error::BadConfigValue { at, .. }
            | Error::UnquotedInclude { at, .. }
            | Error::BadIncludeName { at, .. }
            | Error::BadSubconf { at, .. }
            | Error::RepoRegex { at, .. }
            | Error::RefRegex { at, .. } => Some(at),
        }
    }

    /// Returns whether gitolite itself refuses the conf for this reason (with the same words
    /// after `FATAL: `), rather than only forge.
    pub fn is_gitolite_fatal(&self) -> bool {
        !matches!(
            self,
            Error::Read { .. } | Error::RepoRegex { .. } | Error::RefRegex { .. }
        )
    }
}

/// Reads the gitolite.conf at `path` (with its includes) and compiles it as gitolite does.
///
/// `include` globs resolve against the folder of `path`, as gitolite resolves them against
/// `~/.gitolite/conf`.
pub fn parse_file(path: &Path, settings: &Settings) -> Result<Conf, Error> {
    let lines = explode::explode(path)?;
    compile::compile(lines, settings)
}

/// Compiles conf text as if it were the file `path` (which need not exist); includes resolve
/// against the folder of `path`.
pub fn parse_text(text: &str, path: &Path, settings: &Settings) -> Result<Conf, Error> {
    let lines = explode::explode_text(text.as_bytes(), path)?;
    compile::compile(lines, settings)
}

impl Classify for Error {
    /// Every error here is input that cannot be used (gitolite configurations): refused, nothing changed.
    fn code(&self) -> Code {
        Code::Refused
    }
}
