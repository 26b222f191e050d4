//! What more than one target needs: an oracle for JSON nesting, written apart from core's
//! reader.

#![deny(missing_docs)]

/// The most lists and objects open at once anywhere in `text`, strings skipped (their
/// escaped quotes included). On a text that is JSON up to some byte, the count is exact up
/// to that byte; core's reader refuses a text where it reaches 128 (`json::MAX_DEPTH`,
/// serde_json's limit for values it builds) at the latest there.
pub fn deepest(text: &[u8]) -> usize {
    let (mut open, mut most) = (0usize, 0usize);
    let (mut string, mut escaped) = (false, false);
    for &byte in text {
        if string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => string = true,
            b'[' | b'{' => {
                open += 1;
                most = most.max(open);
            }
            b']' | b'}' => open = open.saturating_sub(1),
            _ => {}
        }
    }
    most
}

#[cfg(test)]
mod tests {
    use super::deepest;

    #[test]
    fn counts_what_is_open_at_once_outside_strings() {
        assert_eq!(deepest(b"0"), 0);
        assert_eq!(deepest(b"[]"), 1);
        assert_eq!(deepest(b"[[],[[]]]"), 3);
        assert_eq!(deepest(br#"{"a":[{"b":1}],"c":{}}"#), 3);
        assert_eq!(deepest(br#"{"[[[":"\"[[["}"#), 1);
        assert_eq!(deepest(br#"["\\",[]]"#), 2);
        assert_eq!(deepest(&[b'['; 300]), 300);
    }
}
