//! Strict base64url without padding (RFC 7515 section 2): the alphabet `A-Z a-z 0-9 - _`,
//! no `=`, no white space, and unused trailing bits zero, so every token has exactly one
//! encoding.
//!
//! Hand-written because it runs on every verify: the general-purpose engine of the base64
//! crate is several times slower on these short inputs. In wasm with SIMD (the npm
//! package), whole blocks of 16 characters are decoded 16 lanes at a time ([`wide`]);
//! everywhere else, and for what is left over, 4 characters at a time.

use std::ops::Range;

/// Encodes `bytes` without padding.
pub(crate) fn encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let n = group
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &byte)| n | u32::from(byte) << (16 - 8 * i));
        for i in 0..=group.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
        }
    }
    out
}

/// Decodes `input` into `out` from `at` on, and returns where the bytes landed. `out`
/// grows only when it is too short; whatever lies past the bytes is left as it was, so a
/// buffer kept between calls is not zeroed each time. On failure, what lies from `at` on
/// is unspecified.
pub(crate) fn decode_at(input: &[u8], out: &mut Vec<u8>, at: usize) -> Option<Range<usize>> {
    decode_at_with(input, out, at, wide::decode_blocks)
}

/// [`decode_at`] with the given decoder of whole 16-character blocks: natively the fuzzer
/// and the tests pass the wasm one ([`simd::decode_blocks`], emulated).
#[inline(always)]
pub(crate) fn decode_at_with(
    input: &[u8],
    out: &mut Vec<u8>,
    at: usize,
    blocks: fn(&[u8], &mut [u8]) -> Option<usize>,
) -> Option<Range<usize>> {
    let tail = match input.len() % 4 {
        0 => 0,
        2 => 1,
        3 => 2,
        _ => return None,
    };
    let end = at + input.len() / 4 * 3 + tail;
    if out.len() < end {
        out.resize(end, 0);
    }
    decode_exact(input, tail, &mut out[at..end], blocks)?;
    Some(at..end)
}

/// [`decode`] into `out`, which has exactly the room the bytes need.
#[inline(always)]
fn decode_exact(
    input: &[u8],
    tail: usize,
    out: &mut [u8],
    blocks: fn(&[u8], &mut [u8]) -> Option<usize>,
) -> Option<()> {
    let (body, rest) = out.split_at_mut(input.len() / 4 * 3);
    let groups = &input[..input.len() / 4 * 4];
    let done = blocks(groups, body)?;
    let mut chunks = input[done..].chunks_exact(4);
    for (src, dst) in (&mut chunks).zip(body[done / 4 * 3..].chunks_exact_mut(3)) {
        let a = DECODE[usize::from(src[0])];
        let b = DECODE[usize::from(src[1])];
        let c = DECODE[usize::from(src[2])];
        let d = DECODE[usize::from(src[3])];
        // Valid sextets are below 64; INVALID has the top bits set: one test for four.
        if (a | b | c | d) & 0xc0 != 0 {
            return None;
        }
        dst[0] = a << 2 | b >> 4;
        dst[1] = b << 4 | c >> 2;
        dst[2] = c << 6 | d;
    }
    let mut n = 0u32;
    for (i, &byte) in chunks.remainder().iter().enumerate() {
        let sextet = DECODE[usize::from(byte)];
        if sextet & 0xc0 != 0 {
            return None;
        }
        n |= u32::from(sextet) << (18 - 6 * i);
    }
    // The bits past the last whole byte must be zero (one encoding per token).
    let bytes = n.to_be_bytes();
    if bytes[1 + tail..].iter().any(|&b| b != 0) {
        return None;
    }
    rest.copy_from_slice(&bytes[1..1 + tail]);
    Some(())
}

const INVALID: u8 = 0xff;
const DECODE: [u8; 256] = {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Without wasm SIMD there are no wide blocks: the 4-character loop does everything.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod wide {
    pub fn decode_blocks(_input: &[u8], _out: &mut [u8]) -> Option<usize> {
        Some(0)
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use simd as wide;

/// 16 characters at a time with wasm SIMD, after Wojciech Muła's vectorised base64
/// ("Faster Base64 Encoding and Decoding Using AVX2 Instructions", Muła and Lemire),
/// adapted to the URL-safe alphabet.
///
/// Each character is split into its high and low nibble. Two 16-entry tables, looked up
/// by nibble with one swizzle each, say whether the character is in the alphabet; a third,
/// by high nibble, gives the offset from character to sextet (`_`, the one character
/// whose row it shares with others, is set apart by comparison). Four sextets are then
/// packed into three bytes per 32-bit lane with one shift-or and one dot product.
///
/// Natively (tests, fuzzing) the same code runs on `simd_emu`'s emulation of the operations.
#[cfg(any(
    test,
    feature = "fuzzing",
    all(target_arch = "wasm32", target_feature = "simd128")
))]
pub(crate) mod simd {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    use core::arch::wasm32::*;

    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    use crate::simd_emu::*;

    /// Decodes the whole 16-character blocks at the start of `input` into `out`, 12 bytes
    /// each; returns how many characters it took, or `None` when one of them is outside
    /// the alphabet.
    pub fn decode_blocks(input: &[u8], out: &mut [u8]) -> Option<usize> {
        let mut bad = u8x16_splat(0);
        let mut taken = 0;
        for (src, dst) in input.chunks_exact(16).zip(out.chunks_exact_mut(12)) {
            let (low, high) = src.split_at(8);
            let chars = u64x2(le_u64(low), le_u64(high));
            let high_nibbles = u8x16_shr(chars, 4);
            let low_nibbles = v128_and(chars, u8x16_splat(0x0f));
            bad = v128_or(
                bad,
                v128_and(
                    u8x16_swizzle(INVALID_BY_LOW, low_nibbles),
                    u8x16_swizzle(CLASS_BY_HIGH, high_nibbles),
                ),
            );
            let offsets = v128_bitselect(
                u8x16_splat(UNDERSCORE_OFFSET),
                u8x16_swizzle(OFFSET_BY_HIGH, high_nibbles),
                u8x16_eq(chars, u8x16_splat(b'_')),
            );
            let sextets = u8x16_add(chars, offsets);
            // Per 16-bit lane: first << 6 | second (12 bits).
            let pairs = v128_or(
                u16x8_shl(v128_and(sextets, u16x8_splat(0x00ff)), 6),
                u16x8_shr(sextets, 8),
            );
            // Per 32-bit lane: first pair << 12 | second pair (24 bits).
            let triples = i32x4_dot_i16x8(pairs, u32x4_splat(0x0001_1000));
            // The three bytes of each lane, most significant first.
            let bytes = i8x16_shuffle::<2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, 0, 0, 0, 0>(
                triples, triples,
            );
            dst[..8].copy_from_slice(&u64x2_extract_lane::<0>(bytes).to_le_bytes());
            dst[8..].copy_from_slice(&u32x4_extract_lane::<2>(bytes).to_le_bytes());
            taken += 16;
        }
        if v128_any_true(bad) {
            None
        } else {
            Some(taken)
        }
    }

    fn le_u64(bytes: &[u8]) -> u64 {
        let mut word = [0; 8];
        word.copy_from_slice(bytes);
        u64::from_le_bytes(word)
    }

    const fn table(t: [u8; 16]) -> v128 {
        u8x16(
            t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9], t[10], t[11], t[12], t[13],
            t[14], t[15],
        )
    }

    /// Each high nibble's class, as one bit: rows 0x2_ to 0x7_ each have their own bit;
    /// bit 0 is for the rows with no character of the alphabet.
    const CLASS_BY_HIGH: v128 = table([1, 1, 2, 4, 8, 16, 32, 64, 1, 1, 1, 1, 1, 1, 1, 1]);

    /// For each low nibble, the classes (bits of [`CLASS_BY_HIGH`]) in whose row that
    /// column is not in the alphabet.
    const INVALID_BY_LOW: v128 = table({
        let mut t = [0u8; 16];
        let mut low = 0;
        while low < 16 {
            let mut bits = 1; // rows 0x0_, 0x1_, 0x8_ to 0xf_: never
            if low != 0xd {
                bits |= 2; // 0x2_: only '-'
            }
            if low >= 10 {
                bits |= 4; // 0x3_: '0' to '9'
            }
            if low == 0 {
                bits |= 8 | 32; // 0x4_, 0x6_: from 'A', 'a'
            }
            if low >= 11 && low <= 14 {
                bits |= 16; // 0x5_: to 'Z', and '_'
            }
            if low >= 11 {
                bits |= 64; // 0x7_: to 'z'
            }
            t[low] = bits;
            low += 1;
        }
        t
    });

    /// What to add to a character of each row to make its sextet: '-' 62, '0' 52, 'A' 0,
    /// 'a' 26 (wrapping bytes).
    const OFFSET_BY_HIGH: v128 = table([
        0,
        0,
        62u8.wrapping_sub(b'-'),
        52u8.wrapping_sub(b'0'),
        0u8.wrapping_sub(b'A'),
        0u8.wrapping_sub(b'A'),
        26u8.wrapping_sub(b'a'),
        26u8.wrapping_sub(b'a'),
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
    ]);

    /// '_' is 63.
    const UNDERSCORE_OFFSET: u8 = 63u8.wrapping_sub(b'_');
}
#[cfg(test)]
mod tests {
    use super::{decode_at, decode_at_with, encode, simd};
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    #[test]
    fn agrees_with_the_base64_crate() {
        let data: Vec<u8> = (0..=255u8).cycle().take(700).collect();
        for len in 0..data.len() {
            let text = URL_SAFE_NO_PAD.encode(&data[..len]);
            assert_eq!(encode(&data[..len]), text, "{len}");
            let mut out = b"before".to_vec();
            let range = decode_at(text.as_bytes(), &mut out, 6);
            assert_eq!(range, Some(6..6 + len), "{len}");
            assert_eq!(&out[6..], &data[..len], "{len}");
            // The wasm SIMD decoder (emulated natively).
            let mut wide = b"before".to_vec();
            let range = decode_at_with(text.as_bytes(), &mut wide, 6, simd::decode_blocks);
            assert_eq!(range, Some(6..6 + len), "{len}");
            assert_eq!(wide, out, "{len}");
        }
        // Into a buffer kept between calls: the bytes land at `at`, what follows stays.
        let mut kept = vec![7u8; 1000];
        for len in [0, 1, 2, 3, 10, 200, 500] {
            let text = URL_SAFE_NO_PAD.encode(&data[..len]);
            assert_eq!(decode_at(text.as_bytes(), &mut kept, 5), Some(5..5 + len));
            assert_eq!(&kept[5..5 + len], &data[..len]);
            assert_eq!(kept.len(), 1000);
            assert!(kept[5 + len..].iter().all(|&b| b == 7), "{len}");
            kept[5..5 + len].fill(7);
        }
        let mut short = vec![1u8; 3];
        assert_eq!(decode_at(b"AAAA", &mut short, 2), Some(2..5));
        assert_eq!(short, [1, 1, 0, 0, 0]);
        for bad in [
            "A", "AAAAA", "AB", "AAB", "A=", "AA==", "A+AA", "A/AA", "AA AA", "é",
        ] {
            assert_eq!(decode_at(bad.as_bytes(), &mut Vec::new(), 0), None, "{bad}");
            assert!(URL_SAFE_NO_PAD.decode(bad).is_err(), "{bad}");
        }
    }

    /// Decodes `text` into a fresh buffer, with the 4-character loop alone and with the
    /// wasm SIMD decoder's whole blocks first (emulated natively): both must give the same.
    fn decode(text: &[u8]) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let narrow = decode_at(text, &mut out, 0).map(|range| out[range].to_vec());
        let mut out = Vec::new();
        let wide =
            decode_at_with(text, &mut out, 0, simd::decode_blocks).map(|range| out[range].to_vec());
        assert_eq!(narrow, wide, "{}", String::from_utf8_lossy(text));
        narrow
    }

    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    #[test]
    fn rfc_4648_vectors_without_padding() {
        // RFC 4648 section 10 with its padding removed (RFC 7515 section 2), and the two
        // characters where the URL alphabet differs from base64's (section 5: 62 is `-`,
        // 63 is `_`).
        let vectors: [(&[u8], &str); 10] = [
            (b"", ""),
            (b"f", "Zg"),
            (b"fo", "Zm8"),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg"),
            (b"fooba", "Zm9vYmE"),
            (b"foobar", "Zm9vYmFy"),
            (&[0xfb, 0xef, 0xbe], "----"),
            (&[0xff, 0xff, 0xff], "____"),
            (&[0xfb, 0xff], "-_8"),
        ];
        for (bytes, text) in vectors {
            assert_eq!(encode(bytes), text);
            assert_eq!(decode(text.as_bytes()).as_deref(), Some(bytes), "{text}");
        }
    }

    #[test]
    fn every_character_outside_the_alphabet_is_refused_wherever_it_is() {
        // Section 5's alphabet and nothing else: not base64's `+` and `/`, not `=`, not
        // white space, not a byte of a UTF-8 sequence. Tried at each place of a whole
        // group of four, first, in the middle and last of the text, and at each place of
        // a last group of two or three characters.
        let outside: Vec<u8> = (0..=255u8).filter(|b| !ALPHABET.contains(b)).collect();
        assert_eq!(outside.len(), 256 - 64);
        // From 16 characters on, whole blocks of 16 go through the wide decoder.
        for &bad in &outside {
            for len in [4, 8, 12, 6, 7, 10, 11, 16, 18, 19, 32, 35] {
                for at in 0..len {
                    let mut text = b"QUJD".repeat(9)[..len].to_vec();
                    // Whichever characters are kept, the last one is canonical for its
                    // group (`A` has no bits set), so only `bad` is wrong.
                    if let Some(last) = text.last_mut() {
                        *last = b'A';
                    }
                    assert!(decode(&text).is_some(), "{len}");
                    text[at] = bad;
                    assert_eq!(decode(&text), None, "{bad:#04x} at {at} of {len}");
                }
            }
        }
        // Two, three and four of them in one group.
        for bad in [
            &b"++AA"[..],
            b"A+/A",
            b"AA==",
            b"A===",
            b"====",
            b"AAAA//AA",
            b"AAAA+/+/",
            b"AAAAAAAAAAAAAA++AAAA",
            b"AAAAAAAAAAAAAAA=AAAAAAAAAAAAAAA=",
        ] {
            assert_eq!(decode(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn only_the_canonical_encoding_is_taken() {
        // RFC 4648 section 3.5: the bits past the last whole byte must be zero, so that
        // one byte string has one text. A last group of two characters carries one byte
        // (4 bits to spare), of three characters two bytes (2 bits to spare).
        for (group, spare) in [("Q", 4), ("QU", 2)] {
            for (value, &last) in ALPHABET.iter().enumerate() {
                let text = format!("{group}{}", char::from(last));
                let canonical = value % (1 << spare) == 0;
                assert_eq!(decode(text.as_bytes()).is_some(), canonical, "{text}");
                if canonical {
                    let bytes = decode(text.as_bytes()).expect("canonical");
                    assert_eq!(encode(&bytes), text);
                }
            }
        }
        // The length of the text says how many bytes: 4n, 4n + 2 and 4n + 3 characters,
        // never 4n + 1 (a lone character holds 6 bits, not a byte).
        for len in 0..20 {
            let text = "A".repeat(len);
            let bytes = decode(text.as_bytes());
            match len % 4 {
                1 => assert_eq!(bytes, None, "{len}"),
                tail => assert_eq!(
                    bytes.map(|b| b.len()),
                    Some(len / 4 * 3 + tail.saturating_sub(1)),
                    "{len}"
                ),
            }
        }
    }

    #[test]
    fn the_wide_decoder_takes_every_whole_block_of_16_characters() {
        // What `simd::decode_blocks` promises: the whole blocks of 16 characters at the
        // start of its input, 12 bytes each, and how many characters it took; `None` when
        // one of them is outside the alphabet. What lies past the last whole block is left
        // to the 4-character loop.
        let data: Vec<u8> = (0..=255u8).rev().cycle().take(150).collect();
        let text = URL_SAFE_NO_PAD.encode(&data);
        for len in (0..=text.len()).step_by(4) {
            let blocks = len / 16;
            let mut out = vec![0u8; len / 4 * 3];
            assert_eq!(
                simd::decode_blocks(&text.as_bytes()[..len], &mut out),
                Some(16 * blocks),
                "{len}"
            );
            assert_eq!(out[..12 * blocks], data[..12 * blocks], "{len}");
            assert!(out[12 * blocks..].iter().all(|&b| b == 0), "{len}");
        }
        // A character outside the alphabet in any block refuses the whole input; past the
        // last whole block it is not the wide decoder's to see.
        let mut text = text.into_bytes();
        text[40] = b'.';
        let mut out = vec![0u8; 150];
        assert_eq!(simd::decode_blocks(&text[..48], &mut out), None);
        assert_eq!(simd::decode_blocks(&text[..44], &mut out), Some(32));
    }
}
