use super::Record;

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("four bytes"))
}

fn f64_at(bytes: &[u8], at: usize) -> f64 {
    f64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight bytes"))
}

/// The texts of a record as `tokenlife.js` reads them: each from `base + offset`, and all
/// within `span` bytes of `base`. `memory` is where the record's addresses point (native
/// addresses are 64 bits, so the test compares them as `u32`, as the record keeps them).
fn texts(record: &[u8], memory: &[u8]) -> Vec<String> {
    let base = u32_at(record, 36);
    let span = u32_at(record, 40);
    let start = base.wrapping_sub(memory.as_ptr() as u32) as usize;
    (0..5)
        .map(|i| {
            let offset = u32_at(record, 44 + 8 * i);
            let length = u32_at(record, 48 + 8 * i);
            assert!(offset + length <= span || length == 0, "{i}");
            let at = start + offset as usize;
            String::from_utf8(memory[at..at + length as usize].to_vec()).expect("UTF-8")
        })
        .collect()
}

#[test]
fn record_layout_is_the_one_tokenlife_js_reads() {
    let mut out = vec![0xAA; 3];
    Record::write(
        &mut out,
        [1.0, 2.5, 360.0, -0.0],
        Record::VALID,
        ["alice", "id", "", "tokenlife", "[]"],
        false,
    );
    assert_eq!(f64_at(&out, 0), 1.0);
    assert_eq!(f64_at(&out, 8), 2.5);
    assert_eq!(f64_at(&out, 16), 360.0);
    assert_eq!(u32_at(&out, 32), Record::VALID | Record::ASCII);
    // Copied after the fixed part, one after another.
    assert_eq!(
        u32_at(&out, 36),
        (out.as_ptr() as u32).wrapping_add(Record::TEXT as u32)
    );
    assert_eq!(u32_at(&out, 40), 18);
    assert_eq!(&out[Record::TEXT..], b"aliceidtokenlife[]");
    assert_eq!(texts(&out, &out), ["alice", "id", "", "tokenlife", "[]"]);
}

#[test]
fn kept_texts_stay_where_they_are() {
    let payload = r#"{"username":"alice","jwt_token_id":"id-1","jwt_token_description":"","iss":"tokenlife"}"#;
    let cut = |text: &str| {
        let at = payload
            .find(&format!("\"{text}\""))
            .expect("in the payload")
            + 1;
        &payload[at..at + text.len()]
    };
    let mut out = Vec::new();
    Record::write(
        &mut out,
        [0.0; 4],
        0,
        [cut("alice"), cut("id-1"), "", cut("tokenlife"), ""],
        true,
    );
    // Nothing copied: base is where "alice" starts, and the span ends after "tokenlife".
    assert_eq!(out.len(), Record::TEXT);
    assert_eq!(u32_at(&out, 36), cut("alice").as_ptr() as u32);
    let end = cut("tokenlife").as_ptr() as usize + "tokenlife".len();
    assert_eq!(
        u32_at(&out, 40) as usize,
        end - cut("alice").as_ptr() as usize
    );
    assert_eq!(
        texts(&out, payload.as_bytes()),
        ["alice", "id-1", "", "tokenlife", ""]
    );

    // Texts far apart in the payload are copied all the same.
    let wide = format!(
        r#"{{"username":"alice","pad":"{}","iss":"tokenlife"}}"#,
        "x".repeat(600)
    );
    let far = |text: &str| {
        let at = wide.find(&format!("\"{text}\"")).expect("in the payload") + 1;
        &wide[at..at + text.len()]
    };
    Record::write(
        &mut out,
        [0.0; 4],
        0,
        [far("alice"), "", "", far("tokenlife"), ""],
        true,
    );
    assert_eq!(&out[Record::TEXT..], b"alicetokenlife");
    assert_eq!(texts(&out, &out), ["alice", "", "", "tokenlife", ""]);
}

#[test]
fn non_ascii_text_is_flagged_and_kept_as_utf8() {
    let mut out = Vec::new();
    Record::write(&mut out, [0.0; 4], 0, ["zoë", "", "☃", "", ""], false);
    assert_eq!(u32_at(&out, 32) & Record::ASCII, 0);
    assert_eq!(texts(&out, &out), ["zoë", "", "☃", "", ""]);
}

#[test]
fn input_past_the_buffer_reads_as_empty() {
    assert_eq!(super::input_token(b"abc", 2), b"ab");
    assert_eq!(super::input_token(b"abc", 4), b"");
    assert_eq!(super::input_token(&[0xff, 0xfe], 2), [0xff, 0xfe]);
}

#[test]
fn bytes_ascii_finds_any_byte_beyond_ascii() {
    for len in 0..24 {
        let text = vec![b'a'; len];
        assert!(super::bytes_ascii(&text), "{len}");
        for at in 0..len {
            let mut other = text.clone();
            other[at] = 0x80;
            assert!(!super::bytes_ascii(&other), "{len} {at}");
        }
    }
}

#[test]
fn digits_counts_what_json_writes() {
    for value in [
        0,
        7,
        9,
        10,
        99,
        100,
        -1,
        -10,
        1_700_000_000,
        i64::MAX,
        i64::MIN,
    ] {
        assert_eq!(super::digits(value), value.to_string().len(), "{value}");
    }
}
