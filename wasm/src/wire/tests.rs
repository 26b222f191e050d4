use super::Record;

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("four bytes"))
}

fn f64_at(bytes: &[u8], at: usize) -> f64 {
    f64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight bytes"))
}

#[test]
fn record_layout_is_the_one_tokenlife_js_reads() {
    let mut out = vec![0xAA; 3];
    Record::write(
        &mut out,
        [1.0, 2.5, 360.0, -0.0],
        Record::VALID,
        ["alice", "id", "", "tokenlife", "[]"],
    );
    assert_eq!(f64_at(&out, 0), 1.0);
    assert_eq!(f64_at(&out, 8), 2.5);
    assert_eq!(f64_at(&out, 16), 360.0);
    assert_eq!(u32_at(&out, 32), Record::VALID | Record::ASCII);
    let lengths: Vec<u32> = (0..5).map(|i| u32_at(&out, 36 + 4 * i)).collect();
    assert_eq!(lengths, [5, 2, 0, 9, 2]);
    assert_eq!(&out[Record::TEXT..], b"aliceidtokenlife[]");
}

#[test]
fn non_ascii_text_is_flagged_and_kept_as_utf8() {
    let mut out = Vec::new();
    Record::write(&mut out, [0.0; 4], 0, ["zoë", "", "☃", "", ""]);
    assert_eq!(u32_at(&out, 32) & Record::ASCII, 0);
    assert_eq!(u32_at(&out, 36), "zoë".len() as u32);
    assert_eq!(
        std::str::from_utf8(&out[Record::TEXT..]).expect("UTF-8"),
        "zoë☃"
    );
}

#[test]
fn input_past_the_buffer_reads_as_empty() {
    assert_eq!(super::input_token(b"abc", 2), b"ab");
    assert_eq!(super::input_token(b"abc", 4), b"");
    assert_eq!(super::input_token(&[0xff, 0xfe], 2), [0xff, 0xfe]);
}
