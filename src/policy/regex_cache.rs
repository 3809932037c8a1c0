//! Compiled regexes of refexes and repository patterns, shared across policy builds.
//!
//! forged rebuilds the whole policy on every change (a `forgectl grant` at 1,000 rules), and
//! `Document::to_parts` builds it once more to check it; compiling the same texts again is
//! most of that time. A compiled [`Regex`] is immutable and cheap to clone (it shares its
//! program), so the same text always gives a clone of the first compile. The cache holds at
//! most [`LIMIT`] texts and starts over when full, so texts that come and go cannot grow it
//! without bound.

use regex::Regex;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, PoisonError};

/// The most texts kept; past it the cache is emptied and fills again.
const LIMIT: usize = 16_384;

/// Compiled regexes by the exact text compiled.
static CACHE: LazyLock<Mutex<HashMap<String, Regex>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Returns `pattern` compiled, from the cache when it was compiled before; an error is not
/// cached (a policy that holds one does not build, so it is not asked again and again).
pub(crate) fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    if let Some(regex) = CACHE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(pattern)
    {
        return Ok(regex.clone());
    }
    // Compiled outside the lock: another thread may compile the same text meanwhile, and
    // both results are the same regex.
    let regex = Regex::new(pattern)?;
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    if cache.len() >= LIMIT {
        cache.clear();
    }
    cache.insert(pattern.to_owned(), regex.clone());
    Ok(regex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_text_matches_the_same_and_errors_are_errors() {
        let first = compile("^refs/heads/(main|dev)$").unwrap();
        let second = compile("^refs/heads/(main|dev)$").unwrap();
        assert_eq!(first.as_str(), second.as_str());
        assert!(second.is_match("refs/heads/dev"));
        assert!(!second.is_match("refs/heads/devx"));
        assert!(compile("^refs/heads/(").is_err());
        assert!(compile("^refs/heads/(").is_err());
    }
}
