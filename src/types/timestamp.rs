//! [`Timestamp`]: an instant in whole UTC seconds, as admins give it (`YYYY-MM-DD` or RFC 3339),
//! as the wire carries it (RFC 3339 text), as the store keeps it (unix seconds) and as OpenSSH's
//! `expiry-time` option spells it. Parsing and formatting are done by `jiff`.

use crate::exit::{Classify, Code};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The earliest instant accepted: 1970-01-01T00:00:00Z.
const MIN_SECOND: i64 = 0;

/// The latest instant accepted: 9999-12-30T22:00:00Z, jiff's last one (OpenSSH's four-digit
/// years go a little further).
const MAX_SECOND: i64 = 253_402_207_200;

/// Errors from reading a date or a time.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The text is neither a `YYYY-MM-DD` date nor an RFC 3339 timestamp.
    #[error(
        "'{text}' is not a date (YYYY-MM-DD) or an RFC 3339 time (such as 2030-01-31T12:00:00Z)"
    )]
    Unreadable {
        /// The text as given, escaped and shortened for display.
        text: String,
        /// What jiff found wrong.
        #[source]
        source: jiff::Error,
    },
    /// The instant is before 1970 or after the year 9999.
    #[error("'{text}' is outside the years 1970 to 9999")]
    OutOfRange {
        /// The text as given, escaped and shortened for display.
        text: String,
    },
}

/// An instant, in whole seconds since the Unix epoch, between 1970 and the end of 9999.
///
/// Serialized as RFC 3339 UTC text (`2030-01-31T00:00:00Z`); deserializing reads it like
/// [`Timestamp::parse`]. Smaller is earlier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Timestamp(i64);

impl Timestamp {
    /// Parses a date or a time as an admin gives it.
    ///
    /// `YYYY-MM-DD` is the first second of that day in UTC (00:00:00Z), so a key that "expires
    /// on 2030-01-31" no longer works on that day, as GitLab reads it. Anything else must be an
    /// RFC 3339 time with an offset (`2030-01-31T12:00:00Z`, `2030-01-31T14:00:00+02:00`);
    /// fractions of a second are dropped.
    pub fn parse(text: &str) -> Result<Timestamp, Error> {
        let unreadable = |source| Error::Unreadable {
            text: shown(text),
            source,
        };
        let instant = if is_plain_date(text) {
            let date: jiff::civil::Date = text.parse().map_err(unreadable)?;
            date.to_zoned_datetime(jiff::tz::TimeZone::UTC)
                .map_err(unreadable)?
                .timestamp()
        } else {
            text.parse::<jiff::Timestamp>().map_err(unreadable)?
        };
        Timestamp::from_unix(instant.as_second())
            .ok_or_else(|| Error::OutOfRange { text: shown(text) })
    }

    /// Returns the instant `second` seconds after the Unix epoch, if it is in range.
    pub fn from_unix(second: i64) -> Option<Timestamp> {
        (MIN_SECOND..=MAX_SECOND)
            .contains(&second)
            .then_some(Timestamp(second))
    }

    /// Returns the current time, in whole seconds.
    pub fn now() -> Timestamp {
        let second = jiff::Timestamp::now().as_second();
        Timestamp(second.clamp(MIN_SECOND, MAX_SECOND))
    }

    /// Returns the seconds since the Unix epoch, as the store keeps them.
    pub fn unix(self) -> i64 {
        self.0
    }

    /// Returns the instant as OpenSSH's `expiry-time` option wants it: `YYYYMMDDHHMMSSZ`, UTC.
    pub fn to_openssh(self) -> String {
        self.jiff().strftime("%Y%m%d%H%M%SZ").to_string()
    }

    fn jiff(self) -> jiff::Timestamp {
        jiff::Timestamp::from_second(self.0).expect("the range is checked when made")
    }
}

impl fmt::Display for Timestamp {
    /// Writes RFC 3339 in UTC, without fractions: `2030-01-31T00:00:00Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.jiff().strftime("%Y-%m-%dT%H:%M:%SZ"))
    }
}

impl FromStr for Timestamp {
    type Err = Error;

    fn from_str(text: &str) -> Result<Timestamp, Error> {
        Timestamp::parse(text)
    }
}

impl TryFrom<String> for Timestamp {
    type Error = Error;

    fn try_from(text: String) -> Result<Timestamp, Error> {
        Timestamp::parse(&text)
    }
}

impl From<Timestamp> for String {
    fn from(timestamp: Timestamp) -> String {
        timestamp.to_string()
    }
}

/// Returns whether `text` has the shape `YYYY-MM-DD` (the digits are checked by the parser).
fn is_plain_date(text: &str) -> bool {
    text.len() == 10 && !text.contains(['T', 't', ' '])
}

/// Returns user text made safe to put in an error message: escaped and at most 64 characters.
fn shown(text: &str) -> String {
    text.chars().take(64).flat_map(char::escape_debug).collect()
}

impl Classify for Error {
    /// Every error here is input that cannot be used (timestamps): refused, nothing changed.
    fn code(&self) -> Code {
        Code::Refused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_rfc3339_times_parse_to_utc_seconds() {
        let valid = [
            ("1970-01-01", 0),
            ("2030-01-31", 1_896_048_000),
            ("2030-01-31T00:00:00Z", 1_896_048_000),
            ("2030-01-31T02:00:00+02:00", 1_896_048_000),
            ("2030-01-31T00:00:00.999Z", 1_896_048_000),
            ("2030-01-30T19:00:00-05:00", 1_896_048_000),
            ("9999-12-30T22:00:00Z", MAX_SECOND),
        ];
        for (text, second) in valid {
            let parsed = Timestamp::parse(text).unwrap_or_else(|err| panic!("{text}: {err}"));
            assert_eq!(parsed.unix(), second, "{text}");
        }
    }

    #[test]
    fn bad_dates_and_times_are_refused() {
        let invalid = [
            "",
            "tomorrow",
            "2030-02-30",
            "2030-13-01",
            "2030-1-1",
            "31-01-2030",
            "2030/01/31",
            "2030-01-31T25:00:00Z",
            // Without an offset the instant depends on a time zone nobody named.
            "2030-01-31T00:00:00",
            "1700000000",
            "2030-01-31\u{1b}[2J",
        ];
        for text in invalid {
            assert!(
                matches!(Timestamp::parse(text), Err(Error::Unreadable { .. })),
                "{text:?} accepted"
            );
        }
        for text in ["1969-12-31", "1969-12-31T23:59:59Z"] {
            assert!(
                matches!(Timestamp::parse(text), Err(Error::OutOfRange { .. })),
                "{text:?} accepted"
            );
        }
    }

    #[test]
    fn timestamps_render_as_rfc3339_and_as_openssh_wants() {
        let at = Timestamp::parse("2030-01-31T12:34:56+01:00").unwrap();
        assert_eq!(at.to_string(), "2030-01-31T11:34:56Z");
        assert_eq!(at.to_openssh(), "20300131113456Z");
        let json = serde_json::to_string(&at).unwrap();
        assert_eq!(json, "\"2030-01-31T11:34:56Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), at);
        assert!(serde_json::from_str::<Timestamp>("\"soon\"").is_err());
        assert_eq!(Timestamp::from_unix(at.unix()), Some(at));
        assert_eq!(Timestamp::from_unix(-1), None);
        assert_eq!(Timestamp::from_unix(MAX_SECOND + 1), None);
    }

    #[test]
    fn errors_escape_what_was_given() {
        let err = Timestamp::parse("x\u{1b}[2J").unwrap_err();
        assert!(
            err.to_string().starts_with("'x\\u{1b}[2J' is not a date"),
            "{err}"
        );
    }
}
