//! What a command did: its exit code, stdout and stderr, rendered into one text.

use std::fmt;
use std::io::Write;
use std::process::{Command, Stdio};

/// The result of running one command.
pub struct Outcome {
    pub command: String,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// Runs `command` to the end, feeding it `stdin`.
    pub fn of(command: &mut Command, stdin: Option<&[u8]>) -> Outcome {
        let rendered = format!("{command:?}");
        command
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {rendered}: {e}"));
        if let Some(input) = stdin {
            child.stdin.take().unwrap().write_all(input).unwrap();
        }
        let output = child.wait_with_output().unwrap();
        Outcome {
            command: rendered,
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Returns the first line forge wrote on stderr, among git's own lines.
    pub fn forge_line(&self) -> &str {
        self.stderr
            .lines()
            .find(|line| line.starts_with("forge: "))
            .unwrap_or("")
    }

    /// Returns stdout and stderr with the exit code, as one text to compare whole.
    pub fn render(&self) -> String {
        format!(
            "{}{}[exit {}]",
            self.stdout,
            self.stderr,
            self.code.map_or("signal".into(), |c| c.to_string())
        )
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "$ {}\n--- stdout\n{}--- stderr\n{}--- exit {:?}",
            self.command, self.stdout, self.stderr, self.code
        )
    }
}
