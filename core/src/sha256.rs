//! SHA-256's block function (FIPS 180-4, section 6.2.2) for wasm, where it is most of the
//! cost of an HS256 verify (seven blocks for a tokenlife token).
//!
//! In wasm there are no SHA instructions, so the rounds are plain 32-bit arithmetic, and
//! what decides the speed is how many instructions V8 makes of them. Against sha2's wasm
//! backend (whose rounds run in a loop over an array) this one:
//! - unrolls all 64 rounds, naming the eight working variables anew at each round rather
//!   than moving them (loops of 8 or 16 rounds measured 7-25% slower in V8);
//! - computes `Maj(a, b, c)` as `b ^ ((a ^ b) & (b ^ c))`, where `b ^ c` is the previous
//!   round's `a ^ b` (two operations fewer per round);
//! - adds each round's constant as an immediate;
//! - loads the block with one byte shuffle per four words.
//!
//! That takes 30-50 ns off a verify in Node 20, for 8 KB more code than sha2's backend
//! (which `wasm-opt` more than pays back). The message schedule is computed four words at
//! a time with wasm SIMD, as sha2 does; a scalar schedule stands in elsewhere, so that
//! native tests hold the rounds to sha2, and the package's tests check HMACs across block
//! boundaries against Node's crypto. Only wasm32 with SIMD uses this module (`keys.rs`);
//! native builds keep sha2, which uses the CPU's SHA instructions where there are any.

/// The round constants (FIPS 180-4, 4.2.2).
const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// Hashes whole blocks into `state`.
pub(crate) fn compress(state: &mut [u32; 8], blocks: &[[u8; 64]]) {
    for block in blocks {
        compress_block(state, block);
    }
}

/// One round, with `Maj` from the previous round's `a ^ b` (`$bc`); leaves this round's
/// `a ^ b` in `$ab` for the next.
macro_rules! round {
    ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident,
     $w:expr, $ab:ident, $bc:ident) => {
        let s1 = $e.rotate_right(6) ^ $e.rotate_right(11) ^ $e.rotate_right(25);
        let ch = $g ^ ($e & ($f ^ $g));
        let t1 = $h.wrapping_add(s1).wrapping_add(ch).wrapping_add($w);
        $d = $d.wrapping_add(t1);
        let s0 = $a.rotate_right(2) ^ $a.rotate_right(13) ^ $a.rotate_right(22);
        $ab = $a ^ $b;
        $h = t1.wrapping_add(s0).wrapping_add($b ^ ($ab & $bc));
    };
}

/// Eight rounds from round `$t`: the working variables are renamed round by round, so
/// that none is moved, and the two `a ^ b` values take turns.
macro_rules! eight_rounds {
    ($t:expr, $word:ident, $a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident,
     $g:ident, $h:ident, $x:ident, $y:ident) => {
        round!($a, $b, $c, $d, $e, $f, $g, $h, $word($t), $x, $y);
        round!($h, $a, $b, $c, $d, $e, $f, $g, $word($t + 1), $y, $x);
        round!($g, $h, $a, $b, $c, $d, $e, $f, $word($t + 2), $x, $y);
        round!($f, $g, $h, $a, $b, $c, $d, $e, $word($t + 3), $y, $x);
        round!($e, $f, $g, $h, $a, $b, $c, $d, $word($t + 4), $x, $y);
        round!($d, $e, $f, $g, $h, $a, $b, $c, $word($t + 5), $y, $x);
        round!($c, $d, $e, $f, $g, $h, $a, $b, $word($t + 6), $x, $y);
        round!($b, $c, $d, $e, $f, $g, $h, $a, $word($t + 7), $y, $x);
    };
}

/// The 64 rounds on `state`; `word(t)` gives round `t`'s message word, and is called with
/// `t` from 0 to 63 in order.
#[inline(always)]
fn rounds(state: &mut [u32; 8], mut word: impl FnMut(usize) -> u32) {
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;
    let mut wk = |t: usize| word(t).wrapping_add(K[t]);
    // Before round 0, "the previous round's a ^ b" is b ^ c.
    let mut x: u32;
    let mut y = b ^ c;
    eight_rounds!(0, wk, a, b, c, d, e, f, g, h, x, y);
    eight_rounds!(8, wk, a, b, c, d, e, f, g, h, x, y);
    eight_rounds!(16, wk, a, b, c, d, e, f, g, h, x, y);
    eight_rounds!(24, wk, a, b, c, d, e, f, g, h, x, y);
    eight_rounds!(32, wk, a, b, c, d, e, f, g, h, x, y);
    eight_rounds!(40, wk, a, b, c, d, e, f, g, h, x, y);
    eight_rounds!(48, wk, a, b, c, d, e, f, g, h, x, y);
    eight_rounds!(56, wk, a, b, c, d, e, f, g, h, x, y);
    for (total, add) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
        *total = total.wrapping_add(add);
    }
}

/// The message schedule one word at a time (everywhere but wasm with SIMD).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn compress_block(state: &mut [u32; 8], block: &[u8; 64]) {
    let mut w = [0u32; 64];
    for (word, bytes) in w.iter_mut().zip(block.chunks_exact(4)) {
        *word = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    for t in 16..64 {
        let s0 = w[t - 15].rotate_right(7) ^ w[t - 15].rotate_right(18) ^ (w[t - 15] >> 3);
        let s1 = w[t - 2].rotate_right(17) ^ w[t - 2].rotate_right(19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16]
            .wrapping_add(s0)
            .wrapping_add(w[t - 7])
            .wrapping_add(s1);
    }
    rounds(state, |t| w[t]);
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn compress_block(state: &mut [u32; 8], block: &[u8; 64]) {
    simd::compress_block(state, block);
}

// Natively (tests, fuzzing) the same code runs on `simd_emu`'s emulation of the operations.
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

    /// The message schedule four words at a time, in the manner of sha2's wasm backend
    /// (Intel's SSE approach): `sigma0` for four words at once, then `sigma1` in two
    /// halves, since the last two words depend on the first two.
    #[inline(always)]
    fn next(x: &[v128; 4]) -> v128 {
        // w[t-15..t-11] and w[t-7..t-3].
        let w15 = u32x4_shuffle::<1, 2, 3, 4>(x[0], x[1]);
        let w7 = u32x4_shuffle::<1, 2, 3, 4>(x[2], x[3]);
        let sigma0 = v128_xor(
            v128_xor(
                v128_or(u32x4_shr(w15, 7), u32x4_shl(w15, 25)),
                v128_or(u32x4_shr(w15, 18), u32x4_shl(w15, 14)),
            ),
            u32x4_shr(w15, 3),
        );
        let partial = u32x4_add(u32x4_add(x[0], w7), sigma0);
        let sigma1 = |w2: v128| {
            v128_xor(
                v128_xor(
                    v128_or(u32x4_shr(w2, 17), u32x4_shl(w2, 15)),
                    v128_or(u32x4_shr(w2, 19), u32x4_shl(w2, 13)),
                ),
                u32x4_shr(w2, 10),
            )
        };
        // The first two words from w[t-2], w[t-1]; then the last two from those.
        let low = u32x4_add(
            partial,
            u32x4_shuffle::<2, 3, 4, 4>(sigma1(x[3]), u32x4_splat(0)),
        );
        u32x4_add(
            low,
            u32x4_shuffle::<4, 4, 0, 1>(sigma1(low), u32x4_splat(0)),
        )
    }

    /// Four big-endian words.
    #[inline(always)]
    fn load(bytes: &[u8]) -> v128 {
        let half = |at: usize| {
            let mut word = [0; 8];
            word.copy_from_slice(&bytes[at..at + 8]);
            u64::from_le_bytes(word)
        };
        let raw = u64x2(half(0), half(8));
        i8x16_shuffle::<3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12>(raw, raw)
    }

    pub(crate) fn compress_block(state: &mut [u32; 8], block: &[u8; 64]) {
        let mut x = [
            load(&block[0..16]),
            load(&block[16..32]),
            load(&block[32..48]),
            load(&block[48..64]),
        ];
        // Words 0 to 15 are the block's; from 16 on, each group of four is made as its
        // first round comes (every `t` is a constant once the rounds are unrolled).
        super::rounds(state, |t| {
            if t >= 16 && t % 4 == 0 {
                x = [x[1], x[2], x[3], next(&x)];
            }
            let group = if t < 16 { x[t / 4] } else { x[3] };
            match t % 4 {
                0 => u32x4_extract_lane::<0>(group),
                1 => u32x4_extract_lane::<1>(group),
                2 => u32x4_extract_lane::<2>(group),
                _ => u32x4_extract_lane::<3>(group),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use sha2::block_api::compress256;

    #[test]
    fn the_block_function_is_sha2s() {
        let mut seed = 0x9e37_79b9_u32;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        for _ in 0..200 {
            let mut state = [0u32; 8].map(|_| next());
            let blocks: Vec<[u8; 64]> = (0..3).map(|_| [0u8; 64].map(|_| next() as u8)).collect();
            let mut theirs = state;
            compress256(&mut theirs, &blocks);
            let mut simd = state;
            super::compress(&mut state, &blocks);
            assert_eq!(state, theirs);
            // The wasm SIMD schedule (emulated natively).
            for block in &blocks {
                super::simd::compress_block(&mut simd, block);
            }
            assert_eq!(simd, theirs);
        }
    }
}
