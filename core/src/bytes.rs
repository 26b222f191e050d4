//! Byte-string equality, eight bytes at a time.
//!
//! In wasm, `==` on byte strings calls a `memcmp` that compares one byte at a time; the
//! few comparisons on a verify's path (names against literals, a header against the known
//! ones, `sub` against `username`) go through [`same`] instead. Not constant time: for
//! secrets, see `keys::same_tag`.

/// Whether `a` and `b` are the same bytes. When `b` is a literal and this is inlined, its
/// words fold into constants.
#[inline(always)]
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    let word = |bytes: &[u8], at: usize| {
        let mut word = [0; 8];
        word.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(word)
    };
    if a.len() != b.len() {
        return false;
    }
    if b.len() < 8 {
        return a == b;
    }
    let mut at = 0;
    while at + 8 < b.len() {
        if word(a, at) != word(b, at) {
            return false;
        }
        at += 8;
    }
    // The last word, overlapping the one before when the length is not a multiple of 8.
    word(a, b.len() - 8) == word(b, b.len() - 8)
}

#[cfg(test)]
mod tests {
    use super::same;

    #[test]
    fn same_is_equality() {
        let text: Vec<u8> = (0..40u8).collect();
        for len in 0..text.len() {
            assert!(same(&text[..len], &text[..len]), "{len}");
            for at in 0..len {
                let mut other = text[..len].to_vec();
                other[at] ^= 0x80;
                assert!(!same(&text[..len], &other), "{len} {at}");
            }
            assert!(!same(&text[..len], &text[..len + 1]), "{len}");
        }
    }
}
