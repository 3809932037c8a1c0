//! The one escaper for text that came from a user or a repository and is shown to people, in
//! error messages and logs: control bytes, quotes and non-ASCII escaped, length bounded.

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
