//! forge's gitolite.conf parser against Debian's real gitolite3: for each conf, what forge
//! parses must be what `gitolite compile` stores (rules with their sequence numbers, perms,
//! refexes and users; options; groups; rule sources), gitolite's warnings must be forge's, and
//! what gitolite refuses forge refuses with the same words.

use crate::common;

use common::Outcome;
use common::gitolite::{Compiled, Gitolite, StoredConfig, StoredRule};
use forge::admin::gitolite::keydir::{self, Issue};
use forge::admin::gitolite::{self, Conf, Settings, WarningKind};
use std::collections::BTreeMap;

/// The scenario confs of the gitolite semantics notes (section 7), without the admin repo.
const SCENARIOS: &[(&str, &str)] = &[
    (
        "A",
        "@devs = alice bob\n@all_devs = @devs carol\n@devs = dave\nrepo foo\n    RW+ = alice\n    \
         RW  master dev/ = bob\n    -   master = carol\n    RW  = carol\n    R   = @all\n\
         repo bar baz\n    RW = @all_devs\nrepo @all\n    R = daemon\n",
    ),
    (
        "B",
        "repo dr\n    option deny-rules = 1\n    - = bad\n    R = @all\nrepo dr2\n    \
         option deny-rules = 1\n    - refs/tags/ = x\n    RW = x\nrepo nodr\n    - = bad\n    \
         R = @all\nrepo ord\n    RW+ = @all\n    - = bad\n",
    ),
    (
        "C",
        "repo cc\n    RWC = cu\n    RW+ = pu\n    RW  = wu\nrepo dd\n    RW+D = du\n    RW+  = pu\n\
         repo mm\n    RW+M = mu\n    RW+  = pu\nrepo none\n    RW+ = pu\n    RW  = wu\n\
         repo scope\n    RW+ = a\nrepo scope\n    RWD = b\n",
    ),
    (
        "D",
        "repo rx\n    RW refs/tags/v[0-9] = tagger\n    RW master$ = exact\n    \
         RW refs/heads/(foo|bar)$ = alt\n    RW refs/heads/personal/USER/ = @all\n    R  = @all\n",
    ),
    (
        "E",
        "@devs = alice bob\nrepo pub/CREATOR/..*\n    C   = @devs\n    RW+ = CREATOR\n    \
         RW  = WRITERS\n    R   = READERS\nrepo plain/..*\n    C  = alice\n    RW = bob\n",
    ),
    (
        "F",
        "repo vr\n    RW+ = alice bob\n    - VREF/NAME/secret/ = bob\n    RW  NAME/docs/ = bob\n    \
         - NAME/ = bob\n",
    ),
    (
        "G",
        "@g = @all\nrepo foo\n    RW = @g\n    RW = CREATOR\nrepo f.*\n    RW = fpat\n\
         repo ab.+\n    RW = u\n",
    ),
    // Beyond the notes: the corners of the compile pipeline, in one conf.
    (
        "sugar and order",
        "RW = early   # before any repo line: dropped, but it takes a seq\n\
         @inner = a\n@outer = @inner b\n@inner = c\n\
         @repos = r1 team/.* r2.git.x\n\
         repo r1 r2.git\n    RW=x\n    RW master dev = u1 u2 @later\n    R master = reader\n\
         =begin testconf\n    RWC = hidden\n=end\n    RWC = shown\n    RW+DM = merger\n\
         repo r1\n    RWCD = again\n    option deny-rules = \"1\"\n    \
         config gitolite-options.MERGE_CHECK = 1\n\
         repo @repos @outer\n    RW = @outer @inner CREATOR READERS\n    - NAME/secret = u1\n    \
         R NAME/x = u2\n    W = dropped\n    RWMC = dropped\n    RW =\n\
         @later = l1\n@e =\nrepo\n    RW = still-@repos\n",
    ),
];

/// Compiles `conf` with gitolite, and parses the same file with forge.
fn both(conf: &str) -> (Gitolite, Outcome, Result<Conf, gitolite::Error>) {
    let real = Gitolite::setup();
    real.write_conf(conf);
    let outcome = real.compile();
    let ours = gitolite::parse_file(&real.conf_file(), &Settings::default());
    (real, outcome, ours)
}

/// Returns forge's rules in gitolite's `%repos` shape.
fn rules_of(conf: &Conf) -> BTreeMap<String, BTreeMap<String, Vec<StoredRule>>> {
    let mut repos: BTreeMap<String, BTreeMap<String, Vec<StoredRule>>> = BTreeMap::new();
    for rule in &conf.rules {
        repos
            .entry(rule.repo.clone())
            .or_default()
            .entry(rule.user.clone())
            .or_default()
            .push((rule.seq, rule.perm.clone(), rule.refex.clone()));
    }
    repos
}

/// Returns forge's options in gitolite's `%configs` shape.
fn options_of(conf: &Conf) -> BTreeMap<String, Vec<StoredConfig>> {
    let mut configs: BTreeMap<String, Vec<StoredConfig>> = BTreeMap::new();
    for option in &conf.options {
        configs.entry(option.repo.clone()).or_default().push((
            option.seq,
            format!("gitolite-options.{}", option.name),
            option.value.clone(),
        ));
    }
    configs
}

/// Returns forge's groups inside out, as gitolite stores `%groups`: member -> groups.
fn groups_of(conf: &Conf) -> BTreeMap<String, Vec<String>> {
    let mut by_name = BTreeMap::new();
    for group in conf.user_groups.iter().chain(&conf.repo_groups) {
        by_name.insert(group.name.clone(), group.members.clone());
    }
    let mut inside_out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, members) in by_name {
        for member in members {
            inside_out.entry(member).or_default().push(name.clone());
        }
    }
    for groups in inside_out.values_mut() {
        groups.sort();
    }
    inside_out
}

/// gitolite's `WARNING:` lines, without the prefix.
fn warnings_of(outcome: &Outcome) -> Vec<String> {
    outcome
        .stderr
        .lines()
        .filter_map(|line| line.strip_prefix("WARNING: "))
        .map(str::to_owned)
        .collect()
}

/// forge's warnings that gitolite also gives, as gitolite words them.
fn our_warnings(conf: &Conf) -> Vec<String> {
    conf.warnings
        .iter()
        .filter(|w| !matches!(w.kind, WarningKind::RuleOutsideRepo | WarningKind::NotUtf8))
        .map(|w| w.kind.to_string())
        .collect()
}

/// Asserts that forge parsed what gitolite compiled.
fn assert_same(name: &str, real: &Gitolite, outcome: &Outcome, conf: &Conf, groups_too: bool) {
    let context = || real.show(outcome);
    assert_eq!(
        outcome.code,
        Some(0),
        "{name}: gitolite compile failed\n{}",
        context()
    );
    let compiled: Compiled = real.compiled();
    assert_eq!(
        rules_of(conf),
        compiled.repos,
        "{name}: rules differ\n{}",
        context()
    );
    assert_eq!(
        options_of(conf),
        compiled.configs,
        "{name}: options differ\n{}",
        context()
    );
    if groups_too {
        assert_eq!(
            groups_of(conf),
            compiled.groups,
            "{name}: groups differ\n{}",
            context()
        );
    }
    for rule in &conf.rules {
        let file = rule
            .source
            .file
            .strip_prefix(real.conf_dir())
            .expect("every conf file is under the conf folder")
            .display()
            .to_string();
        assert_eq!(
            compiled.rule_info.get(&rule.seq),
            Some(&(file, rule.source.line)),
            "{name}: rule {} comes from elsewhere\n{}",
            rule.seq,
            context()
        );
    }
    assert_eq!(
        our_warnings(conf),
        warnings_of(outcome),
        "{name}: warnings differ\n{}",
        context()
    );
}

#[test]
fn scenario_confs_parse_as_gitolite_compiles_them() {
    for (name, text) in SCENARIOS {
        let (real, outcome, ours) = both(text);
        let conf = ours.unwrap_or_else(|e| panic!("{name}: forge refused the conf: {e}"));
        assert_same(name, &real, &outcome, &conf, true);
    }
}

#[test]
fn includes_parse_as_gitolite_compiles_them() {
    let real = Gitolite::setup();
    real.write_file("groups.conf", "@devs = alice bob\n");
    real.write_file(
        "repos/b.conf",
        "repo b\n    RW+D = @devs\ninclude \"groups.conf\"\n",
    );
    real.write_file("repos/a.conf", "repo a\n    RWC = @devs\n    R = @all\n");
    real.write_file("repos/B.conf", "repo B\n    RW = carol\n");
    real.write_file("repos/skipped.txt", "repo never\n    RW = x\n");
    real.write_conf(
        "include \"groups.conf\"\ninclude 'repos/*.conf'\ninclude \"nothere.conf\"\n\
         include \"repos/{b,a}.conf\"\nrepo a\n    RW = late\n",
    );
    let outcome = real.compile();
    let conf = gitolite::parse_file(&real.conf_file(), &Settings::default()).unwrap();
    assert_same("includes", &real, &outcome, &conf, true);
    let files: Vec<String> = conf
        .rules
        .iter()
        .map(|r| {
            r.source
                .file
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        files,
        [
            "gitolite.conf",
            "a.conf",
            "a.conf",
            // GLOB_ALPHASORT: case-folded, then bytewise.
            "B.conf",
            "b.conf",
            "gitolite.conf"
        ]
    );
}

#[test]
fn what_gitolite_refuses_forge_refuses_in_the_same_words() {
    // Section 7c's FATAL rows, and a few more of gitolite's FATAL cases.
    let confs = [
        "@a = @nothere\n",
        "@a-* = x\n",
        "@a = x;y\n",
        "repo foo\n    RW = bad*user\n",
        "repo foo;bar\n",
        "repo foo\n    RW ma;ster = x\n",
        "repo foo\n    RW a=b = x\n",
        "repo foo/\n    RW = x\n",
        "repo a/../b\n    RW = x\n",
        "repo a.git/b\n    RW = x\n",
        "repo foo.git.git\n    RW = x\n",
        "@g = ok bad/\nrepo @g\n    RW = x\n",
        "include nothere.conf\n",
        "repo foo\n    option x = a;b\n",
    ];
    for text in confs {
        let (real, outcome, ours) = both(text);
        let error = match ours {
            Ok(_) => panic!(
                "forge accepted a conf gitolite refuses\n{}",
                real.show(&outcome)
            ),
            Err(error) => error,
        };
        assert!(error.is_gitolite_fatal(), "{error}");
        let at = error.at().expect("a conf error names its line");
        let message = error.to_string();
        let message = message.strip_prefix(&format!("{at}: ")).unwrap();
        assert_ne!(
            outcome.code,
            Some(0),
            "gitolite accepted\n{}",
            real.show(&outcome)
        );
        assert!(
            outcome.stderr.contains(&format!("FATAL: {message}")),
            "gitolite refused for another reason than '{message}'\n{}",
            real.show(&outcome)
        );
    }
}

#[test]
fn what_gitolite_only_warns_about_forge_warns_about_too() {
    // Section 7c's WARNING and "ok" rows.
    let confs = [
        "repo foo\n    W = x\n",
        "repo foo\n    RWMC = x\n",
        "repo foo\n    RWDC = x\n    RW+DCM = x\n",
        "repo foo\n    R master = x\n",
        "repo foo\n    option foo.bar = baz\n",
        "repo foo.git\n    RW = x\n",
        "RW = x\n",
        "include \"nothere.conf\"\n",
        "@e =\n",
        "repo foo\n    RW = @nosuch\n",
        "repo foo\n    RW = \n",
    ];
    for text in confs {
        let (real, outcome, ours) = both(text);
        let conf = ours.unwrap_or_else(|e| panic!("forge refused: {e}\n{}", real.show(&outcome)));
        assert_same(text, &real, &outcome, &conf, true);
    }
}

#[test]
fn the_harness_reproduces_the_notes_answers_for_wild_repos() {
    let real = Gitolite::with_conf(SCENARIOS[4].1);
    // The copied HOME is a working one: the admin repo's hooks point into it.
    assert_eq!(
        real.access("gitolite-admin", "admin", "+", "", None),
        (true, "refs/.*".to_owned())
    );
    // (repo, user, perm, GL_USER, exit 0?, stdout): rows 56-61 of the notes.
    type Row<'a> = (&'a str, &'a str, &'a str, Option<&'a str>, bool, &'a str);
    let before: &[Row] = &[
        ("pub/alice/x", "alice", "^C", Some("alice"), true, "refs/.*"),
        (
            "pub/alice/x",
            "alice",
            "^C",
            None,
            false,
            "^C any pub/alice/x alice DENIED by fallthru",
        ),
        ("pub/alice/x", "bob", "^C", Some("alice"), true, "refs/.*"),
        (
            "pub/alice/x",
            "alice",
            "W",
            Some("alice"),
            false,
            "W any pub/alice/x alice DENIED by fallthru",
        ),
    ];
    for (repo, user, perm, gl_user, ok, stdout) in before {
        let got = real.access(repo, user, perm, "", *gl_user);
        assert_eq!(
            got,
            (*ok, stdout.to_string()),
            "{repo} {user} {perm} {gl_user:?}"
        );
    }
    real.create_wild("pub/alice/x", "alice");
    real.perms("pub/alice/x", "alice", "+", "READERS", "carol");
    real.perms("pub/alice/x", "alice", "+", "WRITERS", "bob");
    // Rows 67-73, in one batch per perm.
    let pairs = [
        ("pub/alice/x", "alice"),
        ("pub/alice/x", "carol"),
        ("pub/alice/x", "bob"),
        ("pub/alice/x", "eve"),
    ];
    assert_eq!(
        real.access_batch("R", "", &pairs, None),
        [
            "refs/.*",
            "refs/.*",
            "refs/.*",
            "R any pub/alice/x eve DENIED by fallthru"
        ]
    );
    assert_eq!(
        real.access_batch("W", "", &pairs, None),
        [
            "refs/.*",
            "W any pub/alice/x carol DENIED by fallthru",
            "refs/.*",
            "W any pub/alice/x eve DENIED by fallthru"
        ]
    );
    assert_eq!(
        real.access("pub/alice/x", "alice", "^C", "", Some("alice")),
        (
            false,
            "^C any pub/alice/x alice DENIED by existence".to_owned()
        )
    );
    let fatal = real.access_outcome("foo", "-u", "W", "", None);
    assert!(
        fatal.stderr.contains("FATAL: invalid user '-u'"),
        "{}",
        fatal.render()
    );
}

#[test]
fn keydir_users_and_keys_are_those_gitolite_authorizes() {
    let key = |n: usize| {
        [
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMAB20eQqQTljsWpn0CFP/ATBUJ3qR2mQNiN0iq6QFL4",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJS+SHk2u6Xlw1rP/Rty9lV9vNHhNDtEnQzIPeWm3aZD",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKWdBCWIAVdUijgQgfx7slfgwTxC0SCaU8fqHAQdPlcM",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB/Yn8VTW2LK9mjY/OXzhAdO6k+sfZU6mVuJ9KczTc2c",
        ][n]
            .to_owned()
    };
    let real = Gitolite::setup();
    let files = [
        ("keydir/alice.pub", format!("{} alice\n", key(0))),
        (
            "keydir/laptops/alice@laptop.pub",
            format!("{} alice's laptop\n", key(1)),
        ),
        ("keydir/x/y/bob.pub", key(2)),
        ("keydir/carol@example.com.pub", format!("{}\n", key(3))),
        ("keydir/zz/dave.pub", format!("{} same as alice\n", key(0))),
        ("keydir/two.pub", format!("{}\n{}\n", key(2), key(3))),
        ("keydir/README", "not a key\n".to_owned()),
    ];
    for (path, text) in &files {
        real.write_admin_file(path, text);
    }
    // An empty key file stops gitolite; forge's reading calls it an error.
    real.write_admin_file("keydir/empty.pub", "");
    let outcome = real.post_compile();
    assert!(
        outcome.code != Some(0) && outcome.stderr.contains("FATAL: fingerprinting failed"),
        "{}",
        real.show(&outcome)
    );
    let ours = keydir::read(&real.home().join(".gitolite/keydir")).unwrap();
    assert!(
        ours.errors
            .iter()
            .any(|f| f.path.ends_with("empty.pub") && matches!(f.issue, Issue::Empty)),
        "{:?}",
        ours.errors
    );
    std::fs::remove_file(real.home().join(".gitolite/keydir/empty.pub")).unwrap();

    let outcome = real.post_compile();
    assert_eq!(outcome.code, Some(0), "{}", real.show(&outcome));

    let ours = keydir::read(&real.home().join(".gitolite/keydir")).unwrap();
    // gitolite writes every readable one-line key; sshd takes the first line for a key.
    let mut theirs: Vec<(String, String)> = Vec::new();
    for (user, key) in real.authorized_keys() {
        let blob = key.split(' ').take(2).collect::<Vec<_>>().join(" ");
        if !theirs.iter().any(|(_, b)| *b == blob) {
            theirs.push((user, blob));
        }
    }
    let mut mine: Vec<(String, String)> = ours
        .keys
        .iter()
        .map(|k| {
            let text = k.key.to_openssh();
            let blob = text.split(' ').take(2).collect::<Vec<_>>().join(" ");
            (k.user.to_string(), blob)
        })
        .collect();
    // carol@example.com is a gitolite user but not a forge one: an error, not a key.
    for finding in &ours.errors {
        match &finding.issue {
            Issue::BadUserName { user, .. } => {
                let text = std::fs::read_to_string(&finding.path).unwrap();
                let blob = text.split(' ').take(2).collect::<Vec<_>>().join(" ");
                mine.push((user.clone(), blob.trim_end().to_owned()));
            }
            other => panic!("unexpected error for {}: {other}", finding.path.display()),
        }
    }
    theirs.sort();
    mine.sort();
    assert_eq!(mine, theirs, "{}", real.show(&outcome));
    let skipped: Vec<String> = ours
        .warnings
        .iter()
        .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    for name in ["README", "two.pub", "dave.pub"] {
        assert!(
            skipped.iter().any(|s| s == name),
            "{name} not skipped: {skipped:?}"
        );
    }
    assert!(
        outcome
            .stderr
            .contains("keydir/two.pub does not contain exactly 1 line")
    );
    assert!(
        outcome
            .stderr
            .contains("keydir/zz/dave.pub duplicates keydir/alice.pub")
    );
}
