//! Fault points: named places where a test build can be made to die or stall on purpose, so
//! that the fault suite can stop forged (or forgectl) exactly between two steps of a write
//! and prove that nothing acknowledged is lost and nothing is left half done.
//!
//! They exist only in builds with the `fault-points` cargo feature, which the test suite turns
//! on and no release build has: without it [`point`] is an empty inline function and
//! `FORGE_FAULT` is never read. With it, `FORGE_FAULT` lists `POINT=ACTION` items separated by
//! commas, read once per process:
//!
//! - `kill`: the process sends itself SIGKILL there, as a crash or `kill -9` would;
//! - `pause:MS`: it sleeps MS milliseconds there (at most a minute), so a test can kill it from
//!   outside, stop it with SIGSTOP or race it at a known spot;
//! - `once-kill`: `kill`, but only if the file named by `FORGE_FAULT_ONCE` can be created (it
//!   must not exist yet), so that a restarted process passes the point.
//!
//! A point is named `area.step` (`push.after_pending`, `create.after_folder`); each caller
//! documents what has and has not happened when it is reached.

/// The environment variable that arms fault points in a `fault-points` build.
pub const ENV_VAR: &str = "FORGE_FAULT";

/// The environment variable naming the marker file of `once-kill`.
pub const ONCE_VAR: &str = "FORGE_FAULT_ONCE";

/// Reaches the fault point `name`: does what `FORGE_FAULT` says for it in a `fault-points`
/// build, and nothing at all otherwise.
#[cfg(not(feature = "fault-points"))]
#[inline(always)]
pub fn point(name: &'static str) {
    let _ = name;
}

/// Reaches the fault point `name`: does what `FORGE_FAULT` says for it.
#[cfg(feature = "fault-points")]
pub fn point(name: &'static str) {
    use std::sync::OnceLock;
    static ARMED: OnceLock<Vec<(String, Action)>> = OnceLock::new();
    let armed = ARMED.get_or_init(|| {
        std::env::var(ENV_VAR)
            .map(|spec| parse(&spec))
            .unwrap_or_default()
    });
    for (point, action) in armed {
        if point == name {
            action.run(name);
        }
    }
}

/// What an armed point does.
#[cfg(any(feature = "fault-points", test))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Kill,
    OnceKill,
    Pause(std::time::Duration),
}

#[cfg(any(feature = "fault-points", test))]
impl Action {
    #[cfg(feature = "fault-points")]
    fn run(self, name: &str) {
        match self {
            Action::Kill => kill(name),
            Action::OnceKill => {
                let Some(marker) = std::env::var_os(ONCE_VAR) else {
                    return;
                };
                let created = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(marker)
                    .is_ok();
                if created {
                    kill(name);
                }
            }
            Action::Pause(duration) => std::thread::sleep(duration),
        }
    }
}

#[cfg(feature = "fault-points")]
fn kill(name: &str) {
    eprintln!("fault point {name}: killing this process");
    let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    // SIGKILL cannot be caught; should it not be delivered at once, do not go on.
    std::process::abort();
}

/// The longest pause a point may be told to make.
#[cfg(any(feature = "fault-points", test))]
const MAX_PAUSE_MS: u64 = 60_000;

/// Returns the armed points of a `FORGE_FAULT` value; items that do not parse are left out
/// (and said on stderr), so a typo arms nothing rather than something else.
#[cfg(any(feature = "fault-points", test))]
fn parse(spec: &str) -> Vec<(String, Action)> {
    let mut armed = Vec::new();
    for item in spec
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
    {
        let parsed = item.split_once('=').and_then(|(point, action)| {
            let action = match action {
                "kill" => Action::Kill,
                "once-kill" => Action::OnceKill,
                _ => {
                    let ms: u64 = action.strip_prefix("pause:")?.parse().ok()?;
                    Action::Pause(std::time::Duration::from_millis(ms.min(MAX_PAUSE_MS)))
                }
            };
            Some((point.to_owned(), action))
        });
        match parsed {
            Some(point) => armed.push(point),
            None => eprintln!("{ENV_VAR}: '{item}' is not POINT=kill|once-kill|pause:MS; ignored"),
        }
    }
    armed
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn items_arm_points_and_bad_ones_arm_nothing() {
        assert_eq!(
            parse(
                "push.after_pending=kill, create.after_folder=pause:250,x=once-kill,bad,y=pause:z"
            ),
            [
                ("push.after_pending".to_owned(), Action::Kill),
                (
                    "create.after_folder".to_owned(),
                    Action::Pause(Duration::from_millis(250))
                ),
                ("x".to_owned(), Action::OnceKill),
            ]
        );
        assert_eq!(
            parse("a=pause:999999999"),
            [(
                "a".to_owned(),
                Action::Pause(Duration::from_millis(MAX_PAUSE_MS))
            )]
        );
        assert!(parse("").is_empty());
    }

    #[test]
    fn an_unarmed_point_does_nothing() {
        point("no.such_point");
    }
}
