//! A native stand-in for the few `core::arch::wasm32` SIMD operations that `sha256.rs` and
//! `base64url.rs` use, so that their wasm-only code compiles and runs on the machine that
//! tests and fuzzes it (`cfg(test)` and the `fuzzing` feature). Each function follows the
//! WebAssembly SIMD specification (lanes little-endian, shift counts taken modulo the lane
//! width, wrapping arithmetic); the wasm build never uses this module.

#![allow(non_camel_case_types)]

/// A 128-bit vector, as its 16 bytes in memory order (lane 0 first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct v128([u8; 16]);

impl v128 {
    fn u32s(self) -> [u32; 4] {
        let b = self.0;
        std::array::from_fn(|i| {
            u32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]])
        })
    }

    fn from_u32s(lanes: [u32; 4]) -> v128 {
        let mut out = [0u8; 16];
        for (bytes, lane) in out.chunks_exact_mut(4).zip(lanes) {
            bytes.copy_from_slice(&lane.to_le_bytes());
        }
        v128(out)
    }

    fn u16s(self) -> [u16; 8] {
        let b = self.0;
        std::array::from_fn(|i| u16::from_le_bytes([b[2 * i], b[2 * i + 1]]))
    }

    fn from_u16s(lanes: [u16; 8]) -> v128 {
        let mut out = [0u8; 16];
        for (bytes, lane) in out.chunks_exact_mut(2).zip(lanes) {
            bytes.copy_from_slice(&lane.to_le_bytes());
        }
        v128(out)
    }

    fn map2(self, other: v128, f: impl Fn(u8, u8) -> u8) -> v128 {
        v128(std::array::from_fn(|i| f(self.0[i], other.0[i])))
    }
}

/// `u8x16`: sixteen byte lanes.
#[allow(clippy::too_many_arguments)]
pub const fn u8x16(
    a0: u8,
    a1: u8,
    a2: u8,
    a3: u8,
    a4: u8,
    a5: u8,
    a6: u8,
    a7: u8,
    a8: u8,
    a9: u8,
    a10: u8,
    a11: u8,
    a12: u8,
    a13: u8,
    a14: u8,
    a15: u8,
) -> v128 {
    v128([
        a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15,
    ])
}

/// `u64x2`: two 64-bit lanes.
pub fn u64x2(a0: u64, a1: u64) -> v128 {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&a0.to_le_bytes());
    out[8..].copy_from_slice(&a1.to_le_bytes());
    v128(out)
}

pub fn u8x16_splat(a: u8) -> v128 {
    v128([a; 16])
}

pub fn u16x8_splat(a: u16) -> v128 {
    v128::from_u16s([a; 8])
}

pub fn u32x4_splat(a: u32) -> v128 {
    v128::from_u32s([a; 4])
}

pub fn v128_and(a: v128, b: v128) -> v128 {
    a.map2(b, |x, y| x & y)
}

pub fn v128_or(a: v128, b: v128) -> v128 {
    a.map2(b, |x, y| x | y)
}

pub fn v128_xor(a: v128, b: v128) -> v128 {
    a.map2(b, |x, y| x ^ y)
}

/// The bits of `v1` where `c` has ones, of `v2` where it has zeros.
pub fn v128_bitselect(v1: v128, v2: v128, c: v128) -> v128 {
    v128(std::array::from_fn(|i| {
        (v1.0[i] & c.0[i]) | (v2.0[i] & !c.0[i])
    }))
}

pub fn v128_any_true(a: v128) -> bool {
    a.0.iter().any(|&b| b != 0)
}

pub fn u8x16_add(a: v128, b: v128) -> v128 {
    a.map2(b, u8::wrapping_add)
}

pub fn u8x16_eq(a: v128, b: v128) -> v128 {
    a.map2(b, |x, y| if x == y { 0xff } else { 0 })
}

pub fn u8x16_shr(a: v128, amt: u32) -> v128 {
    v128(a.0.map(|x| x >> (amt % 8)))
}

/// Lane `i` is `a[s[i]]`, or 0 when `s[i]` is 16 or more.
pub fn u8x16_swizzle(a: v128, s: v128) -> v128 {
    v128(s.0.map(|i| a.0.get(usize::from(i)).copied().unwrap_or(0)))
}

pub fn u16x8_shl(a: v128, amt: u32) -> v128 {
    v128::from_u16s(a.u16s().map(|x| x << (amt % 16)))
}

pub fn u16x8_shr(a: v128, amt: u32) -> v128 {
    v128::from_u16s(a.u16s().map(|x| x >> (amt % 16)))
}

pub fn u32x4_add(a: v128, b: v128) -> v128 {
    let (a, b) = (a.u32s(), b.u32s());
    v128::from_u32s(std::array::from_fn(|i| a[i].wrapping_add(b[i])))
}

pub fn u32x4_shl(a: v128, amt: u32) -> v128 {
    v128::from_u32s(a.u32s().map(|x| x << (amt % 32)))
}

pub fn u32x4_shr(a: v128, amt: u32) -> v128 {
    v128::from_u32s(a.u32s().map(|x| x >> (amt % 32)))
}

pub fn u32x4_extract_lane<const N: usize>(a: v128) -> u32 {
    a.u32s()[N]
}

pub fn u64x2_extract_lane<const N: usize>(a: v128) -> u64 {
    let mut lane = [0u8; 8];
    lane.copy_from_slice(&a.0[8 * N..8 * N + 8]);
    u64::from_le_bytes(lane)
}

/// 32-bit lanes from `a` (0 to 3) and `b` (4 to 7).
pub fn u32x4_shuffle<const I0: usize, const I1: usize, const I2: usize, const I3: usize>(
    a: v128,
    b: v128,
) -> v128 {
    let both = [a.u32s(), b.u32s()].concat();
    v128::from_u32s([both[I0], both[I1], both[I2], both[I3]])
}

/// Byte lanes from `a` (0 to 15) and `b` (16 to 31).
#[allow(clippy::many_single_char_names)]
pub fn i8x16_shuffle<
    const I0: usize,
    const I1: usize,
    const I2: usize,
    const I3: usize,
    const I4: usize,
    const I5: usize,
    const I6: usize,
    const I7: usize,
    const I8: usize,
    const I9: usize,
    const I10: usize,
    const I11: usize,
    const I12: usize,
    const I13: usize,
    const I14: usize,
    const I15: usize,
>(
    a: v128,
    b: v128,
) -> v128 {
    let both = [a.0, b.0].concat();
    let order = [
        I0, I1, I2, I3, I4, I5, I6, I7, I8, I9, I10, I11, I12, I13, I14, I15,
    ];
    v128(order.map(|i| both[i]))
}

/// Signed 16-bit products of `a` and `b`, adjacent pairs added into 32-bit lanes.
pub fn i32x4_dot_i16x8(a: v128, b: v128) -> v128 {
    let (a, b) = (a.u16s(), b.u16s());
    let product = |i: usize| i32::from(a[i] as i16).wrapping_mul(i32::from(b[i] as i16));
    v128::from_u32s(std::array::from_fn(|i| {
        product(2 * i).wrapping_add(product(2 * i + 1)) as u32
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_are_little_endian_and_shuffles_pick_from_both() {
        let a = u64x2(0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908);
        assert_eq!(u32x4_extract_lane::<1>(a), 0x0706_0504);
        assert_eq!(u64x2_extract_lane::<1>(a), 0x0f0e_0d0c_0b0a_0908);
        let b = u32x4_splat(0xaabb_ccdd);
        let mixed = u32x4_shuffle::<3, 4, 0, 7>(a, b);
        assert_eq!(
            mixed.u32s(),
            [0x0f0e_0d0c, 0xaabb_ccdd, 0x0302_0100, 0xaabb_ccdd]
        );
        let bytes = i8x16_shuffle::<15, 16, 0, 31, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1>(a, b);
        assert_eq!(bytes.0[..4], [0x0f, 0xdd, 0x00, 0xaa]);
        let swizzled = u8x16_swizzle(a, u8x16(3, 16, 255, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
        assert_eq!(swizzled.0[..4], [3, 0, 0, 15]);
        // -2 * 3 + 0x1000 * 1 in each lane.
        let dot = i32x4_dot_i16x8(u32x4_splat(0x0001_fffe), u32x4_splat(0x1000_0003));
        assert_eq!(dot.u32s(), [0x1000 - 6; 4]);
        assert_eq!(
            u32x4_shr(u32x4_splat(0x8000_0000), 33).u32s(),
            [0x4000_0000; 4]
        );
        assert_eq!(u16x8_shl(u16x8_splat(0x8001), 1).u16s(), [2; 8]);
        assert_eq!(u8x16_shr(u8x16_splat(0xf0), 4).0, [0x0f; 16]);
        let picked = v128_bitselect(u8x16_splat(0xaa), u8x16_splat(0x55), u8x16_splat(0xf0));
        assert_eq!(picked.0, [0xa5; 16]);
        assert!(!v128_any_true(u8x16_splat(0)));
        assert_eq!(u8x16_eq(a, a).0, [0xff; 16]);
    }
}
