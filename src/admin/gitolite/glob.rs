//! The file globs of `include "..."` lines, expanded as Perl's `glob` (File::Glob's
//! `csh_glob`) expands them for gitolite.
//!
//! What is copied: the pattern splits at blanks into several; `{a,b}` alternatives expand
//! first, in order; `*`, `?` and `[...]` (with `!` for negation and `a-z` ranges) match within
//! one path component and never match a leading `.`; a backslash quotes the next character; the
//! matches of each alternative are sorted by `GLOB_ALPHASORT`'s rule (case-folded, then
//! bytewise); an alternative without `*`, `?` or `[` is returned as written even when no such
//! file exists (`GLOB_NOMAGIC`), so that gitolite can warn about it. Not copied: `~` expansion.

use std::cmp::Ordering;
use std::path::Path;

/// Returns the names `pattern` expands to, relative to `base` as the pattern is (an absolute
/// pattern gives absolute names).
pub(crate) fn expand(pattern: &str, base: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for word in pattern.split_ascii_whitespace() {
        for alternative in expand_braces(word) {
            if !has_magic(&alternative) {
                out.push(unquote(&alternative));
                continue;
            }
            let mut found = walk(&alternative, base);
            found.sort_by(|a, b| alpha_sort(a, b));
            out.extend(found);
        }
    }
    out
}

/// Returns the alternatives of the first top-level `{...}` group, each expanded again.
fn expand_braces(word: &str) -> Vec<String> {
    let bytes = word.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'{' => {
                // A word that is just "{}" stays literal, as in csh (for find(1)).
                if word == "{}" {
                    return vec![word.to_owned()];
                }
                let Some((close, commas)) = brace_group(bytes, i) else {
                    return vec![word.to_owned()];
                };
                let (head, tail) = (&word[..i], &word[close + 1..]);
                let mut starts = vec![i + 1];
                starts.extend(commas.iter().map(|c| c + 1));
                let mut ends = commas.clone();
                ends.push(close);
                return starts
                    .iter()
                    .zip(ends)
                    .flat_map(|(&s, e)| expand_braces(&format!("{head}{}{tail}", &word[s..e])))
                    .collect();
            }
            _ => i += 1,
        }
    }
    vec![word.to_owned()]
}

/// Returns the index of the `}` closing the `{` at `open`, and the top-level commas inside.
fn brace_group(bytes: &[u8], open: usize) -> Option<(usize, Vec<usize>)> {
    let (mut depth, mut commas, mut i) = (0usize, Vec::new(), open + 1);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'{' => depth += 1,
            b'}' if depth == 0 => return Some((i, commas)),
            b'}' => depth -= 1,
            b',' if depth == 0 => commas.push(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Returns whether `pattern` holds an unquoted `*`, `?` or `[`.
fn has_magic(pattern: &str) -> bool {
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '*' | '?' | '[' => return true,
            _ => {}
        }
    }
    false
}

/// Returns `text` with its backslash quoting removed.
fn unquote(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

/// Returns the existing paths that match `pattern` under `base`, in directory order.
fn walk(pattern: &str, base: &Path) -> Vec<String> {
    let absolute = pattern.starts_with('/');
    let components: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    let mut current = vec![if absolute {
        "/".to_owned()
    } else {
        String::new()
    }];
    for (index, component) in components.iter().enumerate() {
        let last = index + 1 == components.len();
        let mut next = Vec::new();
        for prefix in &current {
            let dir = base.join(if prefix.is_empty() { "." } else { prefix });
            if !has_magic(component) {
                let name = join(prefix, &unquote(component));
                let path = base.join(&name);
                if (last && path.exists()) || path.is_dir() {
                    next.push(name);
                }
                continue;
            }
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let Some(file_name) = entry.file_name().to_str().map(str::to_owned) else {
                    continue;
                };
                if !matches_component(component.as_bytes(), file_name.as_bytes()) {
                    continue;
                }
                let name = join(prefix, &file_name);
                if last || base.join(&name).is_dir() {
                    next.push(name);
                }
            }
        }
        current = next;
    }
    current
}

/// Returns `prefix/name`, or `name` when the prefix is empty.
fn join(prefix: &str, name: &str) -> String {
    match prefix {
        "" => name.to_owned(),
        "/" => format!("/{name}"),
        _ => format!("{prefix}/{name}"),
    }
}

/// Returns whether a file name matches one glob component; a leading `.` must be matched by
/// a literal `.`.
fn matches_component(pattern: &[u8], name: &[u8]) -> bool {
    if name.first() == Some(&b'.') && pattern.first() != Some(&b'.') {
        return false;
    }
    match_from(pattern, name)
}

/// Matches `pattern` against the whole of `name` (`*`, `?`, `[...]`, `\x`).
fn match_from(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => (0..=name.len()).any(|skip| match_from(rest, &name[skip..])),
        Some((b'?', rest)) => !name.is_empty() && match_from(rest, &name[1..]),
        Some((b'[', rest)) => match (name.split_first(), class(rest)) {
            (Some((&c, name_rest)), Some((matcher, after))) => {
                matcher(c) && match_from(after, name_rest)
            }
            // An unclosed '[' is an ordinary character.
            (Some((&c, name_rest)), None) => c == b'[' && match_from(rest, name_rest),
            (None, _) => false,
        },
        Some((b'\\', rest)) if !rest.is_empty() => {
            name.first() == Some(&rest[0]) && match_from(&rest[1..], &name[1..])
        }
        Some((&p, rest)) => name.first() == Some(&p) && match_from(rest, &name[1..]),
    }
}

/// A `[...]` class: the byte test it stands for, and the pattern after its `]`.
type Class<'a> = (Box<dyn Fn(u8) -> bool + 'a>, &'a [u8]);

/// Parses the class that starts just after a `[`.
fn class(pattern: &[u8]) -> Option<Class<'_>> {
    let (negated, body) = match pattern.first() {
        Some(b'!') => (true, &pattern[1..]),
        _ => (false, pattern),
    };
    // A ']' right at the start is a member, not the end.
    let close = body
        .iter()
        .enumerate()
        .skip(1)
        .find(|&(_, &b)| b == b']')
        .map(|(i, _)| i)
        .or_else(|| (body.first() == Some(&b']')).then_some(usize::MAX))?;
    if close == usize::MAX {
        return None;
    }
    let members = &body[..close];
    let test = move |c: u8| {
        let mut i = 0;
        let mut hit = false;
        while i < members.len() {
            if i + 2 < members.len() && members[i + 1] == b'-' {
                hit |= members[i] <= c && c <= members[i + 2];
                i += 3;
            } else {
                hit |= members[i] == c;
                i += 1;
            }
        }
        hit != negated
    };
    Some((Box::new(test), &body[close + 1..]))
}

/// Orders names as `GLOB_ALPHASORT` does: case-folded first, bytewise on a tie.
fn alpha_sort(a: &str, b: &str) -> Ordering {
    a.to_ascii_lowercase()
        .cmp(&b.to_ascii_lowercase())
        .then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for file in files {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        dir
    }

    #[test]
    fn globs_expand_like_perl_csh_glob() {
        let dir = tree(&[
            "b.conf",
            "A.conf",
            "a.conf",
            ".hidden.conf",
            "sub/x.conf",
            "sub/deep/y.conf",
            "other/z.conf",
            "c1.conf",
            "c2.conf",
        ]);
        let rows: &[(&str, &[&str])] = &[
            (
                "*.conf",
                &["A.conf", "a.conf", "b.conf", "c1.conf", "c2.conf"],
            ),
            ("nothere.conf", &["nothere.conf"]),
            ("*.nope", &[]),
            ("sub/*.conf", &["sub/x.conf"]),
            ("*/*.conf", &["other/z.conf", "sub/x.conf"]),
            ("sub/*/y.conf", &["sub/deep/y.conf"]),
            ("c?.conf", &["c1.conf", "c2.conf"]),
            ("c[!1].conf", &["c2.conf"]),
            ("[a-b].conf", &["a.conf", "b.conf"]),
            ("{b,a}.conf", &["b.conf", "a.conf"]),
            ("{sub,other}/*.conf", &["sub/x.conf", "other/z.conf"]),
            ("{x,y}.conf", &["x.conf", "y.conf"]),
            (".*.conf", &[".hidden.conf"]),
            ("a.conf b.conf", &["a.conf", "b.conf"]),
            ("\\*.conf", &["*.conf"]),
            ("{}.conf", &[".conf"]),
            ("[]a].conf", &["a.conf"]),
        ];
        for (pattern, expected) in rows {
            assert_eq!(expand(pattern, dir.path()), *expected, "{pattern}");
        }
    }

    #[test]
    fn absolute_globs_stay_absolute() {
        let dir = tree(&["x.conf"]);
        let pattern = format!("{}/*.conf", dir.path().display());
        assert_eq!(
            expand(&pattern, Path::new("/nonexistent")),
            vec![format!("{}/x.conf", dir.path().display())]
        );
    }
}
