//! Token life: the one parser of "6 minutes", "1h30m", "1.5 hours" and "3600", and its
//! formatter.
//!
//! The grammar (SPEC section 2): case and surrounding spaces do not matter; a life is one
//! or more parts, each a number with an optional decimal fraction followed by a unit; a
//! bare whole number alone means seconds. The result must be a positive whole number of
//! seconds.

use std::fmt;
use std::num::NonZeroU64;

/// A positive whole number of seconds. It comes only from [`Life::parse`] or
/// [`Life::from_secs`], so holding one means the input was valid.
///
/// ```
/// use tokenlife_core::Life;
/// assert_eq!(Life::parse("6 minutes")?.secs(), 360);
/// assert_eq!(Life::parse("1h30m")?.to_string(), "1h 30m");
/// # Ok::<(), tokenlife_core::LifeError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Life(NonZeroU64);

/// Why a life was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LifeError {
    /// Nothing but spaces.
    Empty,
    /// A word that is not one of the units.
    UnknownUnit {
        /// The word as written (lowercased).
        unit: String,
    },
    /// A number in a combined life with no unit after it ("1h 30").
    MissingUnit {
        /// The number without a unit.
        number: String,
    },
    /// Something that is neither a number nor a unit.
    Syntax {
        /// The text from the first character that could not be read.
        at: String,
    },
    /// Zero or negative.
    NotPositive,
    /// A fraction that does not come out at whole seconds ("1.2 seconds").
    NotWhole,
    /// Longer than the caller's maximum.
    TooLong {
        /// The maximum, in seconds.
        max: u64,
    },
    /// So long that it cannot be represented (beyond `i64::MAX` seconds).
    Overflow,
}

/// 2^63 as an `f64`: the first number of seconds past `i64::MAX`.
const I64_END: f64 = 9_223_372_036_854_775_808.0;

/// Seconds in each unit, with every spelling the SPEC allows.
const UNITS: &[(&[&str], u64)] = &[
    (&["s", "sec", "secs", "second", "seconds"], 1),
    (&["m", "min", "mins", "minute", "minutes"], 60),
    (&["h", "hr", "hrs", "hour", "hours"], 3_600),
    (&["d", "day", "days"], 86_400),
    (&["w", "week", "weeks"], 604_800),
    (&["month", "months"], MONTH),
    (&["y", "year", "years"], YEAR),
];

const MONTH: u64 = 30 * 86_400;
const YEAR: u64 = 365 * 86_400;
const NANOS: u128 = 1_000_000_000;
/// Fraction digits beyond nine would need sub-nanosecond precision to stay exact.
const MAX_FRACTION_DIGITS: usize = 9;

impl Life {
    /// Parses a life as a person writes it.
    ///
    /// # Errors
    ///
    /// [`LifeError`] says why: empty, unknown unit, not positive, not whole seconds,
    /// or too large to represent.
    ///
    /// ```
    /// use tokenlife_core::{Life, LifeError};
    /// assert_eq!(Life::parse(" 1.5 Hours ")?.secs(), 5400);
    /// assert_eq!(Life::parse("0 seconds"), Err(LifeError::NotPositive));
    /// # Ok::<(), LifeError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Life, LifeError> {
        let text = text.trim().to_ascii_lowercase();
        if text.is_empty() {
            return Err(LifeError::Empty);
        }
        if text.starts_with('-') {
            return Err(LifeError::NotPositive);
        }
        if text.bytes().all(|b| b.is_ascii_digit()) {
            let secs: u64 = text.parse().map_err(|_| LifeError::Overflow)?;
            return Life::from_secs_u64(secs);
        }
        let mut nanos: u128 = 0;
        let mut rest = text.as_str();
        loop {
            rest = skip_separators(rest);
            if rest.is_empty() {
                break;
            }
            let (number, after_number) = split_number(rest)?;
            let after_number = after_number.trim_start();
            let (unit, after_unit) = split_word(after_number);
            if unit.is_empty() {
                return Err(if after_number.is_empty() {
                    LifeError::MissingUnit {
                        number: number.to_owned(),
                    }
                } else {
                    LifeError::Syntax {
                        at: after_number.to_owned(),
                    }
                });
            }
            let unit_secs = unit_secs(unit)?;
            nanos = nanos
                .checked_add(part_nanos(number, unit_secs)?)
                .ok_or(LifeError::Overflow)?;
            rest = after_unit;
        }
        if !nanos.is_multiple_of(NANOS) {
            return Err(LifeError::NotWhole);
        }
        let secs = u64::try_from(nanos / NANOS).map_err(|_| LifeError::Overflow)?;
        Life::from_secs_u64(secs)
    }

    /// A life from a number of seconds, as a JSON integer gives it.
    ///
    /// # Errors
    ///
    /// [`LifeError::NotPositive`] for zero or less.
    ///
    /// ```
    /// assert_eq!(tokenlife_core::Life::from_secs(360)?.to_string(), "6m");
    /// # Ok::<(), tokenlife_core::LifeError>(())
    /// ```
    pub fn from_secs(secs: i64) -> Result<Life, LifeError> {
        let secs = u64::try_from(secs).map_err(|_| LifeError::NotPositive)?;
        Life::from_secs_u64(secs)
    }

    /// A life from a number of seconds as JSON and JavaScript carry it (an `f64`): the
    /// server's `jwt_token_life: 360` and the package's `parseLife(360)` both come here, so
    /// they agree. A number with a whole value is taken whatever its spelling (`360`,
    /// `360.0`, `3.6e2`: JavaScript cannot tell them apart); a fraction is not.
    ///
    /// # Errors
    ///
    /// [`LifeError::NotWhole`] for a fraction or `NaN`, [`LifeError::NotPositive`] for zero
    /// or less, [`LifeError::Overflow`] for `i64::MAX` seconds or more (infinity included).
    ///
    /// ```
    /// use tokenlife_core::{Life, LifeError};
    /// assert_eq!(Life::from_number(360.0)?.secs(), 360);
    /// assert_eq!(Life::from_number(1.5), Err(LifeError::NotWhole));
    /// assert_eq!(Life::from_number(-0.0), Err(LifeError::NotPositive));
    /// # Ok::<(), LifeError>(())
    /// ```
    pub fn from_number(secs: f64) -> Result<Life, LifeError> {
        if secs.is_nan() || secs.fract() != 0.0 {
            Err(LifeError::NotWhole)
        } else if secs <= 0.0 {
            Err(LifeError::NotPositive)
        } else if secs >= I64_END {
            Err(LifeError::Overflow)
        } else {
            // Whole, positive and below 2^63, so the cast is exact.
            Life::from_secs_u64(secs as u64)
        }
    }

    fn from_secs_u64(secs: u64) -> Result<Life, LifeError> {
        if secs > i64::MAX as u64 {
            return Err(LifeError::Overflow);
        }
        NonZeroU64::new(secs)
            .map(Life)
            .ok_or(LifeError::NotPositive)
    }

    /// The life in seconds.
    pub fn secs(self) -> u64 {
        self.0.get()
    }

    /// This life if it is no longer than `max`.
    ///
    /// # Errors
    ///
    /// [`LifeError::TooLong`] naming the maximum.
    ///
    /// ```
    /// use tokenlife_core::Life;
    /// let max = Life::parse("1 year")?;
    /// assert!(Life::parse("2 years")?.at_most(max).is_err());
    /// # Ok::<(), tokenlife_core::LifeError>(())
    /// ```
    pub fn at_most(self, max: Life) -> Result<Life, LifeError> {
        if self > max {
            Err(LifeError::TooLong { max: max.secs() })
        } else {
            Ok(self)
        }
    }
}

/// Formats like humantime (`6m`, `3days`, `1h 30m`) but with the SPEC's month (30 days)
/// and year (365 days), so that every formatted life parses back to the same seconds.
/// humantime itself uses 30.44-day months and 365.25-day years, which would not.
impl fmt::Display for Life {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_secs(self.secs(), f)
    }
}

/// Formats a number of seconds the way [`Life`] displays, with `0s` for zero.
///
/// ```
/// assert_eq!(tokenlife_core::format_life(259_200), "3days");
/// assert_eq!(tokenlife_core::format_life(0), "0s");
/// ```
pub fn format_life(secs: u64) -> String {
    struct Secs(u64);
    impl fmt::Display for Secs {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            format_secs(self.0, f)
        }
    }
    Secs(secs).to_string()
}

fn format_secs(secs: u64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if secs == 0 {
        return f.write_str("0s");
    }
    let parts: [(u64, &str, &str); 6] = [
        (secs / YEAR, "year", "years"),
        (secs % YEAR / MONTH, "month", "months"),
        (secs % YEAR % MONTH / 86_400, "day", "days"),
        (secs % 86_400 / 3_600, "h", "h"),
        (secs % 3_600 / 60, "m", "m"),
        (secs % 60, "s", "s"),
    ];
    let mut first = true;
    for (count, one, many) in parts {
        if count == 0 {
            continue;
        }
        if !first {
            f.write_str(" ")?;
        }
        first = false;
        write!(f, "{count}{}", if count == 1 { one } else { many })?;
    }
    Ok(())
}

fn skip_separators(text: &str) -> &str {
    let mut rest = text.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == ',');
    if let Some(after) = rest.strip_prefix("and ") {
        rest = after.trim_start();
    }
    rest
}

/// Splits off `digits[.digits]` from the front.
fn split_number(text: &str) -> Result<(&str, &str), LifeError> {
    let int_len = text.bytes().take_while(u8::is_ascii_digit).count();
    let mut end = int_len;
    if text[end..].starts_with('.') {
        let frac_len = text[end + 1..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        end += 1 + frac_len;
        if frac_len == 0 {
            return Err(LifeError::Syntax {
                at: text.to_owned(),
            });
        }
    }
    if int_len == 0 {
        if text.starts_with('-') {
            return Err(LifeError::NotPositive);
        }
        return Err(LifeError::Syntax {
            at: text.to_owned(),
        });
    }
    Ok(text.split_at(end))
}

fn split_word(text: &str) -> (&str, &str) {
    let len = text.bytes().take_while(u8::is_ascii_alphabetic).count();
    text.split_at(len)
}

fn unit_secs(unit: &str) -> Result<u64, LifeError> {
    UNITS
        .iter()
        .find(|(names, _)| names.contains(&unit))
        .map(|&(_, secs)| secs)
        .ok_or_else(|| LifeError::UnknownUnit {
            unit: unit.to_owned(),
        })
}

/// The exact length of `number` units in nanoseconds; `number` is `digits[.digits]`.
fn part_nanos(number: &str, unit_secs: u64) -> Result<u128, LifeError> {
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    if frac.len() > MAX_FRACTION_DIGITS {
        return Err(LifeError::NotWhole);
    }
    let unit_nanos = u128::from(unit_secs) * NANOS;
    let int: u128 = int.parse().map_err(|_| LifeError::Overflow)?;
    let mut total = int.checked_mul(unit_nanos).ok_or(LifeError::Overflow)?;
    if !frac.is_empty() {
        // `frac` is at most nine digits, so it and its scale fit easily.
        let scale = 10u128.pow(frac.len() as u32);
        let digits: u128 = frac.parse().map_err(|_| LifeError::Overflow)?;
        let frac_nanos = digits * unit_nanos;
        if !frac_nanos.is_multiple_of(scale) {
            return Err(LifeError::NotWhole);
        }
        total = total
            .checked_add(frac_nanos / scale)
            .ok_or(LifeError::Overflow)?;
    }
    Ok(total)
}

impl fmt::Display for LifeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS_HELP: &str = "use seconds (s), minutes (m), hours (h), days (d), weeks (w), \
             months (30 days) or years (y, 365 days), as in \"6 minutes\" or \"1h30m\"";
        match self {
            LifeError::Empty => write!(f, "life is empty: {UNITS_HELP}"),
            LifeError::UnknownUnit { unit } => write!(f, "unknown unit \"{unit}\": {UNITS_HELP}"),
            LifeError::MissingUnit { number } => {
                write!(f, "\"{number}\" has no unit: {UNITS_HELP}")
            }
            LifeError::Syntax { at } => write!(f, "cannot read life at \"{at}\": {UNITS_HELP}"),
            LifeError::NotPositive => f.write_str("life must be positive"),
            LifeError::NotWhole => f.write_str("life must come out at whole seconds"),
            LifeError::TooLong { max } => {
                write!(
                    f,
                    "life is longer than the maximum of {} ({max} seconds)",
                    format_life(*max)
                )
            }
            LifeError::Overflow => f.write_str("life is too long to represent"),
        }
    }
}

impl std::error::Error for LifeError {}

#[cfg(test)]
mod tests;
