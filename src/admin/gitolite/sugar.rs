//! gitolite's `Conf/Sugar.pm`: the rewrites applied to the exploded lines before parsing, in
//! gitolite's order (`rw_cdm`, `option`, `owner_desc`, `name_vref`, `role_names`,
//! `skip_block`). Each pass works on the whole list, as gitolite's do, so that the order
//! effects between them are the same (for example, `rw_cdm` sees rule lines inside a
//! `=begin testconf` block before `skip_block` drops them).

use super::Settings;
use super::explode::{Line, cleanup};
use std::collections::HashSet;
use std::sync::LazyLock;

/// `/^(-|C|R|RW\+?(?:C?D?|D?C?)M?) (.* )?= (.+)/`: a rule line (perm, refs, users).
pub(crate) static RULE: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"^(-|C|R|RW\+?(?:C?D?|D?C?)M?) (.* )?= (.+)")
        .expect("the rule regex is valid")
});

/// Runs every sugar pass over `lines`.
pub(crate) fn sugar(lines: Vec<Line>, settings: &Settings) -> Vec<Line> {
    let lines = rw_cdm(lines);
    let lines = option(lines);
    let lines = owner_desc(lines);
    let lines = name_vref(lines);
    let lines = role_names(lines, settings);
    skip_block(lines)
}

/// After each rule line, inserts the options its perm implies, once per `repo` line.
fn rw_cdm(lines: Vec<Line>) -> Vec<Line> {
    static CREATE: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new("RW.*C").expect("the create regex is valid"));
    let mut out = Vec::with_capacity(lines.len());
    let mut seen = HashSet::new();
    for line in lines {
        let mut inserted = Vec::new();
        if line.text.starts_with("repo ") {
            seen.clear();
        } else if let Some(caps) = RULE.captures(&line.text) {
            let perms = &caps[1];
            if perms.contains('D') && seen.insert('D') {
                inserted.push("option DELETE_IS_D = 1");
            }
            if CREATE.is_match(perms) && seen.insert('C') {
                inserted.push("option CREATE_IS_C = 1");
            }
            if perms.contains('M') && seen.insert('M') {
                inserted.push("option MERGE_CHECK = 1");
            }
        }
        let source = line.source.clone();
        out.push(line);
        out.extend(inserted.into_iter().map(|text| Line {
            text: text.to_owned(),
            source: source.clone(),
        }));
    }
    out
}

/// `option X = Y` becomes `config gitolite-options.X = Y`.
fn option(lines: Vec<Line>) -> Vec<Line> {
    static OPTION: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"^option (\S+) = (\S.*)").expect("the option regex is valid")
    });
    lines
        .into_iter()
        .map(|mut line| {
            line.text = line
                .text
                .replacen("option mirror.slaves", "option mirror.copies", 1);
            if let Some(caps) = OPTION.captures(&line.text) {
                line.text = format!("config gitolite-options.{} = {}", &caps[1], &caps[2]);
            }
            line
        })
        .collect()
}

/// `desc`, `owner` and `category` become gitweb config lines.
fn owner_desc(lines: Vec<Line>) -> Vec<Line> {
    lines
        .into_iter()
        .map(|mut line| {
            for (word, key) in [
                ("desc", "gitweb.description"),
                ("owner", "gitweb.owner"),
                ("category", "gitweb.category"),
            ] {
                let value = line
                    .text
                    .strip_prefix(word)
                    .and_then(|rest| rest.strip_prefix(" = "))
                    .filter(|value| value.starts_with(|c: char| c != ' '));
                if let Some(value) = value {
                    line.text = format!("config {key} = {value}");
                    break;
                }
            }
            line
        })
        .collect()
}

/// In deny and `R...` rule lines with a ref, ` NAME/` becomes ` VREF/NAME/`.
fn name_vref(lines: Vec<Line>) -> Vec<Line> {
    static NAME_RULE: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"^(-|R\S+) \S.* = \S.*").expect("the name rule regex is valid")
    });
    lines
        .into_iter()
        .map(|mut line| {
            if NAME_RULE.is_match(&line.text) {
                line.text = line.text.replace(" NAME/", " VREF/NAME/");
            }
            line
        })
        .collect()
}

/// In rule lines, `CREATOR` and role words in the user list get an `@`.
fn role_names(lines: Vec<Line>, settings: &Settings) -> Vec<Line> {
    lines
        .into_iter()
        .map(|mut line| {
            if let Some(caps) = RULE.captures(&line.text) {
                let users: String = caps[3]
                    .split(' ')
                    .filter(|u| !u.is_empty())
                    .map(|u| {
                        if u == "CREATOR" || settings.roles.contains(u) {
                            format!(" @{u}")
                        } else {
                            format!(" {u}")
                        }
                    })
                    .collect();
                let refs = caps.get(2).map_or("", |m| m.as_str());
                let rebuilt = format!("{} {refs} = {users}", &caps[1]);
                line.text = cleanup(&rebuilt).unwrap_or(rebuilt);
            }
            line
        })
        .collect()
}

/// Drops `=begin testconf` ... `=end` and `=begin template-data` ... `=end` blocks.
fn skip_block(lines: Vec<Line>) -> Vec<Line> {
    static BEGIN: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"^= *begin (testconf|template-data)$").expect("the block regex is valid")
    });
    static END: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(r"^= *end$").expect("the end regex is valid"));
    let mut skipping = false;
    lines
        .into_iter()
        .filter(|line| {
            // Perl's `$skip .. /end/` flip-flop: the line that starts a block is tested for
            // the end at once, and the end line itself is skipped.
            if !skipping && BEGIN.is_match(&line.text) {
                skipping = true;
            }
            if skipping {
                if END.is_match(&line.text) {
                    skipping = false;
                }
                return false;
            }
            true
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::gitolite::Source;
    use std::path::PathBuf;

    fn lines(texts: &[&str]) -> Vec<Line> {
        texts
            .iter()
            .enumerate()
            .map(|(i, text)| Line {
                text: cleanup(text).unwrap(),
                source: Source {
                    file: PathBuf::from("c"),
                    line: i as u32 + 1,
                },
            })
            .collect()
    }

    fn run(texts: &[&str]) -> Vec<String> {
        sugar(lines(texts), &Settings::default())
            .into_iter()
            .map(|l| format!("{} {}", l.source.line, l.text))
            .collect()
    }

    #[test]
    fn rw_cdm_inserts_options_after_the_rule_once_per_repo_line() {
        let out = run(&[
            "repo a",
            "RWC = x",
            "RW+CD = y",
            "RWDM = z",
            "C = w",
            "repo a",
            "RW+D = x",
            "- = q",
        ]);
        assert_eq!(
            out,
            [
                "1 repo a",
                "2 RWC = x",
                "2 config gitolite-options.CREATE_IS_C = 1",
                "3 RW+CD = y",
                "3 config gitolite-options.DELETE_IS_D = 1",
                "4 RWDM = z",
                "4 config gitolite-options.MERGE_CHECK = 1",
                "5 C = w",
                "6 repo a",
                "7 RW+D = x",
                "7 config gitolite-options.DELETE_IS_D = 1",
                "8 - = q",
            ]
        );
    }

    #[test]
    fn sugar_rewrites_single_lines() {
        let rows: &[(&str, &str)] = &[
            (
                "option deny-rules = 1",
                "config gitolite-options.deny-rules = 1",
            ),
            (
                "option mirror.slaves = a",
                "config gitolite-options.mirror.copies = a",
            ),
            ("option x =", "option x ="),
            ("desc = \"hello\"", "config gitweb.description = \"hello\""),
            ("owner = bob", "config gitweb.owner = bob"),
            ("category = c", "config gitweb.category = c"),
            ("- NAME/secret/ = bob", "- VREF/NAME/secret/ = bob"),
            ("RW NAME/docs/ = bob", "RW VREF/NAME/docs/ = bob"),
            ("R NAME/docs/ = bob", "R NAME/docs/ = bob"),
            ("C NAME/docs/ = bob", "C NAME/docs/ = bob"),
            ("- NAME/a NAME/b = u", "- VREF/NAME/a VREF/NAME/b = u"),
            ("RW+ = CREATOR", "RW+ = @CREATOR"),
            ("R = READERS alice WRITERS", "R = @READERS alice @WRITERS"),
            ("RW = OWNERS", "RW = OWNERS"),
            ("RW master = CREATOR", "RW master = @CREATOR"),
            ("@g = CREATOR", "@g = CREATOR"),
        ];
        for (input, expected) in rows {
            assert_eq!(run(&[input]), [format!("1 {expected}")], "{input}");
        }
    }

    #[test]
    fn extra_roles_come_from_the_settings() {
        let settings = Settings {
            roles: ["OWNERS".to_owned()].into(),
        };
        let out = sugar(lines(&["RW = OWNERS READERS"]), &settings);
        assert_eq!(out[0].text, "RW = @OWNERS READERS");
    }

    #[test]
    fn blocks_are_skipped_after_rw_cdm_saw_them() {
        let out = run(&[
            "repo a",
            "=begin testconf",
            "RWC = x",
            "=end",
            "RWC = y",
            "=begin template-data",
            "repo b",
            "= end",
            "=begin other",
            "R = z",
        ]);
        // The RWC inside the block used up CREATE_IS_C for this repo line.
        assert_eq!(
            out,
            ["1 repo a", "5 RWC = y", "9 = begin other", "10 R = z"]
        );
    }

    #[test]
    fn an_unterminated_block_runs_to_the_end() {
        assert_eq!(run(&["repo a", "=begin testconf", "R = x"]), ["1 repo a"]);
    }
}
