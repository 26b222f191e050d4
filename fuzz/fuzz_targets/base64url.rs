//! core's base64url (`core/src/base64url.rs`) against the `base64` crate's URL-safe engine
//! without padding: on any input both decoders (the 4-character one every build uses, and
//! the wasm build's 16-lane SIMD one, emulated natively) accept what base64 accepts and
//! give its bytes, land them at the offset asked for without touching the bytes around
//! them; the encoder gives base64's text, and decoding it gives the bytes back.

#![no_main]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use tokenlife_core::fuzzing;

fuzz_target!(|data: &[u8]| {
    // The first byte places the output in a kept buffer: offset and the buffer's length.
    let (place, input) = data.split_first().unwrap_or((&0, data));
    let at = usize::from(place & 0x0f);
    let room = usize::from(place >> 4) * 8;

    let theirs = URL_SAFE_NO_PAD.decode(input).ok();
    let decoders = [
        fuzzing::base64url_decode_at,
        fuzzing::base64url_decode_at_simd,
    ];
    for (which, decode) in decoders.into_iter().enumerate() {
        let mut out = vec![0xa5u8; room];
        let range = decode(input, &mut out, at);
        assert_eq!(range.is_some(), theirs.is_some(), "decoder {which}");
        if let (Some(range), Some(theirs)) = (range, &theirs) {
            assert_eq!(range, at..at + theirs.len(), "decoder {which}");
            assert_eq!(&out[range.clone()], &theirs[..], "decoder {which}");
            assert_eq!(out.len(), room.max(range.end), "decoder {which}");
            // Before `at`: as it was, or zeros where the buffer had to grow; after the
            // bytes: as it was.
            for (i, &byte) in out[..at].iter().enumerate() {
                assert_eq!(byte, if i < room { 0xa5 } else { 0 }, "decoder {which}");
            }
            assert!(
                out[range.end..].iter().all(|&byte| byte == 0xa5),
                "decoder {which}"
            );
        }
    }

    let text = fuzzing::base64url_encode(input);
    assert_eq!(text, URL_SAFE_NO_PAD.encode(input));
    for decode in [
        fuzzing::base64url_decode_at,
        fuzzing::base64url_decode_at_simd,
    ] {
        let mut out = Vec::new();
        let range = decode(text.as_bytes(), &mut out, 0).expect("its own encoding decodes");
        assert_eq!(&out[range], input);
    }
});
