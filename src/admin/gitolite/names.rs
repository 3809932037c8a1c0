//! The name checks gitolite 3.6.12 applies (`Rc.pm`), written out as byte tests.
//!
//! Each function is one of gitolite's `*_PATT` regexes, character for character:
//!
//! ```text
//! $REPONAME_PATT = qr(^\@?[0-9a-zA-Z][-0-9a-zA-Z._\@/+]*$);
//! $REPOPATT_PATT = qr(^\@?[[0-9a-zA-Z][-0-9a-zA-Z._\@/+\\^$|()[\]*?{},]*$);
//! $USERNAME_PATT = qr(^\@?[0-9a-zA-Z][-0-9a-zA-Z._\@+]*$);
//! $UNSAFE_PATT   = qr([`~#\$\&()|;<>]);
//! ```

/// Returns whether `name` matches `pattern` after at most one leading `@`: the first byte
/// passes `first` and every later byte passes `rest`.
fn matches(name: &str, first: fn(u8) -> bool, rest: fn(u8) -> bool) -> bool {
    let bytes = name.strip_prefix('@').unwrap_or(name).as_bytes();
    match bytes.split_first() {
        Some((&head, tail)) => first(head) && tail.iter().all(|&b| rest(b)),
        None => false,
    }
}

/// The bytes of a plain repository name after its first.
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'@' | b'/' | b'+')
}

/// Returns whether `name` matches gitolite's `REPONAME_PATT`: a plain (physical) repository
/// or group name.
pub(crate) fn is_reponame(name: &str) -> bool {
    matches(name, |b| b.is_ascii_alphanumeric(), is_name_byte)
}

/// Returns whether `name` matches gitolite's `REPOPATT_PATT`: a repository name, a repository
/// pattern, a group member or a ref.
pub(crate) fn is_repopatt(name: &str) -> bool {
    matches(
        name,
        |b| b.is_ascii_alphanumeric() || b == b'[',
        |b| is_name_byte(b) || b"\\^$|()[]*?{},".contains(&b),
    )
}

/// Returns whether `name` matches gitolite's `USERNAME_PATT`: a user, `@group` or `@role`.
pub(crate) fn is_username(name: &str) -> bool {
    matches(
        name,
        |b| b.is_ascii_alphanumeric(),
        |b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'@' | b'+'),
    )
}

/// Returns whether a config value holds a byte of gitolite's `UNSAFE_PATT`.
pub(crate) fn is_unsafe_value(value: &str) -> bool {
    value.bytes().any(|b| b"`~#$&()|;<>".contains(&b))
}

/// Returns whether a repository name from gitolite.conf is a pattern (a "wild repo").
///
/// gitolite's rule: a name is a pattern iff it does not match `REPONAME_PATT`, that is iff it
/// holds one of `\ ^ $ | ( ) [ ] * ? { } ,`. A name with only `.` or `+` in it (`ab.+`) is a
/// plain name, matched literally. Group names (`@g`) and `@all` are not patterns.
pub fn is_pattern(repo: &str) -> bool {
    !repo.starts_with('@') && !is_reponame(repo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reponame_accepts_plain_names_only() {
        let valid = [
            "foo",
            "a/b.c",
            "ab.+",
            "@g",
            "x@y",
            "9",
            "gitolite-admin",
            "foo/",
        ];
        let invalid = [
            "", "@", "@@g", "-x", ".x", "/x", "a b", "cd.*", "a;b", "[ab]", "x,y",
        ];
        for name in valid {
            assert!(is_reponame(name), "{name}");
        }
        for name in invalid {
            assert!(!is_reponame(name), "{name}");
        }
    }

    #[test]
    fn repopatt_accepts_patterns_and_refs() {
        let valid = [
            "foo",
            "cd.*",
            "pub/CREATOR/..*",
            "[ab]x",
            "@[ab]",
            "refs/heads/(foo|bar)$",
            "v[0-9]{1,3}\\d",
            "refs/.*",
            "refs/heads/@all",
        ];
        let invalid = [
            "",
            "@",
            "-x",
            ".*",
            "a;b",
            "ma;ster",
            "refs/heads/=",
            "a b",
            "x#",
        ];
        for name in valid {
            assert!(is_repopatt(name), "{name}");
        }
        for name in invalid {
            assert!(!is_repopatt(name), "{name}");
        }
    }

    #[test]
    fn username_allows_at_and_plus_but_no_slash() {
        let valid = [
            "alice",
            "alice@example.com",
            "a+b",
            "@devs",
            "@all",
            "@CREATOR",
            "u.1_x-y",
        ];
        let invalid = ["", "-u", ".u", "bad*user", "a/b", "@", "a b", "_u"];
        for name in valid {
            assert!(is_username(name), "{name}");
        }
        for name in invalid {
            assert!(!is_username(name), "{name}");
        }
    }

    #[test]
    fn unsafe_values_are_the_shell_metacharacters() {
        for value in ["1", "hello world", "a.b", "\"x\""] {
            assert!(!is_unsafe_value(value), "{value}");
        }
        for value in ["`x`", "~", "#", "$x", "a&b", "(", ")", "|", ";", "<", ">"] {
            assert!(is_unsafe_value(value), "{value}");
        }
    }

    #[test]
    fn patterns_are_names_with_regex_metacharacters() {
        for repo in [
            "cd.*",
            "pub/CREATOR/..*",
            "a|b",
            "x{2}",
            "[ab]",
            "a,b",
            "a\\d",
        ] {
            assert!(is_pattern(repo), "{repo}");
        }
        for repo in ["foo", "ab.+", "a/b", "@all", "@g", "@g.*"] {
            assert!(!is_pattern(repo), "{repo}");
        }
    }
}
