//! Issue #11, "any local account can take git access down": a hostile local account (`nobody`)
//! against a real forged, holding connections, trickling bytes and sending long lines; and the
//! largest push the hook must still get through, over a real sshd and git.
//!
//! The hostile clients are small Perl scripts run as `nobody` (the tests run as root), since
//! the peer uid forged sees is the connecting process's.

use crate::common;

use common::{Outcome, TestEnv};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NOBODY: u32 = 65534;

/// Opens `$n` connections to `$socket`, says `ready <opened>`, holds them `$secs` seconds.
const HOLD: &str = r#"
use IO::Socket::UNIX;
my ($socket, $n, $secs) = @ARGV;
my @held;
for (1 .. $n) {
    my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $socket) or last;
    push @held, $s;
}
$| = 1;
print "ready " . scalar(@held) . "\n";
sleep $secs;
"#;

/// Sends the start of a request one byte every 200 ms for up to `$secs` seconds; prints how
/// many seconds passed until forged closed the connection, or `open` if it never did.
const TRICKLE: &str = r#"
use IO::Socket::UNIX; use IO::Select; use Time::HiRes qw(time);
$SIG{PIPE} = 'IGNORE';
my ($socket, $secs) = @ARGV;
my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $socket) or die "connect: $!";
my $select = IO::Select->new($s);
my $start = time;
my $text = '{"v":1,"op":"whoami","key":1' . (' ' x 1000);
for my $i (0 .. length($text) - 1) {
    last if time - $start > $secs;
    if (!defined syswrite($s, substr($text, $i, 1)) || $select->can_read(0.2)) {
        printf "closed %.1f\n", time - $start;
        exit 0;
    }
}
print "open\n";
"#;

/// Sends `$n` lines of 5 MiB at once, each on its own connection, and prints each answer.
const LONG: &str = r#"
use IO::Socket::UNIX;
$SIG{PIPE} = 'IGNORE';
my ($socket, $n) = @ARGV;
my $line = '{"v":1,"op":"whoami","key":1,"pad":"' . ('a' x (5 << 20)) . '"}' . "\n";
my @kids;
for (1 .. $n) {
    my $pid = fork();
    if (!$pid) {
        my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $socket) or die "connect: $!";
        syswrite($s, $line);
        my $answer = <$s>;
        print(defined $answer ? $answer : "no answer\n");
        exit 0;
    }
    push @kids, $pid;
}
waitpid($_, 0) for @kids;
"#;

/// Asks `$n` small questions in a row on one connection; prints how many were answered.
const ASK: &str = r#"
use IO::Socket::UNIX;
my ($socket, $n) = @ARGV;
my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $socket) or die "connect: $!";
my $answered = 0;
for (1 .. $n) {
    print $s '{"v":1,"op":"whoami","key":1}' . "\n";
    my $answer = <$s>;
    last unless defined $answer;
    $answered++;
}
print "$answered\n";
"#;

/// Runs Perl `script` with `args` as `nobody`.
fn as_nobody(script: &str, args: &[&str]) -> Command {
    let mut command = Command::new("/usr/bin/perl");
    command
        .arg("-e")
        .arg(script)
        .args(args)
        .env_clear()
        .uid(NOBODY)
        .gid(NOBODY)
        .stdin(Stdio::null());
    command
}

/// Returns forged's resident memory high-water mark in KiB.
fn peak_memory_kib(env: &TestEnv) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", env.forged_pid())).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/<pid>/status")
}

fn log_lines(env: &TestEnv) -> usize {
    std::fs::read_to_string(env.path("forged.log"))
        .unwrap_or_default()
        .lines()
        .count()
}

fn with_alice() -> TestEnv {
    let mut env = TestEnv::new();
    env.start_forged();
    env.add_user("alice");
    env.forgectl_ok(["repo", "create", "acme/widgets"]);
    env.forgectl_ok(["grant", "acme/widgets", "alice", "write"]);
    env
}

/// A hostile client, killed when the test ends however it ends.
struct Hostile(Child);

impl Drop for Hostile {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `nobody` holding `n` connections for `secs` seconds; returns once they are open.
fn hold(env: &TestEnv, n: usize, secs: u64) -> Hostile {
    let socket = env.socket().display().to_string();
    let mut child = as_nobody(HOLD, &[&socket, &n.to_string(), &secs.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("perl runs");
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut ready,
    )
    .unwrap();
    assert!(ready.starts_with("ready "), "{ready:?}");
    Hostile(child)
}

/// Regression test for #11: an account with no role that holds a thousand silent connections
/// takes no login from the git account, and forged logs the flood in a few lines.
#[test]
fn regression_11_silent_connections_of_another_account_take_no_login_away() {
    if !common::running_as_root("the hostile client runs as nobody") {
        return;
    }
    let mut env = with_alice();
    env.start_sshd();
    let alice = env.as_user("alice");
    let before = log_lines(&env);
    let hostile = hold(&env, 1100, 15);

    let started = Instant::now();
    let listed = alice.git(["ls-remote", "forge:acme/widgets"]);
    assert_eq!(listed.code, Some(0), "{listed}\n{}", env.logs());
    assert!(started.elapsed() < Duration::from_secs(10));
    env.forgectl_ok(["status"]);

    drop(hostile);
    let grown = log_lines(&env) - before;
    assert!(grown < 500, "forged's log grew by {grown} lines");
}

/// Regression test for #11: an account with no role asking in a loop is refused each time,
/// and forged logs that once per interval, not once per request.
#[test]
fn regression_11_a_stranger_asking_in_a_loop_does_not_flood_the_log() {
    if !common::running_as_root("the hostile client runs as nobody") {
        return;
    }
    let env = with_alice();
    let socket = env.socket().display().to_string();
    let before = log_lines(&env);
    let outcome = Outcome::of(&mut as_nobody(ASK, &[&socket, "3000"]), None);
    assert_eq!(outcome.stdout.trim(), "3000", "{outcome}");
    let grown = log_lines(&env) - before;
    assert!(grown < 100, "forged's log grew by {grown} lines");
}

/// Sets forged's soft file limit to `soft` with prlimit(1).
fn limit_files(env: &TestEnv, soft: usize) {
    let outcome = Outcome::of(
        Command::new("prlimit")
            .arg("--pid")
            .arg(env.forged_pid().to_string())
            .arg(format!("--nofile={soft}:")),
        None,
    );
    assert_eq!(outcome.code, Some(0), "{outcome}");
}

/// Regression test for #11: when forged is out of file descriptors, its accept loop pauses and
/// logs the failure once in a while instead of spinning and logging every attempt, and serves
/// again once descriptors are free.
#[test]
fn regression_11_failing_accepts_pause_and_log_once() {
    if !common::running_as_root("prlimit on forged needs root") {
        return;
    }
    let env = with_alice();
    let open = std::fs::read_dir(format!("/proc/{}/fd", env.forged_pid()))
        .unwrap()
        .count();
    let before = log_lines(&env);
    limit_files(&env, open);
    let waiting: Vec<std::os::unix::net::UnixStream> = (0..20)
        .filter_map(|_| std::os::unix::net::UnixStream::connect(env.socket()).ok())
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    let grown = log_lines(&env) - before;
    limit_files(&env, 20_000);
    assert!(!waiting.is_empty());
    let log = std::fs::read_to_string(env.path("forged.log")).unwrap();
    assert!(
        log.contains("accepting a connection failed"),
        "{}",
        env.logs()
    );
    assert!(grown < 100, "forged's log grew by {grown} lines");
    drop(waiting);
    env.forgectl_ok(["status"]);
}

/// Regression test for #11: a connection that sends a byte at a time is cut at the request
/// deadline, however steadily it trickles.
#[test]
fn regression_11_a_trickling_connection_is_cut_at_the_deadline() {
    if !common::running_as_root("the hostile client runs as nobody") {
        return;
    }
    let env = with_alice();
    let socket = env.socket().display().to_string();
    let outcome = Outcome::of(&mut as_nobody(TRICKLE, &[&socket, "20"]), None);
    assert_eq!(outcome.code, Some(0), "{outcome}");
    let seconds: f64 = outcome
        .stdout
        .trim()
        .strip_prefix("closed ")
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("never closed: {outcome}"));
    assert!(seconds < 12.0, "closed after {seconds} s");
}

/// Regression test for #11: lines of 5 MiB from an account with no role are refused after at
/// most its limit, a dozen at once, and forged's memory does not grow by their size.
#[test]
fn regression_11_long_lines_from_an_account_without_a_role_are_cut_at_its_limit() {
    if !common::running_as_root("the hostile client runs as nobody") {
        return;
    }
    let env = with_alice();
    let socket = env.socket().display().to_string();
    let peak_before = peak_memory_kib(&env);
    let outcome = Outcome::of(&mut as_nobody(LONG, &[&socket, "12"]), None);
    assert_eq!(outcome.code, Some(0), "{outcome}");
    let answers: Vec<&str> = outcome.stdout.lines().collect();
    assert_eq!(answers.len(), 12, "{outcome}");
    // An account with no role has 8 connections at once: the ones over its cap are told
    // "busy" before forged reads a byte, and every other line is cut at the limit.
    let cut = answers
        .iter()
        .filter(|answer| answer.contains("request longer than 65536 bytes"))
        .count();
    for answer in &answers {
        assert!(
            answer.contains("request longer than 65536 bytes")
                || answer.contains("forged is busy; try again"),
            "{answer:.200}"
        );
    }
    assert!(cut >= 1, "no line was read and cut: {outcome}");
    let grown = peak_memory_kib(&env).saturating_sub(peak_before);
    assert!(grown < 32 << 10, "forged's peak memory grew by {grown} KiB");
    env.forgectl_ok(["status"]);
}

/// Makes `big` in alice's home: one commit of 5,000 files with longish names on main and on
/// 100 branches `b000`..`b099`.
fn big_repository(alice: &common::sshd::Person) {
    assert_eq!(alice.git(["init", "-q", "-b", "main", "big"]).code, Some(0));
    let mut stream = String::from(
        "commit refs/heads/main\nmark :1\ncommitter alice <alice@example.com> 1700000000 +0000\n\
         data 5\nmany\n",
    );
    for i in 0..5000 {
        stream.push_str(&format!(
            "M 100644 inline d{:02}/a-file-with-a-longish-name-{i:04}.txt\ndata 2\n{}\n",
            i % 50,
            i % 10
        ));
    }
    for b in 0..100 {
        stream.push_str(&format!("reset refs/heads/b{b:03}\nfrom :1\n\n"));
    }
    let imported = Outcome::of(
        Command::new("git")
            .arg("-C")
            .arg(alice.home.join("big"))
            .args(["fast-import", "--quiet"])
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1"),
        Some(stream.as_bytes()),
    );
    assert_eq!(imported.code, Some(0), "{imported}");
}

/// Regression test for #11: a push of 100 new branches of a repository with 5,000 files (every
/// path of each sent for path rules: more than any one request line may hold) is accepted and
/// audited.
#[test]
fn regression_11_a_push_of_100_branches_of_5000_files_is_accepted_and_audited() {
    let mut env = with_alice();
    env.start_sshd();
    let alice = env.as_user("alice");
    big_repository(&alice);

    let pushed = alice.git_in(
        "big",
        [
            "push",
            "-q",
            "forge:acme/widgets",
            "refs/heads/*:refs/heads/*",
        ],
    );
    assert_eq!(pushed.code, Some(0), "{pushed}\n{}", env.logs());

    let listed = env.forgectl_ok(["audit", "--json", "--limit", "1000"]);
    let entries: Vec<serde_json::Value> = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(entries.len(), 101, "{listed}");
    assert!(entries.iter().all(|entry| entry["kind"] == "create"));
    let status = env.forgectl_ok(["status", "--json"]);
    assert!(status.stdout.contains("\"pending_updates\": 0"), "{status}");
}

/// Regression test for #11: a large push sent in several requests is refused whole when an
/// update in a later request is refused.
#[test]
fn regression_11_a_refusal_in_any_batch_of_a_large_push_refuses_it_all() {
    let mut env = with_alice();
    let policy = env.path("policy.toml");
    std::fs::write(
        &policy,
        "[[rule]]\nrepos = [\"acme/widgets\"]\nperm = \"-\"\nrefs = [\"refs/heads/b099\"]\n\
         users = [\"alice\"]\n\n[[rule]]\nrepos = [\"acme/widgets\"]\nperm = \"RW+\"\n\
         users = [\"alice\"]\n",
    )
    .unwrap();
    env.forgectl_ok(["policy", "apply", policy.to_str().unwrap()]);
    env.start_sshd();
    let alice = env.as_user("alice");
    big_repository(&alice);

    let pushed = alice.git_in(
        "big",
        [
            "push",
            "-q",
            "forge:acme/widgets",
            "refs/heads/*:refs/heads/*",
        ],
    );
    assert_ne!(pushed.code, Some(0), "{pushed}");
    assert!(pushed.stderr.contains("refs/heads/b099"), "{pushed}");
    let log = std::fs::read_to_string(env.path("forged.log")).unwrap();
    assert!(
        log.matches("ref update decided").count() > 100,
        "every batch was decided"
    );
    let repository = git2::Repository::open_bare(env.path("repos/acme/widgets.git")).unwrap();
    assert_eq!(repository.references().unwrap().count(), 0);
    let listed = env.forgectl_ok(["audit", "--json"]);
    assert_eq!(listed.stdout.trim(), "[]", "{listed}");
}

/// Sends `$n` whoami lines on one connection without ever reading an answer, then holds the
/// connection `$secs` seconds: forged's answers fill the socket buffer and its writes block.
const NEVER_READS: &str = r#"
use IO::Socket::UNIX;
$SIG{PIPE} = 'IGNORE';
my ($socket, $n, $secs) = @ARGV;
my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $socket) or die "connect: $!";
$s->blocking(0);
my $line = '{"v":1,"op":"whoami","key":1}' . "\n";
for (1 .. $n) { last unless defined syswrite($s, $line); }
$| = 1;
print "ready\n";
sleep $secs;
"#;

/// Sends the first half of a request line and holds the connection `$secs` seconds. forged
/// may have refused the connection already (the account's cap): the write then fails quietly.
const HALF_LINE: &str = r#"
use IO::Socket::UNIX;
$SIG{PIPE} = 'IGNORE';
my ($socket, $secs) = @ARGV;
my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $socket) or die "connect: $!";
syswrite($s, '{"v":1,"op":"who');
$| = 1;
print "ready\n";
sleep $secs;
"#;

/// Starts a hostile `script` as nobody and returns once it printed its first line.
fn hostile(script: &str, args: &[&str]) -> Hostile {
    let mut child = as_nobody(script, args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("perl runs");
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut ready,
    )
    .unwrap();
    assert!(ready.starts_with("ready"), "{ready:?}");
    Hostile(child)
}

/// Writes a policy file of `rules` rules over `repos` repository patterns; `variant` changes
/// every refex, so applying one after the other is a change each time.
fn large_policy(path: &std::path::Path, rules: usize, variant: usize) {
    let mut text = String::new();
    for n in 0..rules {
        text.push_str(&format!(
            "[[rule]]\nrepos = [\"team{}/*\"]\nperm = \"RW\"\nrefs = [\"refs/heads/v{variant}-{}\"]\nusers = [\"alice\"]\n\n",
            n % 50,
            n % 100
        ));
    }
    std::fs::write(path, text).unwrap();
}

/// Issue #13, hostile peers on the socket while a large `policy apply` runs: a thousand silent
/// connections, half lines, 5 MiB lines, a client that never reads, and policy applies of 2,000
/// rules, all at once; every clone and ls-remote of a user succeeds (none is denied because the
/// database was busy), `forgectl status` answers, and forged's memory stays bounded.
#[test]
fn hostile_peers_and_large_policy_applies_deny_no_clone() {
    if !common::running_as_root("the hostile clients run as nobody") {
        return;
    }
    let mut env = with_alice();
    env.start_sshd();
    let alice = env.as_user("alice");
    alice.start_work("work");
    alice.commit("work", "README", "hello\n");
    let pushed = alice.git_in("work", ["push", "-q", "forge:acme/widgets", "HEAD:main"]);
    assert_eq!(pushed.code, Some(0), "{pushed}\n{}", env.logs());
    let socket = env.socket().display().to_string();
    let peak_before = peak_memory_kib(&env);

    let _silent = hold(&env, 1000, 60);
    let _half: Vec<Hostile> = (0..4)
        .map(|_| hostile(HALF_LINE, &[&socket, "60"]))
        .collect();
    let _never_reads = hostile(NEVER_READS, &[&socket, "200000", "60"]);
    let long = std::thread::spawn({
        let socket = socket.clone();
        move || Outcome::of(&mut as_nobody(LONG, &[&socket, "6"]), None)
    });
    let policy = [env.path("policy-a.toml"), env.path("policy-b.toml")];
    large_policy(&policy[0], 2000, 0);
    large_policy(&policy[1], 2000, 1);
    let applies = std::thread::spawn({
        let (config, policy) = (env.config.clone(), policy.clone());
        move || {
            (0..4)
                .map(|n| {
                    Outcome::of(
                        Command::new(common::FORGECTL)
                            .arg("--config")
                            .arg(&config)
                            .args(["policy", "apply"])
                            .arg(&policy[n % 2]),
                        None,
                    )
                })
                .collect::<Vec<_>>()
        }
    });

    for n in 0..12 {
        let listed = alice.git(["ls-remote", "forge:acme/widgets"]);
        assert_eq!(
            listed.code,
            Some(0),
            "ls-remote {n}: {listed}\n{}",
            env.logs()
        );
        if n % 4 == 0 {
            let clone = format!("clone-{n}");
            let cloned = alice.git(["clone", "-q", "forge:acme/widgets", clone.as_str()]);
            assert_eq!(cloned.code, Some(0), "clone {n}: {cloned}\n{}", env.logs());
        }
    }
    for (n, applied) in applies.join().unwrap().iter().enumerate() {
        assert_eq!(applied.code, Some(0), "policy apply {n}: {applied}");
    }
    let long = long.join().unwrap();
    assert_eq!(long.code, Some(0), "{long}");
    env.forgectl_ok(["status"]);
    let grown = peak_memory_kib(&env).saturating_sub(peak_before);
    assert!(
        grown < 128 << 10,
        "forged's peak memory grew by {grown} KiB"
    );
}
