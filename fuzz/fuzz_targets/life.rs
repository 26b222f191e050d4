//! `Life::parse`, `format_life`, `Life::from_number` and `Life::from_secs`
//! (`core/src/life.rs`) on any input: they never panic; a life is between 1 and
//! `i64::MAX` seconds (SPEC §2, `LifeError::Overflow`); formatting a life and parsing the
//! text gives the same seconds; a number is a life exactly when it is whole and in those
//! bounds; and a life written as one whole number and one unit is that many units.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tokenlife_core::{Life, format_life};

/// The units and their seconds, as the SPEC lists them.
const UNITS: &[(&str, u64)] = &[
    ("s", 1),
    ("sec", 1),
    ("seconds", 1),
    ("m", 60),
    ("min", 60),
    ("minutes", 60),
    ("h", 3_600),
    ("hr", 3_600),
    ("hours", 3_600),
    ("d", 86_400),
    ("days", 86_400),
    ("w", 604_800),
    ("weeks", 604_800),
    ("month", 2_592_000),
    ("months", 2_592_000),
    ("y", 31_536_000),
    ("years", 31_536_000),
];

#[derive(Arbitrary, Debug)]
enum Input {
    /// Any text.
    Text(String),
    /// Parts of a life: numbers (whole or with a fraction), units, spaces and case.
    Parts(Vec<(u64, Option<u16>, u8, bool, u8)>),
    /// One number and one unit.
    One(u64, u8, bool),
    Number(f64),
    Secs(i64),
    Format(u64),
}

fn check_text(text: &str) -> Option<u64> {
    let life = Life::parse(text).ok()?;
    let secs = life.secs();
    assert!((1..=i64::MAX as u64).contains(&secs), "{text:?}: {secs}");
    let shown = life.to_string();
    assert_eq!(shown, format_life(secs));
    assert_eq!(
        Life::parse(&shown).map(Life::secs),
        Ok(secs),
        "{text:?} shown as {shown:?}"
    );
    Some(secs)
}

fuzz_target!(|input: Input| match input {
    Input::Text(text) => {
        check_text(&text);
    }
    Input::Parts(parts) => {
        let mut text = String::new();
        for (whole, fraction, unit, upper, space) in parts {
            text.push_str(&whole.to_string());
            if let Some(fraction) = fraction {
                text.push_str(&format!(".{fraction}"));
            }
            text.push_str(&" ".repeat(usize::from(space % 3)));
            let unit = UNITS[usize::from(unit) % UNITS.len()].0;
            if upper {
                text.push_str(&unit.to_uppercase());
            } else {
                text.push_str(unit);
            }
        }
        check_text(&text);
    }
    Input::One(count, unit, space) => {
        let (name, seconds) = UNITS[usize::from(unit) % UNITS.len()];
        let text = format!("{count}{}{name}", if space { " " } else { "" });
        let expected = count
            .checked_mul(seconds)
            .filter(|&secs| secs >= 1 && secs <= i64::MAX as u64);
        assert_eq!(check_text(&text), expected, "{text:?}");
    }
    Input::Number(number) => {
        let whole = number.is_finite() && number.fract() == 0.0;
        let expected = (whole && (1.0..9_223_372_036_854_775_808.0).contains(&number))
            .then_some(number as u64);
        assert_eq!(
            Life::from_number(number).ok().map(Life::secs),
            expected,
            "{number:?}"
        );
    }
    Input::Secs(secs) => {
        let expected = u64::try_from(secs).ok().filter(|&secs| secs >= 1);
        assert_eq!(Life::from_secs(secs).ok().map(Life::secs), expected);
    }
    Input::Format(secs) => {
        let text = format_life(secs);
        let parsed = Life::parse(&text).map(Life::secs);
        match secs {
            0 => assert_eq!(text, "0s"),
            1..=0x7fff_ffff_ffff_ffff => assert_eq!(parsed, Ok(secs), "{text:?}"),
            _ => assert!(parsed.is_err(), "{text:?} is beyond i64::MAX seconds"),
        }
    }
});
