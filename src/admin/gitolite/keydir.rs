//! A gitolite keydir: users' public keys, one `.pub` file per key.
//!
//! gitolite's `post-compile/ssh-authkeys` decides, and [`read`] follows it:
//! - every regular file under the keydir whose name ends in `.pub` is a key, at any depth;
//!   folder names mean nothing (`keydir/laptops/alice.pub` is `alice`); symbolic links are
//!   skipped (`find -type f`); files are taken in sorted path order;
//! - the user is the file name less `(@[^.]+)?\.pub$`: `alice@laptop.pub` is `alice` (a key
//!   label after `@` without a dot), `alice@example.com.pub` is `alice@example.com`;
//! - a file must hold exactly one line, or gitolite warns and skips it; several keys per user
//!   take several files;
//! - a path outside `[-0-9a-zA-Z._@/+]`, or a file in which ssh-keygen finds no key (an empty
//!   one, say), is fatal to gitolite; a key that repeats an earlier one is only a warning.
//!
//! forge adds: the user must be a valid forge [`UserName`], and the key one that forge accepts
//! ([`PublicKey::parse_authorized`]). Problems are reported per file, as warnings (the file is
//! skipped, as gitolite skips it) or errors (gitolite would refuse it, or forge cannot take it:
//! an import fails on these unless told to go on without them).

use crate::exit::{Classify, Code};
use crate::types::keys::{self, PublicKey};
use crate::types::user_name::{self, UserName};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

/// One key from the keydir.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// Whose key it is.
    pub user: UserName,
    /// The key, validated.
    pub key: PublicKey,
    /// The `.pub` file.
    pub path: PathBuf,
}

/// A problem with one file of the keydir.
#[derive(Debug)]
pub struct Finding {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub issue: Issue,
}

/// What can be wrong with a keydir file.
#[derive(Debug, thiserror::Error)]
pub enum Issue {
    /// A file whose name does not end in `.pub` (a warning; gitolite ignores it silently).
    #[error("not a .pub file; ignored")]
    NotPub,
    /// A symbolic link (a warning; gitolite's `find -type f` skips it).
    #[error("symbolic link; ignored, as gitolite ignores it")]
    Symlink,
    /// A file or folder that cannot be read (a warning).
    #[error("cannot be read: {source}")]
    Unreadable {
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A `.pub` file with several lines (a warning; gitolite skips it).
    #[error("holds {lines} lines, not exactly 1; ignored, as gitolite ignores it")]
    NotOneLine {
        /// How many lines it holds.
        lines: usize,
    },
    /// An empty `.pub` file (an error; gitolite stops at it).
    #[error("is empty, which gitolite refuses")]
    Empty,
    /// The same key as an earlier file (a warning; sshd would use the first).
    #[error("repeats the key of {}; ignored", .first.display())]
    DuplicateKey {
        /// The earlier file.
        first: PathBuf,
    },
    /// A path with a character gitolite refuses (an error; gitolite stops at it).
    #[error("path has a character outside [-0-9a-zA-Z._@/+], which gitolite refuses")]
    BadPath,
    /// The user is not a valid forge user name (an error).
    #[error("user '{user}' cannot be a forge user: {source}")]
    BadUserName {
        /// The gitolite user name.
        user: String,
        /// Why forge refuses it.
        #[source]
        source: user_name::Error,
    },
    /// The key is not one forge accepts (an error).
    #[error("key refused: {source}")]
    BadKey {
        /// Why.
        #[source]
        source: keys::Error,
    },
}

impl Issue {
    /// Returns whether this problem stops an import that is not partial.
    pub fn is_error(&self) -> bool {
        matches!(
            self,
            Issue::BadPath | Issue::Empty | Issue::BadUserName { .. } | Issue::BadKey { .. }
        )
    }
}

/// What a keydir holds.
#[derive(Debug, Default)]
pub struct Keydir {
    /// The keys, in gitolite's order (sorted by path).
    pub keys: Vec<Key>,
    /// Files skipped with a warning.
    pub warnings: Vec<Finding>,
    /// Files that gitolite would refuse or forge cannot take.
    pub errors: Vec<Finding>,
}

/// Why a keydir cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The keydir itself cannot be listed.
    #[error("cannot read keydir {}: {source}", .path.display())]
    Read {
        /// The keydir.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Returns the gitolite user a key file name stands for: `alice@laptop.pub` is `alice`.
pub fn user_of(file_name: &str) -> Option<&str> {
    static SUFFIX: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"(@[^.]+)?\.pub$").expect("the key file regex is valid")
    });
    SUFFIX.find(file_name).map(|m| &file_name[..m.start()])
}

/// Reads every key under `dir`.
pub fn read(dir: &Path) -> Result<Keydir, Error> {
    std::fs::read_dir(dir).map_err(|source| Error::Read {
        path: dir.to_owned(),
        source,
    })?;
    let mut files = Vec::new();
    let mut keydir = Keydir::default();
    walk(dir, Path::new(""), &mut files, &mut keydir);
    files.sort();
    let mut seen: HashMap<crate::types::keys::Fingerprint, PathBuf> = HashMap::new();
    for relative in files {
        let path = dir.join(&relative);
        let mut finding = |issue: Issue| {
            let finding = Finding {
                path: path.clone(),
                issue,
            };
            if finding.issue.is_error() {
                keydir.errors.push(finding);
            } else {
                keydir.warnings.push(finding);
            }
        };
        let relative_text = relative.to_string_lossy();
        if !relative_text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._@/+".contains(&b))
        {
            finding(Issue::BadPath);
            continue;
        }
        let file_name = relative
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let user = user_of(&file_name).unwrap_or(&file_name).to_owned();
        let text = match std::fs::read(&path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(source) => {
                finding(Issue::Unreadable { source });
                continue;
            }
        };
        // gitolite has ssh-keygen fingerprint the file first, which fails (fatally) unless
        // some line holds a key; only then does it skip files of several lines.
        let lines = text.split_inclusive('\n').count();
        if lines == 0 {
            finding(Issue::Empty);
            continue;
        }
        if lines > 1 {
            match find_key_line(&text) {
                Ok(()) => finding(Issue::NotOneLine { lines }),
                Err(source) => finding(Issue::BadKey { source }),
            }
            continue;
        }
        let user = match UserName::parse(&user) {
            Ok(user) => user,
            Err(source) => {
                finding(Issue::BadUserName { user, source });
                continue;
            }
        };
        let key = match PublicKey::parse_authorized(&text) {
            Ok(key) => key,
            Err(source) => {
                finding(Issue::BadKey { source });
                continue;
            }
        };
        if let Some(first) = seen.get(&key.fingerprint()) {
            finding(Issue::DuplicateKey {
                first: first.clone(),
            });
            continue;
        }
        seen.insert(key.fingerprint(), path.clone());
        keydir.keys.push(Key { user, key, path });
    }
    Ok(keydir)
}

/// Returns `Ok` if some line of `text` is a key, or else why the first line is not.
fn find_key_line(text: &str) -> Result<(), keys::Error> {
    let mut first_error = None;
    for line in text.lines() {
        match PublicKey::parse_authorized(line) {
            Ok(_) => return Ok(()),
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    Err(first_error.unwrap_or(keys::Error::NoKey))
}

/// Collects the relative paths of the regular `.pub` files under `root/relative`, noting the
/// other entries.
fn walk(root: &Path, relative: &Path, files: &mut Vec<PathBuf>, keydir: &mut Keydir) {
    let dir = root.join(relative);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(source) => {
            keydir.warnings.push(Finding {
                path: dir,
                issue: Issue::Unreadable { source },
            });
            return;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(source) => {
                keydir.warnings.push(Finding {
                    path: dir.clone(),
                    issue: Issue::Unreadable { source },
                });
                continue;
            }
        };
        let child = relative.join(entry.file_name());
        let note = |issue| Finding {
            path: root.join(&child),
            issue,
        };
        match entry.file_type() {
            Ok(kind) if kind.is_symlink() => keydir.warnings.push(note(Issue::Symlink)),
            Ok(kind) if kind.is_dir() => walk(root, &child, files, keydir),
            Ok(kind) if kind.is_file() => {
                if entry.file_name().to_string_lossy().ends_with(".pub") {
                    files.push(child);
                } else {
                    keydir.warnings.push(note(Issue::NotPub));
                }
            }
            Ok(_) => keydir.warnings.push(note(Issue::NotPub)),
            Err(source) => keydir.warnings.push(note(Issue::Unreadable { source })),
        }
    }
}

impl Classify for Error {
    /// Every error here is input that cannot be used (gitolite keydirs): refused, nothing changed.
    fn code(&self) -> Code {
        Code::Refused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED1: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMAB20eQqQTljsWpn0CFP/ATBUJ3qR2mQNiN0iq6QFL4";
    const ED2: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJS+SHk2u6Xlw1rP/Rty9lV9vNHhNDtEnQzIPeWm3aZD";

    #[test]
    fn user_names_come_from_file_names_as_gitolite_strips_them() {
        let rows: &[(&str, &str)] = &[
            ("alice.pub", "alice"),
            ("alice@laptop.pub", "alice"),
            ("alice@example.com.pub", "alice@example.com"),
            ("alice@example.com@laptop.pub", "alice@example.com"),
            ("bob@x@y.pub", "bob"),
            ("a.b.pub", "a.b"),
            ("x@.pub", "x@"),
            (".pub", ""),
        ];
        for (file, user) in rows {
            assert_eq!(user_of(file), Some(*user), "{file}");
        }
        assert_eq!(user_of("alice.pubx"), None);
    }

    fn keydir(files: &[(&str, String)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    fn short(dir: &Path, path: &Path) -> String {
        path.strip_prefix(dir).unwrap().display().to_string()
    }

    #[test]
    fn keys_are_read_at_any_depth_in_path_order() {
        let dir = keydir(&[
            ("zed.pub", format!("{ED1} zed\n")),
            ("laptops/alice@laptop.pub", format!("{ED2} alice")),
            ("a/b/c/carol.pub", format!("{ED1} carol\n")),
        ]);
        let read = read(dir.path()).unwrap();
        let keys: Vec<_> = read
            .keys
            .iter()
            .map(|k| (k.user.to_string(), short(dir.path(), &k.path)))
            .collect();
        assert_eq!(
            keys,
            [
                ("carol".to_owned(), "a/b/c/carol.pub".to_owned()),
                ("alice".to_owned(), "laptops/alice@laptop.pub".to_owned()),
            ]
        );
        // zed's key is carol's again, and comes later: gitolite warns, sshd uses the first.
        let warnings: Vec<_> = read
            .warnings
            .iter()
            .map(|f| (short(dir.path(), &f.path), f.issue.to_string()))
            .collect();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].0, "zed.pub");
        assert!(warnings[0].1.contains("a/b/c/carol.pub"), "{warnings:?}");
        assert!(read.errors.is_empty(), "{:?}", read.errors);
    }

    #[test]
    fn problems_are_warnings_or_errors_per_file() {
        let dir = keydir(&[
            ("README", "hello\n".into()),
            ("empty.pub", String::new()),
            ("two.pub", format!("{ED1}\n{ED2}\n")),
            ("twojunk.pub", "junk\n\n".into()),
            ("trailing-blank.pub", format!("{ED1}\n\n")),
            ("alice@example.com.pub", format!("{ED1}\n")),
            ("sp ace.pub", format!("{ED1}\n")),
            ("junk.pub", "not a key\n".into()),
            ("ok.pub", format!("{ED2}\n")),
        ]);
        std::os::unix::fs::symlink(dir.path().join("ok.pub"), dir.path().join("link.pub")).unwrap();
        let read = read(dir.path()).unwrap();
        let mut warnings: Vec<_> = read
            .warnings
            .iter()
            .map(|f| format!("{}: {}", short(dir.path(), &f.path), f.issue))
            .collect();
        warnings.sort();
        assert_eq!(
            warnings,
            [
                "README: not a .pub file; ignored",
                "link.pub: symbolic link; ignored, as gitolite ignores it",
                "trailing-blank.pub: holds 2 lines, not exactly 1; ignored, as gitolite ignores it",
                "two.pub: holds 2 lines, not exactly 1; ignored, as gitolite ignores it",
            ]
        );
        let errors: Vec<_> = read
            .errors
            .iter()
            .map(|f| (short(dir.path(), &f.path), f.issue.is_error()))
            .collect();
        assert_eq!(
            errors,
            [
                ("alice@example.com.pub".to_owned(), true),
                ("empty.pub".to_owned(), true),
                ("junk.pub".to_owned(), true),
                ("sp ace.pub".to_owned(), true),
                ("twojunk.pub".to_owned(), true),
            ]
        );
        assert!(matches!(read.errors[0].issue, Issue::BadUserName { .. }));
        assert!(matches!(read.errors[1].issue, Issue::Empty));
        assert!(matches!(read.errors[2].issue, Issue::BadKey { .. }));
        assert!(matches!(read.errors[3].issue, Issue::BadPath));
        assert!(matches!(read.errors[4].issue, Issue::BadKey { .. }));
        assert_eq!(read.keys.len(), 1);
        assert_eq!(read.keys[0].user.as_str(), "ok");
    }

    #[test]
    fn a_missing_keydir_is_an_error() {
        assert!(read(Path::new("/nonexistent/keydir")).is_err());
    }
}
