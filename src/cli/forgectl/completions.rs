//! `forgectl completions bash|zsh|fish`: shell completion scripts, made from the clap types.

use clap::{CommandFactory, ValueEnum};
use std::io::Write;

/// The arguments of `forgectl completions`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The shells forgectl writes completions for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    /// Bash, through the bash-completion package
    Bash,
    /// The Z shell
    Zsh,
    /// The friendly interactive shell
    Fish,
}

impl Shell {
    fn generator(self) -> clap_complete::Shell {
        match self {
            Shell::Bash => clap_complete::Shell::Bash,
            Shell::Zsh => clap_complete::Shell::Zsh,
            Shell::Fish => clap_complete::Shell::Fish,
        }
    }
}

/// Writes the completion script of `shell` for forgectl to `out`.
pub fn write(shell: Shell, out: &mut dyn Write) -> std::io::Result<()> {
    let mut command = super::Args::command();
    let mut script = Vec::new();
    // clap_complete panics when its writer fails, so it writes into memory and a closed pipe
    // becomes an error here instead.
    clap_complete::generate(shell.generator(), &mut command, "forgectl", &mut script);
    out.write_all(&script)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(shell: Shell) -> String {
        let mut out = Vec::new();
        write(shell, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_shell_completes_the_command_groups_and_their_commands() {
        for shell in Shell::value_variants() {
            let script = script(*shell);
            for word in [
                "user",
                "key",
                "repo",
                "grant",
                "unused-since",
                "completions",
            ] {
                assert!(script.contains(word), "{shell:?} lacks {word}");
            }
        }
    }
}
