//! gitolite's `Conf/Explode.pm`: reading a conf file into cleaned-up lines, following
//! `include` lines, and `Common.pm::cleanup_conf_line`.

use super::{Error, Feature, Source, Unsupported, Warning, WarningKind, glob};
use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

/// One cleaned-up conf line and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    /// The line after [`cleanup`]: no comment, single spaces, ` = ` around the first `=`.
    pub text: String,
    /// Its file and line.
    pub source: Source,
}

/// The lines of a conf and its includes, in order, with what was noticed on the way.
#[derive(Debug, Default)]
pub(crate) struct Exploded {
    /// Every non-blank line outside `include`/`subconf` lines.
    pub lines: Vec<Line>,
    /// Missing and repeated includes, lines that are not UTF-8.
    pub warnings: Vec<Warning>,
    /// Subconfs, which forge does not read.
    pub unsupported: Vec<Unsupported>,
}

/// `s/^((".*?"|[^#"])*)#.*/$1/`: a `#` starts a comment unless inside a simple string.
static COMMENT: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r#"^((?:".*?"|[^#"])*)#.*"#).expect("the comment regex is valid")
});

/// `/^(include|subconf) (?:(\S+) )?(\S.+)$/`, after clean-up.
static INCLUDE: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"^(include|subconf) (?:(\S+) )?(\S.+)$").expect("the include regex is valid")
});

/// `m(([^/]+).conf$)`: an included file's name, and the base name a subconf takes from it.
static CONF_NAME: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"([^/]+).conf$").expect("the conf name regex is valid"));

/// Perl's `\s` on a byte string: ASCII blanks including vertical tab.
fn is_perl_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// Cleans one raw line as `cleanup_conf_line` does; returns `None` for a line gitolite keeps
/// as a `# file line` marker, which compiles to nothing.
pub(crate) fn cleanup(raw: &str) -> Option<String> {
    let unterminated = raw.strip_suffix('\n').unwrap_or(raw);
    if is_marker(unterminated) {
        return None;
    }
    let uncommented = match COMMENT.captures(raw) {
        Some(caps) => {
            let whole = caps.get(0).expect("group 0 always exists");
            format!("{}{}", &caps[1], &raw[whole.end()..])
        }
        None => raw.to_owned(),
    };
    let spaced = uncommented.replacen('=', " = ", 1);
    let mut out = String::with_capacity(spaced.len());
    for word in spaced.split(is_perl_space).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    Some(out)
}

/// Returns whether a line is `# \S+ \d+`, which gitolite passes through as a marker.
fn is_marker(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("# ") else {
        return false;
    };
    let Some((word, number)) = rest.split_once(' ') else {
        return false;
    };
    !word.is_empty()
        && !word.contains(is_perl_space)
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// Reads the conf file at `path` and everything it includes.
pub(crate) fn explode(path: &Path) -> Result<Exploded, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    explode_text(&bytes, path)
}

/// Reads conf text as if it were the file `path`, and everything it includes.
pub(crate) fn explode_text(text: &[u8], path: &Path) -> Result<Exploded, Error> {
    let base = path.parent().unwrap_or(Path::new("")).to_owned();
    let mut state = State {
        base,
        included: HashSet::new(),
        out: Exploded::default(),
    };
    // gitolite seeds its "seen" list with the main conf file.
    if let Ok(meta) = std::fs::metadata(path) {
        state.included.insert((meta.dev(), meta.ino()));
    }
    state.explode(text, path)?;
    Ok(state.out)
}

/// The walk over a conf and its includes.
struct State {
    /// The main conf's folder, against which every include glob resolves.
    base: PathBuf,
    /// The (device, inode) of every file read so far.
    included: HashSet<(u64, u64)>,
    /// What was read.
    out: Exploded,
}

impl State {
    /// Appends the lines of `text`, read from `file`, following its includes.
    fn explode(&mut self, text: &[u8], file: &Path) -> Result<(), Error> {
        for (index, raw) in text.split_inclusive(|&b| b == b'\n').enumerate() {
            let source = Source {
                file: file.to_owned(),
                line: u32::try_from(index + 1).unwrap_or(u32::MAX),
            };
            let raw = match std::str::from_utf8(raw) {
                Ok(raw) => raw.to_owned(),
                Err(_) => {
                    self.warn(&source, WarningKind::NotUtf8);
                    String::from_utf8_lossy(raw).into_owned()
                }
            };
            let Some(text) = cleanup(&raw) else {
                continue;
            };
            if text.is_empty() {
                continue;
            }
            if let Some(caps) = INCLUDE.captures(&text) {
                let is_subconf = &caps[1] == "subconf";
                let name = caps.get(2).map(|m| m.as_str().to_owned());
                self.include(is_subconf, name, &caps[3], &source)?;
            } else {
                self.out.lines.push(Line { text, source });
            }
        }
        Ok(())
    }

    /// gitolite's `incsub`: follows one `include` line, or notes one `subconf`.
    fn include(
        &mut self,
        is_subconf: bool,
        name: Option<String>,
        quoted: &str,
        at: &Source,
    ) -> Result<(), Error> {
        let glob = quoted
            .strip_prefix('"')
            .and_then(|g| g.strip_suffix('"'))
            .or_else(|| quoted.strip_prefix('\'').and_then(|g| g.strip_suffix('\'')))
            .filter(|g| !g.is_empty())
            .ok_or_else(|| Error::UnquotedInclude {
                at: at.clone(),
                glob: quoted.to_owned(),
            })?;
        for file in glob::expand(glob, &self.base) {
            let path = self.base.join(&file);
            if !path.is_file() {
                self.warn(at, WarningKind::IncludeNotFound { file });
                continue;
            }
            let Some(caps) = CONF_NAME.captures(&file) else {
                return Err(Error::BadIncludeName {
                    at: at.clone(),
                    file,
                });
            };
            let basename = caps[1].to_owned();
            let meta = std::fs::metadata(&path).map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?;
            if !self.included.insert((meta.dev(), meta.ino())) {
                self.warn(at, WarningKind::AlreadyIncluded { file });
                continue;
            }
            if is_subconf {
                let name = name.clone().unwrap_or(basename);
                check_subconf_name(&name, at)?;
                self.out.unsupported.push(Unsupported {
                    what: Feature::Subconf { name, file },
                    source: at.clone(),
                });
                continue;
            }
            let text = std::fs::read(&path).map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?;
            self.explode(&text, &path)?;
        }
        Ok(())
    }

    fn warn(&mut self, at: &Source, kind: WarningKind) {
        self.out.warnings.push(Warning {
            source: at.clone(),
            kind,
        });
    }
}

/// `set_subconf`: a subconf name is `^[-\w.]+$`.
pub(crate) fn check_subconf_name(name: &str, at: &Source) -> Result<(), Error> {
    let good = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if good {
        Ok(())
    } else {
        Err(Error::BadSubconf {
            at: at.clone(),
            name: name.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleanup_strips_comments_and_spaces_the_first_equals() {
        let rows: &[(&str, Option<&str>)] = &[
            ("repo foo\n", Some("repo foo")),
            (
                "  RW+   =  alice   bob  # the devs\n",
                Some("RW+ = alice bob"),
            ),
            ("RW=alice", Some("RW = alice")),
            ("RW a=b = x", Some("RW a = b = x")),
            ("\tRW\tmaster\t=\tx\r\n", Some("RW master = x")),
            ("# just a comment\n", Some("")),
            ("#", Some("")),
            ("   \n", Some("")),
            ("desc = \"a # b\" # real comment", Some("desc = \"a # b\"")),
            ("desc = \"a # b", Some("desc = \"a # b")),
            ("x \"q\" y # c # d", Some("x \"q\" y")),
            ("@g = a\x0bb", Some("@g = a b")),
            ("# section 12\n", None),
            ("# section 12", None),
            ("# two words 12", Some("")),
        ];
        for (raw, expected) in rows {
            assert_eq!(cleanup(raw).as_deref(), *expected, "{raw:?}");
        }
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    fn texts(exploded: &Exploded) -> Vec<String> {
        exploded
            .lines
            .iter()
            .map(|l| {
                let file = l.source.file.file_name().unwrap().to_string_lossy();
                format!("{file}:{} {}", l.source.line, l.text)
            })
            .collect()
    }

    #[test]
    fn includes_splice_files_in_glob_order_relative_to_the_main_conf() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "conf.d/b.conf", "repo b\n");
        write(
            dir.path(),
            "conf.d/a.conf",
            "\nrepo a # x\ninclude \"conf.d/b.conf\"\n",
        );
        write(dir.path(), "other.conf", "repo other\n");
        let main = write(
            dir.path(),
            "gitolite.conf",
            "repo top\ninclude \"conf.d/*.conf\"\ninclude 'other.conf'\nRW = x\n",
        );
        let exploded = explode(&main).unwrap();
        assert_eq!(
            texts(&exploded),
            [
                "gitolite.conf:1 repo top",
                "a.conf:2 repo a",
                "b.conf:1 repo b",
                "other.conf:1 repo other",
                "gitolite.conf:4 RW = x",
            ]
        );
        // b.conf came in through a.conf first, so the glob's second b.conf is a repeat.
        assert_eq!(
            exploded.warnings,
            [Warning {
                source: Source {
                    file: main.clone(),
                    line: 2
                },
                kind: WarningKind::AlreadyIncluded {
                    file: "conf.d/b.conf".into()
                },
            }]
        );
    }

    #[test]
    fn include_warnings_and_errors_follow_gitolite() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "frag.conf", "repo frag\n");
        write(dir.path(), "sub/team.conf", "repo team\n");
        write(dir.path(), "notconf.txt", "repo x\n");
        let main = dir.path().join("gitolite.conf");
        let at = |line| Source {
            file: main.clone(),
            line,
        };
        let warnings: &[(&str, WarningKind)] = &[
            (
                "include \"nothere.conf\"",
                WarningKind::IncludeNotFound {
                    file: "nothere.conf".into(),
                },
            ),
            (
                "include \"gitolite.conf\"",
                WarningKind::AlreadyIncluded {
                    file: "gitolite.conf".into(),
                },
            ),
        ];
        for (text, kind) in warnings {
            write(dir.path(), "gitolite.conf", text);
            let exploded = explode(&main).unwrap();
            assert_eq!(
                exploded.warnings,
                [Warning {
                    source: at(1),
                    kind: kind.clone()
                }]
            );
        }
        write(dir.path(), "gitolite.conf", "include \"*.none\"");
        assert!(explode(&main).unwrap().warnings.is_empty());

        write(
            dir.path(),
            "gitolite.conf",
            "subconf \"sub/*.conf\"\nsubconf x \"frag.conf\"",
        );
        let exploded = explode(&main).unwrap();
        assert!(exploded.lines.is_empty());
        let subconfs: Vec<_> = exploded
            .unsupported
            .iter()
            .map(|u| u.what.clone())
            .collect();
        assert_eq!(
            subconfs,
            [
                Feature::Subconf {
                    name: "team".into(),
                    file: "sub/team.conf".into()
                },
                Feature::Subconf {
                    name: "x".into(),
                    file: "frag.conf".into()
                },
            ]
        );

        let errors: &[(&str, &str)] = &[
            (
                "include nothere.conf",
                "invalid include/subconf file/glob 'nothere.conf'",
            ),
            ("include \"a b\"", "invalid include/subconf file/glob 'b\"'"),
            (
                "include \"notconf.txt\"",
                "invalid include/subconf filename 'notconf.txt'",
            ),
            (
                "subconf \"bad name\"",
                "invalid include/subconf file/glob 'name\"'",
            ),
            ("subconf b;d \"frag.conf\"", "bad subconf 'b;d'"),
        ];
        for (text, message) in errors {
            write(dir.path(), "gitolite.conf", text);
            let error = explode(&main).unwrap_err().to_string();
            assert_eq!(error, format!("{}: {message}", at(1)), "{text}");
        }
    }

    #[test]
    fn a_missing_main_file_is_a_read_error() {
        let error = explode(Path::new("/nonexistent/gitolite.conf")).unwrap_err();
        assert!(matches!(error, Error::Read { .. }), "{error}");
    }
}
