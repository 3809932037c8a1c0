//! What an admin hands forgectl besides its arguments: files named on the command line (`-` for
//! standard input), read whole with a size bound, and the answer to a yes-or-no question.

use crate::exit::{self, Classify, Code};
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::Path;

/// Why an admin's input could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file (or standard input) could not be read as text.
    #[error("cannot read {what}")]
    Read {
        /// The file, or `standard input`.
        what: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The input is larger than anything forge accepts there.
    #[error("{what} is larger than {max} bytes; give the right file")]
    TooLarge {
        /// The file, or `standard input`.
        what: String,
        /// The limit.
        max: u64,
    },
    /// There is no terminal to ask on.
    #[error("no terminal to ask on, so nothing was written; {hint}")]
    NoTerminal {
        /// What to give instead of an answer.
        hint: String,
    },
}

impl Classify for Error {
    fn code(&self) -> Code {
        match self {
            Error::Read { source, .. } => exit::io_code(source),
            Error::TooLarge { .. } => Code::Refused,
            Error::NoTerminal { .. } => Code::Usage,
        }
    }
}

/// Returns the text of `file` (standard input for `-`), refusing more than `max` bytes, a
/// missing file, a folder and anything that is not UTF-8.
pub fn read_text(file: &Path, max: u64) -> Result<String, Error> {
    let what = if file.as_os_str() == "-" {
        "standard input".to_owned()
    } else {
        file.display().to_string()
    };
    let read = |source| Error::Read {
        what: what.clone(),
        source,
    };
    let mut limited: Box<dyn Read> = if file.as_os_str() == "-" {
        Box::new(std::io::stdin().take(max + 1))
    } else {
        Box::new(std::fs::File::open(file).map_err(read)?.take(max + 1))
    };
    let mut text = String::new();
    limited.read_to_string(&mut text).map_err(read)?;
    if text.len() as u64 > max {
        return Err(Error::TooLarge { what, max });
    }
    Ok(text)
}

/// Asks `question` on the terminal and returns whether the answer is yes; without a terminal,
/// refuses with `hint` (what to give instead, `--yes` say).
pub fn confirm(question: &str, hint: &str) -> Result<bool, Error> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::NoTerminal { hint: hint.into() });
    }
    let read = |source| Error::Read {
        what: "the answer".into(),
        source,
    };
    print!("{question} [y/N] ");
    std::io::stdout().flush().map_err(read)?;
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(read)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_or_a_folder_is_refused_not_a_bug() {
        let folder = tempfile::tempdir().unwrap();
        let missing = read_text(&folder.path().join("nope.pub"), 100).unwrap_err();
        assert_eq!(missing.code(), Code::Refused);
        let directory = read_text(folder.path(), 100).unwrap_err();
        assert_eq!(directory.code(), Code::Refused, "{directory}");
    }

    #[test]
    fn text_over_the_bound_or_not_utf8_is_refused() {
        let folder = tempfile::tempdir().unwrap();
        let big = folder.path().join("big");
        std::fs::write(&big, "x".repeat(101)).unwrap();
        assert!(matches!(read_text(&big, 100), Err(Error::TooLarge { .. })));
        let binary = folder.path().join("bin");
        std::fs::write(&binary, [0xff, 0xfe]).unwrap();
        assert_eq!(read_text(&binary, 100).unwrap_err().code(), Code::Refused);
        std::fs::write(&big, "ok").unwrap();
        assert_eq!(read_text(&big, 100).unwrap(), "ok");
    }
}
