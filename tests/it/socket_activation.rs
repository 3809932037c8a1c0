//! Socket activation: forged serves on the socket systemd passes it (`LISTEN_FDS`,
//! `LISTEN_PID`) instead of binding its own, and leaves that socket's file alone when it stops,
//! because the file belongs to the socket unit. `systemd-socket-activate` (Debian's `systemd`
//! package) passes the socket exactly as systemd does, with no running systemd needed.

use crate::common;

use common::{DEADLINE, FORGED, TestEnv};
use std::path::Path;
use std::process::{Child, Command};
use std::time::Instant;

const SOCKET_ACTIVATE: &str = "/usr/bin/systemd-socket-activate";

/// Starts `systemd-socket-activate` listening on `socket`; on the first connection it execs
/// forged (same pid) with the listening socket as fd 3.
fn activate(env: &TestEnv, socket: &Path) -> Child {
    assert!(
        Path::new(SOCKET_ACTIVATE).exists(),
        "{SOCKET_ACTIVATE} is missing; apt-get install systemd"
    );
    std::fs::create_dir_all(socket.parent().unwrap()).unwrap();
    let child = env
        .as_forged(
            Command::new(SOCKET_ACTIVATE)
                .arg("--listen")
                .arg(socket)
                .arg(FORGED)
                .arg("--config")
                .arg(&env.config),
        )
        .spawn()
        .expect("systemd-socket-activate starts");
    let deadline = Instant::now() + DEADLINE;
    while !socket.exists() {
        assert!(
            Instant::now() < deadline,
            "systemd-socket-activate did not listen on {}\n{}",
            socket.display(),
            env.logs()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    child.wait().unwrap()
}

#[test]
fn forged_serves_on_the_socket_systemd_passes_and_leaves_its_file() {
    let env = TestEnv::new();
    let socket = env.socket();
    let mut forged = activate(&env, &socket);

    // The first connection starts forged; a forged that bound its own socket would find this
    // one live and refuse to start ("another forged is already listening").
    let status = env.forgectl(["status"]);
    assert_eq!(status.code, Some(0), "{status}\n{}", env.logs());
    assert!(status.stdout.starts_with("forged "), "{status}");
    env.forgectl_ok(["user", "add", "alice"]);
    assert!(env.forgectl_ok(["user", "list"]).stdout.contains("alice"));

    let stopped = terminate(&mut forged);
    assert!(
        stopped.success(),
        "forged stopped with {stopped}\n{}",
        env.logs()
    );
    assert!(
        std::fs::symlink_metadata(&socket).is_ok(),
        "forged removed the socket file systemd made\n{}",
        env.logs()
    );
}

#[test]
fn forged_refuses_a_passed_socket_that_forge_toml_does_not_name() {
    let env = TestEnv::new();
    let elsewhere = env.path("elsewhere/forged.sock");
    let mut forged = activate(&env, &elsewhere);

    // Connecting starts forged, which must refuse to serve a socket its clients cannot find.
    let _ = std::os::unix::net::UnixStream::connect(&elsewhere);
    let deadline = Instant::now() + DEADLINE;
    let status = loop {
        if let Some(status) = forged.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            terminate(&mut forged);
            panic!(
                "forged served a socket forge.toml does not name\n{}",
                env.logs()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(1), "{}", env.logs());
    let log = std::fs::read_to_string(env.path("forged.log")).unwrap();
    assert!(
        log.contains(&format!(
            "systemd passed a socket on {} but forge.toml says socket = {}; make forged.socket and forge.toml agree",
            elsewhere.display(),
            env.socket().display()
        )),
        "{log}"
    );
    assert!(!env.socket().exists(), "forged bound the configured socket");
}
