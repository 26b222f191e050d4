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
