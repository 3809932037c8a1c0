//! The command line of `forge-hook`.

use clap::{Parser, ValueEnum};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The git hook of forge repositories: asks forged about each pushed ref update
///
/// git runs it as the hook itself: run under the name `pre-receive` or `post-receive` (the
/// package's hooks folder, core.hooksPath, holds links of those names), it is that hook, with
/// no shell in between. A source tree's hooks/ holds shell shims that run it instead. Exit codes:
/// 0 accepted, 1 refused, 70 internal error, 75 forged unreachable (the push is refused).
#[derive(Debug, Parser)]
#[command(name = "forge-hook", version)]
pub struct Args {
    /// The configuration file [default: $FORGE_CONFIG, else /etc/forge/forge.toml]
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Which hook git is running
    #[arg(value_enum)]
    pub hook: Hook,
}

/// The git hooks forge-hook serves.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Hook {
    /// Decide every update before git makes any
    PreReceive,
    /// Report the updates git made
    PostReceive,
}

impl Args {
    /// Returns the arguments of `argv`: as given when the program's name (the file name of
    /// its first item) is anything but a hook's, else that hook, with the rest of `argv` as
    /// options (`--config`).
    pub fn from_argv(argv: impl IntoIterator<Item = OsString>) -> Result<Args, clap::Error> {
        let mut argv: Vec<OsString> = argv.into_iter().collect();
        let hook = argv
            .first()
            .and_then(|zero| Path::new(zero).file_name())
            .and_then(|name| name.to_str())
            .filter(|name| matches!(*name, "pre-receive" | "post-receive"))
            .map(OsString::from);
        if let Some(hook) = hook {
            argv[0] = "forge-hook".into();
            argv.push(hook);
        }
        Args::try_parse_from(argv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(argv: &[&str]) -> Result<Args, clap::Error> {
        Args::from_argv(argv.iter().map(OsString::from))
    }

    #[test]
    fn run_under_a_hook_name_it_is_that_hook() {
        let pre = args(&["/usr/lib/forge/hooks/pre-receive"]).unwrap();
        assert!(matches!(pre.hook, Hook::PreReceive));
        let post = args(&["hooks/post-receive", "--config", "/etc/f.toml"]).unwrap();
        assert!(matches!(post.hook, Hook::PostReceive));
        assert_eq!(post.config, Some(PathBuf::from("/etc/f.toml")));
    }

    #[test]
    fn run_as_forge_hook_it_needs_the_hook_named() {
        let named = args(&["/usr/lib/forge/forge-hook", "pre-receive"]).unwrap();
        assert!(matches!(named.hook, Hook::PreReceive));
        assert!(args(&["/usr/lib/forge/forge-hook"]).is_err());
        assert!(args(&["update", "refs/heads/main"]).is_err());
    }
}
