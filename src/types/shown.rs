//! The one escaper for text that came from a user or a repository and is shown to people, in
//! error messages, logs and forgectl's output: control bytes, invisible and direction-changing
//! characters (anything `char::escape_debug` escapes) written as `\u{..}` escapes, so no byte
//! of it can move a terminal's cursor, colour it, reorder it or start a new log line.

use std::fmt;

/// Returns user text made safe to put in an error message: escaped and at most 64 characters.
pub fn shown(text: &str) -> String {
    const MAX_CHARS: usize = 64;
    let mut out: String = text
        .chars()
        .take(MAX_CHARS)
        .flat_map(char::escape_debug)
        .collect();
    if text.chars().nth(MAX_CHARS).is_some() {
        out.push_str("...");
    }
    out
}

/// User text of any length shown as it is except for what a terminal or a log acts on,
/// escaped as `\u{1b}`, `\n`, `\u{202e}`; quotes and backslashes are left as they are, so
/// text escaped once reads the same when escaped again. For structured log fields
/// (`ref_name = %Escaped(&name)`) and listing cells.
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            write_char(f, c)?;
        }
        Ok(())
    }
}

/// Returns `text` escaped as [`Escaped`] shows it.
pub fn escaped(text: &str) -> String {
    Escaped(text).to_string()
}

fn write_char(f: &mut fmt::Formatter<'_>, c: char) -> fmt::Result {
    let escape = c.escape_debug();
    if matches!(c, '\\' | '\'' | '"') || escape.len() == 1 {
        fmt::Write::write_char(f, c)
    } else {
        write!(f, "{escape}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_terminal_or_a_log_acts_on_is_escaped_and_nothing_else() {
        let rows = [
            ("plain/ref-name_1.0", "plain/ref-name_1.0"),
            ("a\nb", "a\\nb"),
            ("red \u{1b}[31m", "red \\u{1b}[31m"),
            ("cr\r", "cr\\r"),
            ("tab\t", "tab\\t"),
            ("right\u{202e}left", "right\\u{202e}left"),
            ("c1\u{9b}", "c1\\u{9b}"),
            ("zero\u{200b}width", "zero\\u{200b}width"),
            ("Jürgen's \"key\" \\ é", "Jürgen's \"key\" \\ é"),
        ];
        for (text, expected) in rows {
            assert_eq!(escaped(text), expected, "{text:?}");
            assert_eq!(
                escaped(&escaped(text)),
                expected,
                "escaping twice: {text:?}"
            );
        }
        assert_eq!(escaped(&"x".repeat(300)).len(), 300, "no length limit");
    }

    #[test]
    fn a_log_line_never_carries_a_raw_newline_or_escape_from_user_text() {
        use std::sync::{Arc, Mutex};
        #[derive(Clone, Default)]
        struct Buffer(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buffer {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .without_time()
            .finish();
        let path = "docs/x\n2026-01-01 INFO forged: access granted user=root\u{1b}[2J";
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(path = %Escaped(path), "ref update decided");
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.matches('\n').count(), 1, "{text:?}");
        assert!(text.ends_with('\n') && !text.contains('\u{1b}'), "{text:?}");
        assert!(text.contains("path=docs/x\\n2026-01-01"), "{text:?}");
    }
}
