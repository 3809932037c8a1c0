//! The command an SSH client asked forge to run: `SSH_ORIGINAL_COMMAND`, parsed as bytes into
//! an [`SshCommand`].
//!
//! The parser accepts the few exact shapes git clients send and forge's own user commands, and
//! refuses everything else. It never runs a shell, so shell syntax is simply not understood:
//! anything that is not one of the accepted shapes is an error.

use crate::exit::{Classify, Code};
use crate::policy::Access;
use crate::types::repo_name::{self, RepoName};
use crate::wire::RoleChange;

/// The longest command accepted, in bytes.
pub const MAX_COMMAND_BYTES: usize = 1024;

/// The longest verb quoted back in an error, in bytes.
const MAX_VERB_BYTES: usize = 40;

/// What forge runs, for error messages.
const COMMANDS: &str =
    "git-upload-pack, git-receive-pack, git-upload-archive, info, whoami and help";

/// An error from parsing an SSH command.
///
/// Messages go to a remote git user after `forge: `, so they hold no paths, and any part of
/// the command they quote is printable ASCII and short.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The command is longer than [`MAX_COMMAND_BYTES`].
    #[error("the command is longer than {max} bytes")]
    TooLong {
        /// The limit, [`MAX_COMMAND_BYTES`].
        max: usize,
    },
    /// The command holds a byte that is not printable ASCII.
    #[error(
        "the command has byte 0x{byte:02x} at position {position}; only printable ASCII is allowed"
    )]
    BadByte {
        /// The byte's offset from the start of the command.
        position: usize,
        /// The first byte that is not printable ASCII.
        byte: u8,
    },
    /// The command is the empty string.
    #[error("no command given; forge runs {COMMANDS}")]
    Empty,
    /// The command starts or ends with a space, or has two in a row.
    #[error("the command has an empty word (leading, trailing or double space)")]
    EmptyToken,
    /// The command is not one forge runs.
    #[error("'{verb}' is not a command forge runs; it runs {COMMANDS}")]
    NotACommand {
        /// The verb asked for, printable ASCII and truncated.
        verb: String,
    },
    /// A known command got the wrong number of arguments.
    #[error("'{verb}' takes {expected}")]
    WrongArgumentCount {
        /// The command, as the client spelled it.
        verb: String,
        /// What it takes: "no arguments" or "exactly one repository path".
        expected: &'static str,
    },
    /// The repository path is quoted in a way forge does not accept.
    #[error("the repository path may only be quoted as 'name'")]
    BadQuoting,
    /// The repository path does not make a valid repository name.
    #[error("invalid repository name: {0}")]
    BadRepoName(#[from] repo_name::Error),
}

/// What a command with no arguments takes, for [`Error::WrongArgumentCount`].
const NO_ARGUMENTS: &str = "no arguments";

/// What a git service takes, for [`Error::WrongArgumentCount`].
const ONE_REPO_PATH: &str = "exactly one repository path";

/// A git transport service a client may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GitService {
    /// Fetch and clone: `git-upload-pack`.
    UploadPack,
    /// Push: `git-receive-pack`.
    ReceivePack,
    /// `git archive --remote`: `git-upload-archive`.
    UploadArchive,
}

impl GitService {
    /// Returns the program that serves this service, such as `git-upload-pack`.
    ///
    /// This is the name forge executes, whichever spelling the client used.
    pub fn program(self) -> &'static str {
        match self {
            GitService::UploadPack => "git-upload-pack",
            GitService::ReceivePack => "git-receive-pack",
            GitService::UploadArchive => "git-upload-archive",
        }
    }

    /// Returns the access a caller needs on the repository to use this service.
    ///
    /// Fetching and archiving read; pushing writes. Finer checks on the refs pushed happen
    /// later, in the pre-receive hook.
    pub fn required_access(self) -> Access {
        match self {
            GitService::UploadPack | GitService::UploadArchive => Access::Read,
            GitService::ReceivePack => Access::Write,
        }
    }

    /// Returns the service whose program is `git-<subcommand>`.
    fn from_subcommand(subcommand: &str) -> Option<GitService> {
        match subcommand {
            "upload-pack" => Some(GitService::UploadPack),
            "receive-pack" => Some(GitService::ReceivePack),
            "upload-archive" => Some(GitService::UploadArchive),
            _ => None,
        }
    }
}

/// One of forge's own commands, run as `ssh git@host <command>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserCommand {
    /// Lists the repositories the key can reach.
    Info,
    /// Shows which user and key forge sees.
    Whoami,
    /// Shows what forge runs.
    Help,
}

impl UserCommand {
    /// Returns the command's name, as typed: `info`, `whoami` or `help`.
    pub fn name(self) -> &'static str {
        match self {
            UserCommand::Info => "info",
            UserCommand::Whoami => "whoami",
            UserCommand::Help => "help",
        }
    }

    /// Returns the command with this name.
    fn from_name(name: &str) -> Option<UserCommand> {
        match name {
            "info" => Some(UserCommand::Info),
            "whoami" => Some(UserCommand::Whoami),
            "help" => Some(UserCommand::Help),
            _ => None,
        }
    }
}

/// A command forge agreed to run for an SSH client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SshCommand {
    /// A git service on one repository.
    Git {
        /// The service asked for.
        service: GitService,
        /// The repository, normalized by [`RepoName::from_request`].
        repo: RepoName,
    },
    /// One of forge's own commands.
    User(UserCommand),
    /// `create <repo>`: create a repository from a pattern the user may create in.
    Create {
        /// The repository to create.
        repo: RepoName,
    },
    /// `perms <repo> -l`, `perms <repo> + <ROLE> <member>`, `perms <repo> - <ROLE> <member>`:
    /// the creator of a repository lists or changes who has which role on it.
    Perms {
        /// The repository.
        repo: RepoName,
        /// What to do.
        change: RoleChange,
    },
}

/// Returns the role and member words of `perms`, checked: a role is 1 to 32 capital letters;
/// a member is a user or `@group` name.
fn role_and_member(role: &str, member: &str) -> Result<(String, String), Error> {
    let role_ok =
        !role.is_empty() && role.len() <= 32 && role.bytes().all(|b| b.is_ascii_uppercase());
    let body = member.strip_prefix('@').unwrap_or(member);
    let member_ok = body
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric())
        && body.len() <= 64
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if role_ok && member_ok {
        Ok((role.to_owned(), member.to_owned()))
    } else {
        Err(Error::WrongArgumentCount {
            verb: "perms".to_owned(),
            expected: PERMS_USAGE,
        })
    }
}

/// The arguments `perms` takes.
const PERMS_USAGE: &str = "a repository and -l, or + or -, a ROLE and a user";

/// What the verb of a command names, before its arguments are checked.
enum Verb {
    Git(GitService),
    User(UserCommand),
}

impl SshCommand {
    /// Parses `SSH_ORIGINAL_COMMAND`, taken as bytes, into the command forge will run.
    ///
    /// The rules, checked in this order:
    ///
    /// 1. More than [`MAX_COMMAND_BYTES`] bytes rejects before anything else. Any byte
    ///    outside printable ASCII (0x20..=0x7e) rejects: control bytes, tab, newline, CR,
    ///    DEL, NUL, non-ASCII. An empty command rejects.
    /// 2. Tokens are split on single spaces; an empty token (leading, trailing or double
    ///    space) rejects.
    /// 3. The verb is `git-upload-pack`, `git-receive-pack` or `git-upload-archive`, or the
    ///    two-token form `git upload-pack`, `git receive-pack` or `git upload-archive`, each
    ///    followed by exactly one path token; or one of the user commands `info`, `whoami`
    ///    and `help`, with no arguments. Everything else (scp, sftp, rsync, a shell,
    ///    `env X=...`, options, extra arguments) rejects, naming the verb.
    /// 4. The path token has one of three forms only: `'<text>'` (git's quoting; the text
    ///    holds no `'`), a bare word of `[A-Za-z0-9._/~-]`, or `~/'<text>'` (JGit's form).
    ///    Double quotes, backslashes, `'\''` escapes, a quote in the middle and any other
    ///    concatenation (`'a'b`, `a'b'`) reject.
    /// 5. The unquoted text becomes a [`RepoName`] through [`RepoName::from_request`], which
    ///    strips one leading `~/` or else one leading `/`, one trailing `/` and one trailing
    ///    `.git`. For `~/'<text>'` the `~/` is kept in front of the text.
    /// 6. The name then follows [`RepoName::parse`]'s rules.
    pub fn parse(command: &[u8]) -> Result<SshCommand, Error> {
        if command.len() > MAX_COMMAND_BYTES {
            return Err(Error::TooLong {
                max: MAX_COMMAND_BYTES,
            });
        }
        if let Some(position) = command.iter().position(|&b| !is_printable(b)) {
            return Err(Error::BadByte {
                position,
                byte: command[position],
            });
        }
        if command.is_empty() {
            return Err(Error::Empty);
        }
        // Every byte is printable ASCII now, so each is exactly one char.
        let text: String = command.iter().map(|&b| char::from(b)).collect();
        let tokens: Vec<&str> = text.split(' ').collect();
        if tokens.iter().any(|token| token.is_empty()) {
            return Err(Error::EmptyToken);
        }

        match tokens.as_slice() {
            ["create", path] => {
                return Ok(SshCommand::Create {
                    repo: RepoName::from_request(&unquote(path)?)?,
                });
            }
            ["create", ..] => {
                return Err(Error::WrongArgumentCount {
                    verb: "create".to_owned(),
                    expected: ONE_REPO_PATH,
                });
            }
            ["perms", path, rest @ ..] => {
                let change = match rest {
                    ["-l"] => RoleChange::List,
                    ["+", role, member] => {
                        let (role, member) = role_and_member(role, member)?;
                        RoleChange::Add { role, member }
                    }
                    ["-", role, member] => {
                        let (role, member) = role_and_member(role, member)?;
                        RoleChange::Remove { role, member }
                    }
                    _ => {
                        return Err(Error::WrongArgumentCount {
                            verb: "perms".to_owned(),
                            expected: PERMS_USAGE,
                        });
                    }
                };
                return Ok(SshCommand::Perms {
                    repo: RepoName::from_request(&unquote(path)?)?,
                    change,
                });
            }
            ["perms"] => {
                return Err(Error::WrongArgumentCount {
                    verb: "perms".to_owned(),
                    expected: PERMS_USAGE,
                });
            }
            _ => {}
        }
        let (verb, named, args) = match tokens.as_slice() {
            ["git", subcommand, args @ ..] => {
                let verb = format!("git {subcommand}");
                match GitService::from_subcommand(subcommand) {
                    Some(service) => (verb, Verb::Git(service), args),
                    None => return Err(not_a_command(&verb)),
                }
            }
            [first, args @ ..] => {
                let named = match first.strip_prefix("git-") {
                    Some(subcommand) => GitService::from_subcommand(subcommand).map(Verb::Git),
                    None => UserCommand::from_name(first).map(Verb::User),
                };
                match named {
                    Some(named) => (first.to_string(), named, args),
                    None => return Err(not_a_command(first)),
                }
            }
            // `split` always yields at least one token.
            [] => return Err(Error::Empty),
        };

        match (named, args) {
            (Verb::User(command), []) => Ok(SshCommand::User(command)),
            (Verb::User(_), _) => Err(Error::WrongArgumentCount {
                verb,
                expected: NO_ARGUMENTS,
            }),
            (Verb::Git(service), [path]) => Ok(SshCommand::Git {
                service,
                repo: RepoName::from_request(&unquote(path)?)?,
            }),
            (Verb::Git(_), _) => Err(Error::WrongArgumentCount {
                verb,
                expected: ONE_REPO_PATH,
            }),
        }
    }
}

/// Says whether a byte is printable ASCII, space included.
fn is_printable(byte: u8) -> bool {
    (0x20..=0x7e).contains(&byte)
}

/// Says whether a byte may appear in an unquoted path token.
fn is_bare_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'/' | b'~' | b'-')
}

/// Builds the error for an unknown verb, quoting it safely.
fn not_a_command(verb: &str) -> Error {
    Error::NotACommand {
        verb: sanitize_verb(verb),
    }
}

/// Returns the verb with anything unprintable replaced and the length capped.
///
/// The parser only sees printable bytes by now; this keeps the error safe to show even so.
fn sanitize_verb(verb: &str) -> String {
    let mut shown: String = verb
        .bytes()
        .take(MAX_VERB_BYTES)
        .map(|b| if is_printable(b) { char::from(b) } else { '?' })
        .collect();
    if verb.len() > MAX_VERB_BYTES {
        shown.push_str("...");
    }
    shown
}

/// Returns the text of a path token in one of the three accepted forms.
fn unquote(token: &str) -> Result<String, Error> {
    if let Some(quoted) = token
        .strip_prefix("~/")
        .filter(|rest| rest.starts_with('\''))
    {
        return Ok(format!("~/{}", single_quoted(quoted)?));
    }
    if token.starts_with('\'') {
        return single_quoted(token).map(str::to_owned);
    }
    if token.bytes().all(is_bare_byte) {
        return Ok(token.to_owned());
    }
    Err(Error::BadQuoting)
}

/// Returns the text inside `'<text>'`, where the text holds no `'`.
fn single_quoted(token: &str) -> Result<&str, Error> {
    token
        .strip_prefix('\'')
        .and_then(|rest| rest.strip_suffix('\''))
        .filter(|text| !text.contains('\''))
        .ok_or(Error::BadQuoting)
}

impl Classify for Error {
    /// Every error here is input that cannot be used (SSH commands): refused, nothing changed.
    fn code(&self) -> Code {
        Code::Refused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_and_perms_take_a_repository_and_checked_words() {
        let repo = || RepoName::parse("pub/alice/x").unwrap();
        assert_eq!(
            SshCommand::parse(b"create pub/alice/x"),
            Ok(SshCommand::Create { repo: repo() })
        );
        assert_eq!(
            SshCommand::parse(b"perms 'pub/alice/x' -l"),
            Ok(SshCommand::Perms {
                repo: repo(),
                change: RoleChange::List
            })
        );
        assert_eq!(
            SshCommand::parse(b"perms pub/alice/x + READERS bob"),
            Ok(SshCommand::Perms {
                repo: repo(),
                change: RoleChange::Add {
                    role: "READERS".into(),
                    member: "bob".into()
                }
            })
        );
        assert_eq!(
            SshCommand::parse(b"perms pub/alice/x - WRITERS @devs"),
            Ok(SshCommand::Perms {
                repo: repo(),
                change: RoleChange::Remove {
                    role: "WRITERS".into(),
                    member: "@devs".into()
                }
            })
        );
        for bad in [
            &b"create"[..],
            b"create a b",
            b"create ../x",
            b"perms x",
            b"perms x + readers bob",
            b"perms x + READERS b;c",
            b"perms x * READERS bob",
            b"perms x -l extra",
        ] {
            assert!(
                SshCommand::parse(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    fn git(service: GitService, name: &str) -> SshCommand {
        SshCommand::Git {
            service,
            repo: RepoName::parse(name).unwrap(),
        }
    }

    fn wrong_count(verb: &str, expected: &'static str) -> Error {
        Error::WrongArgumentCount {
            verb: verb.to_owned(),
            expected,
        }
    }

    fn not_a_command(verb: &str) -> Error {
        Error::NotACommand {
            verb: verb.to_owned(),
        }
    }

    fn bad_byte(position: usize, byte: u8) -> Error {
        Error::BadByte { position, byte }
    }

    fn bad_name(error: repo_name::Error) -> Error {
        Error::BadRepoName(error)
    }

    fn bad_start(segment: &str) -> Error {
        bad_name(repo_name::Error::BadSegmentStart {
            segment: segment.to_owned(),
        })
    }

    fn is_one_printable_line(message: &str) -> bool {
        message.bytes().all(is_printable)
    }

    #[test]
    fn parse_accepts_git_and_user_commands() {
        use GitService::*;
        let valid: &[(&[u8], SshCommand)] = &[
            (b"git-upload-pack 'acme/w.git'", git(UploadPack, "acme/w")),
            (
                b"git-receive-pack '/acme/w.git'",
                git(ReceivePack, "acme/w"),
            ),
            (b"git-upload-archive 'x'", git(UploadArchive, "x")),
            (b"git upload-pack 'x'", git(UploadPack, "x")),
            (b"git receive-pack 'acme/w'", git(ReceivePack, "acme/w")),
            (b"git upload-archive 'x.git'", git(UploadArchive, "x")),
            (b"git-upload-pack acme/w.git", git(UploadPack, "acme/w")),
            (b"git-upload-pack /acme/w", git(UploadPack, "acme/w")),
            (b"git-upload-pack ~/acme/w", git(UploadPack, "acme/w")),
            (b"git-upload-pack ~/'x'", git(UploadPack, "x")),
            (b"git-upload-pack '~/x'", git(UploadPack, "x")),
            (
                b"git-receive-pack ~/'acme/w.git/'",
                git(ReceivePack, "acme/w"),
            ),
            (b"git-upload-pack 'acme/w.git/'", git(UploadPack, "acme/w")),
            (
                b"git-upload-pack 'Acme/W-1_2.x'",
                git(UploadPack, "Acme/W-1_2.x"),
            ),
            (b"info", SshCommand::User(UserCommand::Info)),
            (b"whoami", SshCommand::User(UserCommand::Whoami)),
            (b"help", SshCommand::User(UserCommand::Help)),
        ];
        for (input, expected) in valid {
            let shown = String::from_utf8_lossy(input);
            let parsed = SshCommand::parse(input)
                .unwrap_or_else(|e| panic!("{shown:?} should be valid, got {e}"));
            assert_eq!(&parsed, expected, "input {shown:?}");
        }
    }

    #[test]
    fn parse_refuses_hostile_and_malformed_commands() {
        let too_long = vec![b'\n'; MAX_COMMAND_BYTES + 1];
        let mut exactly_max = b"git-upload-pack '".to_vec();
        exactly_max.resize(MAX_COMMAND_BYTES - 1, b'a');
        exactly_max.push(b'\'');
        assert_eq!(exactly_max.len(), MAX_COMMAND_BYTES);
        let upload = "git-upload-pack";

        let invalid: Vec<(&[u8], Error)> = vec![
            // Rule 1: size and bytes.
            (
                &too_long,
                Error::TooLong {
                    max: MAX_COMMAND_BYTES,
                },
            ),
            (
                &exactly_max,
                bad_name(repo_name::Error::TooLong {
                    max: repo_name::MAX_BYTES,
                }),
            ),
            (b"", Error::Empty),
            (b"git-upload-pack\t'x'", bad_byte(15, b'\t')),
            (b"git-upload-pack 'x'\n", bad_byte(19, b'\n')),
            (b"git-upload-pack 'x'\nid", bad_byte(19, b'\n')),
            (b"git-upload-pack 'x'\r", bad_byte(19, b'\r')),
            (b"git-upload-pack 'x\0'", bad_byte(18, 0)),
            (b"git-upload-pack 'x\x7f'", bad_byte(18, 0x7f)),
            (b"git-upload-pack 'x\x80'", bad_byte(18, 0x80)),
            (b"git-upload-pack 'x\xff'", bad_byte(18, 0xff)),
            (b"git-upload-pack '\xc3\xa4'", bad_byte(17, 0xc3)),
            (b"\x1b[2Jinfo", bad_byte(0, 0x1b)),
            // Rule 2: empty tokens.
            (b" ", Error::EmptyToken),
            (b"git-upload-pack 'x' ", Error::EmptyToken),
            (b"git-upload-pack  'x'", Error::EmptyToken),
            (b" git-upload-pack 'x'", Error::EmptyToken),
            (b"info ", Error::EmptyToken),
            // Rule 3: verbs and argument counts.
            (b"scp -t /", not_a_command("scp")),
            (b"scp -f acme/w.git", not_a_command("scp")),
            (b"sftp", not_a_command("sftp")),
            (b"internal-sftp", not_a_command("internal-sftp")),
            (
                b"/usr/lib/openssh/sftp-server",
                not_a_command("/usr/lib/openssh/sftp-server"),
            ),
            (
                b"rsync --server -vlogDtpre.iLsfxC . /",
                not_a_command("rsync"),
            ),
            (b"bash", not_a_command("bash")),
            (b"sh -c id", not_a_command("sh")),
            (b"ls", not_a_command("ls")),
            (b"env GIT_DIR=x git-upload-pack 'x'", not_a_command("env")),
            (
                b"git-shell -c 'git-upload-pack x'",
                not_a_command("git-shell"),
            ),
            (b"git-upload-packx 'x'", not_a_command("git-upload-packx")),
            (b"git-status", not_a_command("git-status")),
            (b"git-", not_a_command("git-")),
            (b"INFO", not_a_command("INFO")),
            (b"'info'", not_a_command("'info'")),
            (b"'git-upload-pack' 'x'", not_a_command("'git-upload-pack'")),
            (b"git", not_a_command("git")),
            (b"git status", not_a_command("git status")),
            (
                b"git -c core.sshCommand=id upload-pack 'x'",
                not_a_command("git -c"),
            ),
            (
                b"git git-upload-pack 'x'",
                not_a_command("git git-upload-pack"),
            ),
            (b"git-upload-pack", wrong_count(upload, ONE_REPO_PATH)),
            (
                b"git-upload-pack 'a' 'b'",
                wrong_count(upload, ONE_REPO_PATH),
            ),
            (
                b"git-upload-pack --help x",
                wrong_count(upload, ONE_REPO_PATH),
            ),
            (
                b"git-upload-pack --upload-pack=x 'y'",
                wrong_count(upload, ONE_REPO_PATH),
            ),
            (
                b"git-upload-pack 'x'; rm -rf /",
                wrong_count(upload, ONE_REPO_PATH),
            ),
            (
                b"git-upload-pack 'x' && id",
                wrong_count(upload, ONE_REPO_PATH),
            ),
            (
                b"git-upload-pack 'x' | id",
                wrong_count(upload, ONE_REPO_PATH),
            ),
            (
                b"git-upload-pack 'x' > /tmp/y",
                wrong_count(upload, ONE_REPO_PATH),
            ),
            (
                b"git-upload-pack 'my repo'",
                wrong_count(upload, ONE_REPO_PATH),
            ),
            (
                b"git receive-pack",
                wrong_count("git receive-pack", ONE_REPO_PATH),
            ),
            (
                b"git upload-pack 'a' 'b'",
                wrong_count("git upload-pack", ONE_REPO_PATH),
            ),
            (b"info x", wrong_count("info", NO_ARGUMENTS)),
            (b"help me", wrong_count("help", NO_ARGUMENTS)),
            (b"whoami --all", wrong_count("whoami", NO_ARGUMENTS)),
            // Rule 4: quoting.
            (b"git-upload-pack 'x';", Error::BadQuoting),
            (b"git-upload-pack 'x'&&id", Error::BadQuoting),
            (b"git-upload-pack `id`", Error::BadQuoting),
            (b"git-upload-pack $(id)", Error::BadQuoting),
            (b"git-upload-pack x|id", Error::BadQuoting),
            (b"git-upload-pack 'x'|id", Error::BadQuoting),
            (b"git-upload-pack 'x'>y", Error::BadQuoting),
            (b"git-upload-pack >x", Error::BadQuoting),
            (b"git-upload-pack \"x\"", Error::BadQuoting),
            (b"git-upload-pack 'x'\\''y'", Error::BadQuoting),
            (b"git-upload-pack x\\", Error::BadQuoting),
            (b"git-upload-pack x\\y", Error::BadQuoting),
            (b"git-upload-pack 'a'b", Error::BadQuoting),
            (b"git-upload-pack a'b'", Error::BadQuoting),
            (b"git-upload-pack 'a''b'", Error::BadQuoting),
            (b"git-upload-pack a'b", Error::BadQuoting),
            (b"git-upload-pack 'a", Error::BadQuoting),
            (b"git-upload-pack a'", Error::BadQuoting),
            (b"git-upload-pack '", Error::BadQuoting),
            (b"git-upload-pack ~/\"x\"", Error::BadQuoting),
            (b"git-upload-pack ~/'x", Error::BadQuoting),
            (b"git-upload-pack ~/x'", Error::BadQuoting),
            (b"git-upload-pack ~'x'", Error::BadQuoting),
            (b"git-upload-pack /'x'", Error::BadQuoting),
            (b"git-upload-pack x*", Error::BadQuoting),
            (b"git-upload-pack x:y", Error::BadQuoting),
            // Rules 5 and 6: the name.
            (b"git-upload-pack ''", bad_name(repo_name::Error::Empty)),
            (b"git-upload-pack '/'", bad_name(repo_name::Error::Empty)),
            (b"git-upload-pack '../etc'", bad_start("..")),
            (b"git-upload-pack ../etc", bad_start("..")),
            (b"git-upload-pack 'a/../b'", bad_start("..")),
            (b"git-upload-pack '.ssh'", bad_start(".ssh")),
            (b"git-upload-pack ~/.ssh", bad_start(".ssh")),
            (b"git-upload-pack '-x'", bad_start("-x")),
            (b"git-upload-pack --help", bad_start("--help")),
            (
                b"git-upload-pack '//x'",
                bad_name(repo_name::Error::EmptySegment),
            ),
            (
                b"git-upload-pack ~/'/x'",
                bad_name(repo_name::Error::EmptySegment),
            ),
            (
                b"git-upload-pack ~/'~/x'",
                bad_name(repo_name::Error::BadByte { byte: b'~' }),
            ),
            (
                b"git-upload-pack '$(id)'",
                bad_name(repo_name::Error::BadByte { byte: b'$' }),
            ),
            (
                b"git-upload-pack '`id`'",
                bad_name(repo_name::Error::BadByte { byte: b'`' }),
            ),
            (
                b"git-upload-pack 'a\"b'",
                bad_name(repo_name::Error::BadByte { byte: b'"' }),
            ),
            (
                b"git-upload-pack 'a\\b'",
                bad_name(repo_name::Error::BadByte { byte: b'\\' }),
            ),
            (
                b"git-upload-pack 'a;b'",
                bad_name(repo_name::Error::BadByte { byte: b';' }),
            ),
            (
                b"git-upload-pack 'x.git.git'",
                bad_name(repo_name::Error::GitSuffixSegment {
                    segment: "x.git".to_owned(),
                }),
            ),
            (
                b"git-upload-pack 'x.GIT/hooks'",
                bad_name(repo_name::Error::GitSuffixSegment {
                    segment: "x.GIT".to_owned(),
                }),
            ),
        ];
        for (input, expected) in invalid {
            let shown = String::from_utf8_lossy(input);
            let error = SshCommand::parse(input).map(|_| ()).unwrap_err();
            assert!(
                is_one_printable_line(&error.to_string()),
                "{shown:?} gives a message that is not one printable line: {error}"
            );
            assert_eq!(error, expected, "input {shown:?}");
        }
    }

    #[test]
    fn hostile_verb_is_quoted_short_and_on_one_line() {
        let long = "x".repeat(MAX_COMMAND_BYTES - 4);
        let valid = [
            (
                format!("{long} 'y'"),
                format!("'{}...' is not a command", "x".repeat(MAX_VERB_BYTES)),
            ),
            (
                "rm${IFS}-rf${IFS}/".to_owned(),
                "'rm${IFS}-rf${IFS}/' is not a command".to_owned(),
            ),
        ];
        for (input, expected) in valid {
            let message = SshCommand::parse(input.as_bytes())
                .map(|_| ())
                .unwrap_err()
                .to_string();
            assert!(message.starts_with(&expected), "{message}");
            assert!(is_one_printable_line(&message), "{message:?}");
            assert!(message.len() < 200, "{message}");
        }
    }

    #[test]
    fn sanitize_verb_replaces_unprintable_bytes() {
        let valid = [
            ("ls", "ls"),
            ("a\nb\x1b[0m", "a?b?[0m"),
            ("ä", "??"),
            ("", ""),
        ];
        for (input, expected) in valid {
            assert_eq!(sanitize_verb(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn error_messages_read_as_documented() {
        let valid = [
            (
                not_a_command("ls"),
                format!("'ls' is not a command forge runs; it runs {COMMANDS}"),
            ),
            (
                wrong_count("info", NO_ARGUMENTS),
                "'info' takes no arguments".to_owned(),
            ),
            (
                wrong_count("git-upload-pack", ONE_REPO_PATH),
                "'git-upload-pack' takes exactly one repository path".to_owned(),
            ),
            (
                Error::BadQuoting,
                "the repository path may only be quoted as 'name'".to_owned(),
            ),
            (
                bad_start(".."),
                "invalid repository name: segment '..' may not start with '.' or '-'".to_owned(),
            ),
            (
                bad_byte(3, b'\n'),
                "the command has byte 0x0a at position 3; only printable ASCII is allowed"
                    .to_owned(),
            ),
        ];
        for (error, expected) in valid {
            assert_eq!(error.to_string(), expected);
        }
    }

    #[test]
    fn services_name_their_program_and_required_access() {
        let valid = [
            (
                GitService::UploadPack,
                "git-upload-pack",
                Access::Read,
                "upload-pack",
            ),
            (
                GitService::ReceivePack,
                "git-receive-pack",
                Access::Write,
                "receive-pack",
            ),
            (
                GitService::UploadArchive,
                "git-upload-archive",
                Access::Read,
                "upload-archive",
            ),
        ];
        for (service, program, access, json) in valid {
            assert_eq!(service.program(), program);
            assert_eq!(service.required_access(), access);
            assert_eq!(
                serde_json::to_string(&service).unwrap(),
                format!("\"{json}\"")
            );
            let back: GitService = serde_json::from_str(&format!("\"{json}\"")).unwrap();
            assert_eq!(back, service);
            let parsed = SshCommand::parse(format!("{program} x").as_bytes()).unwrap();
            assert_eq!(parsed, git(service, "x"));
        }
    }

    #[test]
    fn user_commands_round_trip_by_name() {
        let valid = [UserCommand::Info, UserCommand::Whoami, UserCommand::Help];
        for command in valid {
            let name = command.name();
            assert_eq!(
                SshCommand::parse(name.as_bytes()),
                Ok(SshCommand::User(command))
            );
            assert_eq!(
                serde_json::to_string(&command).unwrap(),
                format!("\"{name}\"")
            );
        }
    }
}
