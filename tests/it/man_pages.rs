//! The man pages in `man/`.
//!
//! Each binary's page is rendered from its clap types in `forge::cli` (with clap_mangen), plus
//! the sections clap cannot know: EXIT STATUS (from `forge::exit::Code`), ENVIRONMENT, FILES and
//! SEE ALSO. A page must equal the committed file; `FORGE_UPDATE_MAN=1 cargo test --test
//! it man_pages` rewrites the stale ones. `forgectl(8)` is one page, as systemctl(1) is: its
//! COMMANDS section gives every command its synopsis, description and options, so `man forgectl`
//! then `/key add` finds them. `forge.toml(5)` is written by hand; src/config.rs checks that it
//! names every key.

use clap::CommandFactory;
use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, italic, roman};
use forge::exit::Code;
use std::path::{Path, PathBuf};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const UPDATE_VAR: &str = "FORGE_UPDATE_MAN";

/// What one binary's page says beyond its clap types.
struct Page {
    command: clap::Command,
    exit: &'static [(Code, &'static str)],
    environment: &'static [(&'static str, &'static str)],
    files: &'static [(&'static str, &'static str)],
    examples: &'static [(&'static str, &'static str)],
    see_also: &'static [&'static str],
}

const CONFIG_FILE: (&str, &str) = (
    "/etc/forge/forge.toml",
    "The configuration, unless --config or FORGE_CONFIG names another; see forge.toml(5).",
);
const SOCKET_FILE: (&str, &str) = (
    "/run/forge/forged.sock",
    "The Unix socket forged listens on (the socket key of forge.toml).",
);
const STATE_FILE: (&str, &str) = (
    "/var/lib/forge",
    "forge's state: the SQLite database forge.db and the repos root repos/ (the database and \
     repos keys of forge.toml).",
);
const FORGE_CONFIG: (&str, &str) = (
    "FORGE_CONFIG",
    "The configuration file, when --config is not given.",
);
const FORGE_LOG_SHIM: (&str, &str) = (
    "FORGE_LOG",
    "A log filter (tracing's EnvFilter syntax; RUST_LOG when unset). Off by default: stderr is \
     the user's SSH channel, and forged logs every decision.",
);

fn pages() -> Vec<(&'static str, Page)> {
    vec![
        (
            "forged.8",
            Page {
                command: forge::cli::forged::Args::command(),
                exit: &[
                    (Code::Success, "Stopped cleanly, on SIGTERM or SIGINT."),
                    (
                        Code::Refused,
                        "The configuration cannot be used; the line says which key.",
                    ),
                    (Code::Usage, "The command line is wrong."),
                    (
                        Code::Internal,
                        "forged cannot serve: the socket, the database or the repos root is unusable; the log says why.",
                    ),
                ],
                environment: &[
                    FORGE_CONFIG,
                    (
                        "FORGE_LOG",
                        "A log filter (tracing's EnvFilter syntax; RUST_LOG when unset) that overrides the log key of forge.toml.",
                    ),
                    (
                        "JOURNAL_STREAM",
                        "Set by systemd when stderr goes to the journal; forged then leaves timestamps out of its log lines.",
                    ),
                ],
                files: &[
                    CONFIG_FILE,
                    SOCKET_FILE,
                    STATE_FILE,
                    (
                        "/usr/lib/forge/hooks",
                        "The hook shims every repository's core.hooksPath points at; they run forge-hook.",
                    ),
                ],
                examples: &[(
                    "forged --config /etc/forge/forge.toml",
                    "Serve in the foreground, as the git account, logging to stderr.",
                )],
                see_also: &[
                    "forgectl(8)",
                    "forge-shell(8)",
                    "forge-hook(8)",
                    "forge-keys(8)",
                    "forge.toml(5)",
                    "sshd(8)",
                ],
            },
        ),
        (
            "forgectl.8",
            Page {
                command: forge::cli::forgectl::Args::command(),
                exit: &[
                    (
                        Code::Success,
                        "Success; for access, the operation is allowed.",
                    ),
                    (
                        Code::Refused,
                        "Refused by forged, or invalid input, and nothing was changed; for access, the operation is denied.",
                    ),
                    (Code::Usage, "The command line is wrong."),
                    (
                        Code::Internal,
                        "Internal error: a bug; the forged log has the details.",
                    ),
                    (
                        Code::Unavailable,
                        "forged is unreachable or timed out; try again later.",
                    ),
                ],
                environment: &[
                    FORGE_CONFIG,
                    (
                        "FORGE_LOG",
                        "A log filter (tracing's EnvFilter syntax; RUST_LOG when unset) for forgectl's own log on stderr; off by default.",
                    ),
                ],
                files: &[
                    CONFIG_FILE,
                    SOCKET_FILE,
                    (
                        "~git/.ssh/authorized_keys",
                        "The file keys sync writes, unless --file names another.",
                    ),
                ],
                examples: &[
                    ("forgectl user add alice", "Add the user alice."),
                    (
                        "forgectl key add alice alice.pub --expires 2030-01-31",
                        "Give her a key that stops working at 00:00 UTC that day.",
                    ),
                    (
                        "forgectl repo create acme/widgets",
                        "Create a private repository.",
                    ),
                    (
                        "forgectl grant acme/widgets alice write",
                        "Let alice push to it.",
                    ),
                    (
                        "forgectl access alice acme/widgets W --explain",
                        "Say whether alice may push, and which rule decides.",
                    ),
                    (
                        "source <(forgectl completions bash)",
                        "Complete forgectl's commands in the running bash.",
                    ),
                ],
                see_also: &[
                    "forged(8)",
                    "forge-shell(8)",
                    "forge-hook(8)",
                    "forge-keys(8)",
                    "forge.toml(5)",
                ],
            },
        ),
        (
            "forge-shell.8",
            Page {
                command: forge::cli::forge_shell::Args::command(),
                exit: &[
                    (
                        Code::Success,
                        "Success; once git runs, forge-shell has become git (it execs it), and the status is git's.",
                    ),
                    (
                        Code::Refused,
                        "Refused: the command is not one forge runs, or the repository is not there for this identity.",
                    ),
                    (Code::Usage, "The command line is wrong."),
                    (
                        Code::Internal,
                        "Internal error; the line quotes a ref to find in the forged log.",
                    ),
                    (
                        Code::Unavailable,
                        "forged is unreachable or timed out; nothing ran.",
                    ),
                ],
                environment: &[
                    (
                        "SSH_ORIGINAL_COMMAND",
                        "The command the user asked for, set by sshd: git-upload-pack, git-receive-pack or git-upload-archive with a repository, or help.",
                    ),
                    (
                        "GIT_PROTOCOL",
                        "Passed on to git when in git's own grammar, less any version=2 item: git's protocol v2 serves objects no ref reaches, so forge serves v0 (sshd needs AcceptEnv GIT_PROTOCOL).",
                    ),
                    (
                        "HOME",
                        "Passed on to git, with a fixed PATH (/usr/local/bin:/usr/bin:/bin); nothing else of the environment is.",
                    ),
                    FORGE_CONFIG,
                    FORGE_LOG_SHIM,
                ],
                files: &[
                    CONFIG_FILE,
                    SOCKET_FILE,
                    (
                        "~git/.ssh/authorized_keys",
                        "Where forgectl keys sync writes the forced-command lines that run forge-shell.",
                    ),
                ],
                examples: &[(
                    "restrict,command=\"/usr/lib/forge/forge-shell key-17\" ssh-ed25519 AAAA...",
                    "An authorized_keys line that runs forge-shell for key 17.",
                )],
                see_also: &[
                    "forged(8)",
                    "forge-keys(8)",
                    "forge-hook(8)",
                    "forgectl(8)",
                    "forge.toml(5)",
                    "sshd(8)",
                    "git-receive-pack(1)",
                ],
            },
        ),
        (
            "forge-hook.8",
            Page {
                command: forge::cli::forge_hook::Args::command(),
                exit: &[
                    (
                        Code::Success,
                        "Every update is accepted (pre-receive), or the updates are recorded (post-receive).",
                    ),
                    (
                        Code::Refused,
                        "At least one update is refused; git then makes none.",
                    ),
                    (Code::Usage, "The command line is wrong."),
                    (Code::Internal, "Internal error; the push is refused."),
                    (
                        Code::Unavailable,
                        "forged is unreachable or timed out; the push is refused.",
                    ),
                ],
                environment: &[
                    (
                        "FORGE_USER, FORGE_IDENTITY, FORGE_KEY_ID, FORGE_REPO, FORGE_SESSION",
                        "Who pushes where, set by forge-shell. Without them the push is local, and refused unless allow_local_push is set.",
                    ),
                    (
                        "FORGE_HOOK",
                        "The forge-hook the shims run, set by forge-shell; /usr/lib/forge/forge-hook otherwise.",
                    ),
                    (
                        "GIT_DIR, GIT_QUARANTINE_PATH",
                        "Set by git; the pushed objects are read from its quarantine.",
                    ),
                    FORGE_CONFIG,
                    FORGE_LOG_SHIM,
                ],
                files: &[
                    CONFIG_FILE,
                    SOCKET_FILE,
                    (
                        "/usr/lib/forge/hooks/pre-receive, /usr/lib/forge/hooks/post-receive",
                        "Links to forge-hook, which git runs as the hooks of every push (the package ships them).",
                    ),
                ],
                examples: &[],
                see_also: &[
                    "forge-shell(8)",
                    "forged(8)",
                    "forgectl(8)",
                    "forge.toml(5)",
                    "githooks(5)",
                ],
            },
        ),
        (
            "forge-keys.8",
            Page {
                command: forge::cli::forge_keys::Args::command(),
                exit: &[
                    (
                        Code::Success,
                        "Answered: the lines of a known key or certificate, or nothing for an unknown one (no login).",
                    ),
                    (
                        Code::Refused,
                        "Refused: the configuration cannot be used, or this account may not ask.",
                    ),
                    (Code::Usage, "The command line is wrong."),
                    (Code::Internal, "Internal error; nothing is printed."),
                    (
                        Code::Unavailable,
                        "forged is unreachable or timed out; nothing is printed, so no one logs in.",
                    ),
                ],
                environment: &[FORGE_CONFIG, FORGE_LOG_SHIM],
                files: &[
                    CONFIG_FILE,
                    SOCKET_FILE,
                    (
                        "/etc/ssh/sshd_config",
                        "Where AuthorizedKeysCommand and AuthorizedPrincipalsCommand name forge-keys, in a Match User git block.",
                    ),
                ],
                examples: &[
                    (
                        "AuthorizedKeysCommand /usr/lib/forge/forge-keys %u %t %k",
                        "In sshd_config: ask forge for each presented key.",
                    ),
                    (
                        "AuthorizedKeysCommandUser forge-keys",
                        "Run it as the unprivileged account of keys_user in forge.toml.",
                    ),
                ],
                see_also: &[
                    "sshd_config(5)",
                    "forge-shell(8)",
                    "forged(8)",
                    "forgectl(8)",
                    "forge.toml(5)",
                ],
            },
        ),
    ]
}

fn man_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("man")
}

/// Returns the preamble roff writes at the top of every document it renders.
fn preamble() -> String {
    Roff::new().render()
}

/// Returns a section rendered by clap_mangen, without roff's preamble and, when asked, without
/// its `.SH` heading line.
fn section(
    render: impl Fn(&mut dyn std::io::Write) -> std::io::Result<()>,
    keep_heading: bool,
) -> String {
    let mut bytes = Vec::new();
    render(&mut bytes).expect("writing into memory works");
    let text = String::from_utf8(bytes).expect("clap_mangen writes UTF-8");
    let text = text.strip_prefix(&preamble()).unwrap_or(&text);
    text.lines()
        .filter(|line| keep_heading || !line.starts_with(".SH "))
        .map(|line| format!("{line}\n"))
        .collect()
}

fn tagged(
    roff: &mut Roff,
    heading: &str,
    rows: &[(&str, &str)],
    tag: fn(String) -> clap_mangen::roff::Inline,
) {
    if rows.is_empty() {
        return;
    }
    roff.control("SH", [heading]);
    for (term, text) in rows {
        roff.control("TP", []);
        roff.text([tag(term.to_string())]);
        roff.text([roman(*text)]);
    }
}

fn render(name: &str, page: &Page) -> String {
    let mut command = page.command.clone().subcommand_value_name("command");
    command.build();
    let man = Man::new(command.clone());
    let mut out = preamble();
    // No date, so that a page changes only when what it says does; clap_mangen would write
    // the empty date as nothing, and man would take the source for it. Left-aligned and not
    // hyphenated: the pages are full of paths and options that read badly broken.
    out += &format!(
        ".TH {} 8 \"\" \"forge {VERSION}\" \"System Administration\"\n.ad l\n.nh\n",
        name.to_uppercase()
    );
    out += &section(|w| man.render_name_section(w), true);
    out += &section(|w| man.render_synopsis_section(w), true);
    out += &section(|w| man.render_description_section(w), true);
    out += &section(|w| man.render_options_section(w), true);
    if command.has_subcommands() {
        out += &commands(&command);
    }
    let mut extra = Roff::new();
    extra.control("SH", ["EXIT STATUS"]);
    for (code, text) in page.exit {
        extra.control("TP", []);
        extra.text([bold((*code as u8).to_string())]);
        extra.text([roman(*text)]);
    }
    tagged(&mut extra, "ENVIRONMENT", page.environment, bold);
    tagged(&mut extra, "FILES", page.files, italic);
    tagged(&mut extra, "EXAMPLES", page.examples, bold);
    extra.control("SH", ["SEE ALSO"]);
    let mut see_also = Vec::new();
    for (i, reference) in page.see_also.iter().enumerate() {
        let (name, section) = reference
            .split_once('(')
            .expect("a reference reads name(section)");
        see_also.push(bold(name));
        let comma = if i + 1 < page.see_also.len() { "," } else { "" };
        see_also.push(roman(format!("({section}{comma} ")));
    }
    extra.text(see_also);
    out += &section(|w| extra.to_writer(w), true);
    out
}

/// Returns the COMMANDS section: every command's synopsis, description and own options.
fn commands(root: &clap::Command) -> String {
    let mut roff = Roff::new();
    roff.control("SH", ["COMMANDS"]);
    roff.text([roman(
        "A command is a group and a verb (user add) or a single verb (grant). The --config \
         option above goes with any of them.",
    )]);
    let mut out = section(|w| roff.to_writer(w), true);
    for (path, command) in leaves(root, root.get_name()) {
        // --config is under OPTIONS once, and every command has -h.
        let command = command
            .mut_arg("config", |arg| arg.hide(true))
            .mut_arg("help", |arg| arg.hide(true));
        let mut heading = Roff::new();
        heading.control("SS", [path.as_str()]);
        out += &section(|w| heading.to_writer(w), true);
        let man = Man::new(command.clone());
        out += &section(|w| man.render_synopsis_section(w), false);
        if command.get_about().is_some() {
            out += ".PP\n";
            out += &section(|w| man.render_description_section(w), false);
        }
        if command.get_arguments().any(|arg| !arg.is_hide_set()) {
            out += &section(|w| man.render_options_section(w), false);
        }
    }
    out
}

/// Returns every command that has no subcommands of its own, with its full name.
fn leaves(command: &clap::Command, path: &str) -> Vec<(String, clap::Command)> {
    let mut found = Vec::new();
    for sub in command.get_subcommands() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        let path = format!("{path} {}", sub.get_name());
        if sub.has_subcommands() {
            found.extend(leaves(sub, &path));
        } else {
            found.push((path, sub.clone()));
        }
    }
    found
}

#[test]
fn every_page_matches_the_command_line_it_documents() {
    let update = std::env::var_os(UPDATE_VAR).is_some_and(|v| !v.is_empty());
    let mut stale = Vec::new();
    for (name, page) in pages() {
        let path = man_dir().join(name);
        let rendered = render(name.trim_end_matches(".8"), &page);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed == rendered {
            continue;
        }
        if update {
            std::fs::create_dir_all(man_dir()).unwrap();
            // Renamed into place: the other tests read these files at the same time.
            let new = path.with_extension("new");
            std::fs::write(&new, rendered).unwrap();
            std::fs::rename(&new, &path).unwrap();
            eprintln!("rewrote man/{name}");
        } else {
            stale.push(format!(
                "man/{name} is stale; run {UPDATE_VAR}=1 cargo test --test it man_pages"
            ));
        }
    }
    assert!(stale.is_empty(), "{}", stale.join("\n"));
}

/// Returns every man page in man/, generated or written by hand.
fn committed_pages() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(man_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "8" || e == "5"))
        .collect();
    found.sort();
    found
}

#[test]
fn every_page_renders_without_a_warning() {
    let groff = std::process::Command::new("groff")
        .arg("--version")
        .output();
    if groff.is_err() {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !ci,
            "groff is missing; install groff-base (scripts/test does)"
        );
        eprintln!("skipping: groff is missing; apt-get install groff-base to check the pages");
        return;
    }
    let pages = committed_pages();
    assert_eq!(pages.len(), 6, "man/ should hold 6 pages: {pages:?}");
    for page in pages {
        let rendered = std::process::Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-z"])
            .arg(&page)
            .output()
            .unwrap();
        let warnings = String::from_utf8_lossy(&rendered.stderr);
        assert!(
            rendered.status.success() && warnings.is_empty(),
            "{}: groff says:\n{warnings}",
            page.display()
        );
    }
}

#[test]
fn every_page_has_the_sections_an_admin_looks_for() {
    for page in committed_pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        for heading in [
            ".SH NAME",
            ".SH SYNOPSIS",
            ".SH DESCRIPTION",
            ".SH FILES",
            ".SH \"SEE ALSO\"",
        ] {
            assert!(text.contains(heading), "{} lacks {heading}", page.display());
        }
        if page.extension().is_some_and(|e| e == "8") {
            assert!(
                text.contains(".SH \"EXIT STATUS\""),
                "{} lacks EXIT STATUS",
                page.display()
            );
        }
    }
}

#[test]
fn forgectl_page_gives_every_command_its_options() {
    let text = std::fs::read_to_string(man_dir().join("forgectl.8")).unwrap();
    let mut root = forge::cli::forgectl::Args::command();
    root.build();
    let leaves = leaves(&root, "forgectl");
    assert!(leaves.len() > 20, "found only {} commands", leaves.len());
    for (path, command) in leaves {
        let heading = format!(".SS \"{path}\"");
        let start = text
            .find(&heading)
            .unwrap_or_else(|| panic!("forgectl.8 has no {heading}"));
        let end = text[start + 1..]
            .find("\n.S")
            .map_or(text.len(), |at| start + 1 + at);
        let entry = &text[start..end];
        for arg in command.get_arguments().filter(|a| !a.is_global_set()) {
            let name = match arg.get_long() {
                Some(long) => format!("\\-\\-{}", long.replace('-', "\\-")),
                None if arg.is_positional() => arg
                    .get_value_names()
                    .map_or_else(|| arg.get_id().to_string(), |names| names.join(" ")),
                None => continue,
            };
            if arg.get_id() == "help" {
                continue;
            }
            assert!(entry.contains(&name), "{path}: no {name} in\n{entry}");
        }
    }
}

#[test]
fn see_also_names_only_pages_that_exist_or_come_from_elsewhere() {
    let ours: Vec<String> = committed_pages()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for (_, page) in pages() {
        for reference in page.see_also {
            let (name, section) = reference.trim_end_matches(')').split_once('(').unwrap();
            if name.starts_with("forge") {
                let file = format!("{name}.{section}");
                assert!(
                    ours.contains(&file),
                    "SEE ALSO names {reference}, but man/{file} is missing"
                );
            }
        }
    }
}
