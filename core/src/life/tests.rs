use super::*;

#[test]
fn messages_name_what_to_do() {
    let unknown = Life::parse("6 fortnights").unwrap_err().to_string();
    assert!(
        unknown.contains("\"fortnights\"") && unknown.contains("minutes (m)"),
        "{unknown}"
    );
    let max = Life::parse("2 years")
        .unwrap()
        .at_most(Life::parse("1 year").unwrap());
    assert_eq!(
        max.unwrap_err().to_string(),
        "life is longer than the maximum of 1year (31536000 seconds)"
    );
}

#[test]
fn separators_and_words() {
    assert_eq!(Life::parse("1 hour, 30 minutes").unwrap().secs(), 5400);
    assert_eq!(Life::parse("1 hour and 30 minutes").unwrap().secs(), 5400);
    assert_eq!(
        Life::parse("1h 30").unwrap_err(),
        LifeError::MissingUnit {
            number: "30".into()
        }
    );
    assert_eq!(
        Life::parse("1.").unwrap_err(),
        LifeError::Syntax { at: "1.".into() }
    );
    assert_eq!(
        Life::parse("0.0000000001 years").unwrap_err(),
        LifeError::NotWhole
    );
}

#[test]
fn format_uses_spec_months_and_years() {
    assert_eq!(Life::from_secs(31_536_000).unwrap().to_string(), "1year");
    assert_eq!(Life::from_secs(7_776_000).unwrap().to_string(), "3months");
    assert_eq!(Life::from_secs(5_400).unwrap().to_string(), "1h 30m");
    assert_eq!(Life::from_secs(1_209_600).unwrap().to_string(), "14days");
}

// ---- SPEC 2, rule by rule -----------------------------------------------------------------

/// Every spelling SPEC 2 allows, with the seconds in one.
const SPEC_UNITS: &[(&str, u64)] = &[
    ("s", 1),
    ("sec", 1),
    ("secs", 1),
    ("second", 1),
    ("seconds", 1),
    ("m", 60),
    ("min", 60),
    ("mins", 60),
    ("minute", 60),
    ("minutes", 60),
    ("h", 3_600),
    ("hr", 3_600),
    ("hrs", 3_600),
    ("hour", 3_600),
    ("hours", 3_600),
    ("d", 86_400),
    ("day", 86_400),
    ("days", 86_400),
    ("w", 604_800),
    ("week", 604_800),
    ("weeks", 604_800),
    ("month", 2_592_000),
    ("months", 2_592_000),
    ("y", 31_536_000),
    ("year", 31_536_000),
    ("years", 31_536_000),
];

fn secs(text: &str) -> Result<u64, LifeError> {
    Life::parse(text).map(Life::secs)
}

#[test]
fn the_spec_table() {
    for (text, want) in [
        ("6 minutes", 360),
        ("6 mins", 360),
        ("6 Minutes", 360),
        ("6m", 360),
        ("1 hour", 3_600),
        ("1h", 3_600),
        ("3600", 3_600),
        ("1.5 hours", 5_400),
        ("1h30m", 5_400),
        ("1 hour 30 minutes", 5_400),
        ("3 days", 259_200),
        ("3d", 259_200),
        ("2 weeks", 1_209_600),
        ("3 months", 7_776_000),
        ("1 year", 31_536_000),
    ] {
        assert_eq!(secs(text), Ok(want), "{text}");
    }
    assert_eq!(secs(""), Err(LifeError::Empty));
    assert_eq!(secs("0 seconds"), Err(LifeError::NotPositive));
    assert_eq!(secs("-5 minutes"), Err(LifeError::NotPositive));
    assert_eq!(secs("1.2 seconds"), Err(LifeError::NotWhole));
    assert_eq!(secs("99999999999999 years"), Err(LifeError::Overflow));
    for unknown in ["abc", "6 fortnights"] {
        let message = Life::parse(unknown).unwrap_err().to_string();
        assert!(
            message.contains("minutes (m)") && message.contains("years (y, 365 days)"),
            "{unknown}: {message}"
        );
    }
}

#[test]
fn every_unit_spelling_in_any_case() {
    for &(unit, one) in SPEC_UNITS {
        assert_eq!(secs(&format!("1 {unit}")), Ok(one), "{unit}");
        assert_eq!(secs(&format!("7{unit}")), Ok(7 * one), "{unit}");
        assert_eq!(
            secs(&format!("  2 {} ", unit.to_uppercase())),
            Ok(2 * one),
            "{unit}"
        );
    }
    for wrong in [
        "6 mon", "6 sek", "6 yrs", "6 ms", "6 hs", "6 ds", "6 ws", "6 mo",
    ] {
        assert!(
            matches!(Life::parse(wrong), Err(LifeError::UnknownUnit { .. })),
            "{wrong}"
        );
    }
}

#[test]
fn a_bare_number_is_seconds_and_empty_is_an_error() {
    assert_eq!(secs("1"), Ok(1));
    assert_eq!(secs(" 360 "), Ok(360));
    assert_eq!(secs("0"), Err(LifeError::NotPositive));
    assert_eq!(secs("000"), Err(LifeError::NotPositive));
    assert_eq!(secs("   "), Err(LifeError::Empty));
    assert_eq!(secs("\t\n"), Err(LifeError::Empty));
    assert_eq!(secs("-1"), Err(LifeError::NotPositive));
    assert_eq!(
        secs("1.5"),
        Err(LifeError::MissingUnit {
            number: "1.5".into()
        })
    );
}

#[test]
fn fractions_must_come_out_at_whole_seconds() {
    assert_eq!(secs("0.5 minutes"), Ok(30));
    assert_eq!(secs("0.5m"), Ok(30));
    assert_eq!(secs("1.25 h"), Ok(4_500));
    assert_eq!(secs("0.1 days"), Ok(8_640));
    assert_eq!(secs("2.0 s"), Ok(2));
    assert_eq!(secs("0.5 s"), Err(LifeError::NotWhole));
    assert_eq!(secs("1.01 m"), Err(LifeError::NotWhole));
    assert_eq!(secs("0.0 s"), Err(LifeError::NotPositive));
    // Nine fraction digits are read exactly; a tenth would need more than nanoseconds.
    assert_eq!(secs("0.002500000 h"), Ok(9));
    assert_eq!(secs("0.000000001 s"), Err(LifeError::NotWhole));
    assert_eq!(secs("0.999999999 s"), Err(LifeError::NotWhole));
    assert_eq!(secs("1.000000001 s"), Err(LifeError::NotWhole));
    assert_eq!(secs("0.0000000001 years"), Err(LifeError::NotWhole));
    let long = format!("1.{}1 s", "0".repeat(60));
    assert_eq!(secs(&long), Err(LifeError::NotWhole));
    // Parts that are not whole on their own may add up to whole seconds.
    assert_eq!(secs("0.5s 0.5s"), Ok(1));
}

#[test]
fn combined_parts_add_up() {
    assert_eq!(
        secs("1y 1month 1w 1d 1h 1m 1s"),
        Ok(31_536_000 + 2_592_000 + 604_800 + 86_400 + 3_600 + 60 + 1)
    );
    assert_eq!(secs("1h,30m"), Ok(5_400));
    assert_eq!(secs("1 hour, and 30 minutes"), Ok(5_400));
    assert_eq!(secs("30m 30m"), Ok(3_600));
    assert_eq!(
        secs("1h 30"),
        Err(LifeError::MissingUnit {
            number: "30".into()
        })
    );
    assert_eq!(secs("1h -30m"), Err(LifeError::NotPositive));
    assert_eq!(secs("1h x"), Err(LifeError::Syntax { at: "x".into() }));
    assert_eq!(secs("1h 30m!"), Err(LifeError::Syntax { at: "!".into() }));
    assert_eq!(secs("h"), Err(LifeError::Syntax { at: "h".into() }));
    assert_eq!(secs(".5h"), Err(LifeError::Syntax { at: ".5h".into() }));
    assert_eq!(
        secs("1 . 5 h"),
        Err(LifeError::Syntax { at: ". 5 h".into() })
    );
}

#[test]
fn the_largest_life_is_i64_max_seconds() {
    let max = i64::MAX as u64;
    assert_eq!(secs("9223372036854775807"), Ok(max));
    assert_eq!(secs("9223372036854775807 s"), Ok(max));
    assert_eq!(Life::from_secs(i64::MAX).map(Life::secs), Ok(max));
    assert_eq!(secs("9223372036854775808"), Err(LifeError::Overflow));
    assert_eq!(secs("9223372036854775808 s"), Err(LifeError::Overflow));
    assert_eq!(secs("18446744073709551615"), Err(LifeError::Overflow));
    assert_eq!(secs("18446744073709551616"), Err(LifeError::Overflow));
    assert_eq!(secs("1".repeat(60).as_str()), Err(LifeError::Overflow));
    assert_eq!(
        secs(&format!("{} y", "9".repeat(40))),
        Err(LifeError::Overflow)
    );
    assert_eq!(
        secs(&format!("{}.5 y", "9".repeat(40))),
        Err(LifeError::Overflow)
    );
    // u128 nanoseconds hold more than i64::MAX seconds; the sum of parts is checked too.
    let big = format!("{} s", u128::MAX / 1_000_000_000 / 2);
    assert_eq!(
        secs(&format!("{big} {big} {big}")),
        Err(LifeError::Overflow)
    );
}

#[test]
fn from_secs_takes_positive_seconds() {
    assert_eq!(Life::from_secs(1).map(Life::secs), Ok(1));
    assert_eq!(Life::from_secs(0), Err(LifeError::NotPositive));
    assert_eq!(Life::from_secs(-1), Err(LifeError::NotPositive));
    assert_eq!(Life::from_secs(i64::MIN), Err(LifeError::NotPositive));
}

#[test]
fn at_most_allows_the_maximum_itself() {
    let max = Life::from_secs(100).unwrap();
    assert_eq!(
        Life::from_secs(99).unwrap().at_most(max),
        Ok(Life::from_secs(99).unwrap())
    );
    assert_eq!(Life::from_secs(100).unwrap().at_most(max), Ok(max));
    assert_eq!(
        Life::from_secs(101).unwrap().at_most(max),
        Err(LifeError::TooLong { max: 100 })
    );
}

#[test]
fn formatting_is_humantime_style_with_spec_months_and_years() {
    for (secs, text) in [
        (1, "1s"),
        (59, "59s"),
        (60, "1m"),
        (61, "1m 1s"),
        (360, "6m"),
        (3_600, "1h"),
        (3_661, "1h 1m 1s"),
        (86_400, "1day"),
        (259_200, "3days"),
        (2_592_000, "1month"),
        (5_184_000, "2months"),
        (31_536_000, "1year"),
        (63_072_000, "2years"),
        (
            31_536_000 + 2_592_000 + 86_400 + 3_600 + 60 + 1,
            "1year 1month 1day 1h 1m 1s",
        ),
    ] {
        assert_eq!(format_life(secs), text, "{secs}");
        assert_eq!(Life::from_secs(secs as i64).unwrap().to_string(), text);
    }
    assert_eq!(format_life(0), "0s");
}

#[test]
fn every_error_says_what_is_wrong() {
    let cases = [
        (LifeError::Empty, "life is empty"),
        (
            LifeError::UnknownUnit { unit: "x".into() },
            "unknown unit \"x\"",
        ),
        (
            LifeError::MissingUnit { number: "3".into() },
            "\"3\" has no unit",
        ),
        (
            LifeError::Syntax { at: "!".into() },
            "cannot read life at \"!\"",
        ),
        (LifeError::NotPositive, "life must be positive"),
        (LifeError::NotWhole, "life must come out at whole seconds"),
        (LifeError::Overflow, "life is too long to represent"),
    ];
    for (error, start) in cases {
        assert!(error.to_string().starts_with(start), "{error}");
    }
}

proptest::proptest! {
    #[test]
    fn a_number_and_a_unit_are_their_product(n in 1u64..1_000_000, unit in 0..SPEC_UNITS.len()) {
        let (name, one) = SPEC_UNITS[unit];
        proptest::prop_assert_eq!(secs(&format!("{n} {name}")), Ok(n * one));
        proptest::prop_assert_eq!(secs(&format!("{n}{}", name.to_uppercase())), Ok(n * one));
    }

    #[test]
    fn parts_add_up(a in 1u64..100_000, b in 1u64..100_000, ua in 0..SPEC_UNITS.len(), ub in 0..SPEC_UNITS.len()) {
        let ((na, oa), (nb, ob)) = (SPEC_UNITS[ua], SPEC_UNITS[ub]);
        proptest::prop_assert_eq!(secs(&format!("{a}{na} {b}{nb}")), Ok(a * oa + b * ob));
    }

    #[test]
    fn a_formatted_life_parses_back(n in 1u64..=i64::MAX as u64) {
        let life = Life::parse(&n.to_string()).unwrap();
        proptest::prop_assert_eq!(life.secs(), n);
        proptest::prop_assert_eq!(Life::parse(&life.to_string()), Ok(life));
        proptest::prop_assert_eq!(Life::parse(&format_life(n)), Ok(life));
    }

    #[test]
    fn a_half_is_whole_except_for_seconds(k in 0u64..1_000_000) {
        proptest::prop_assert_eq!(secs(&format!("{k}.5 s")), Err(LifeError::NotWhole));
        proptest::prop_assert_eq!(secs(&format!("{k}.5 m")), Ok(k * 60 + 30));
        proptest::prop_assert_eq!(secs(&format!("{k}.50 h")), Ok(k * 3_600 + 1_800));
    }

    #[test]
    fn no_text_panics(text in "\\PC{0,40}") {
        let _ = Life::parse(&text);
    }
}
