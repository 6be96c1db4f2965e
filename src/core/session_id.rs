//! Session identifiers: a random UUID (version 4) built from bytes the caller supplies.
//!
//! `crypto.randomUUID()` exists only in secure contexts, so a page served over plain
//! HTTP from a LAN address would not have it; `crypto.getRandomValues()` exists
//! everywhere. The driver therefore fetches 16 random bytes and the formatting lives here.

use crate::prelude::*;

use super::text::push_ascii;

/// Formats 16 random bytes as an RFC 9562 version-4 UUID, e.g.
/// `"1b4e28ba-2fa1-4d2e-883f-0016d3cca427"`.
pub fn uuid_v4(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC variant
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(36);
    for (index, byte) in bytes.iter().enumerate() {
        if matches!(index, 4 | 6 | 8 | 10) {
            push_ascii(&mut out, b'-');
        }
        push_ascii(&mut out, HEX[usize::from(byte >> 4)]);
        push_ascii(&mut out, HEX[usize::from(byte & 0x0f)]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::uuid_v4;

    #[test]
    fn formats_version_and_variant_bits() {
        assert_eq!(uuid_v4([0; 16]), "00000000-0000-4000-8000-000000000000");
        assert_eq!(uuid_v4([0xff; 16]), "ffffffff-ffff-4fff-bfff-ffffffffffff");
    }

    #[test]
    fn keeps_the_random_bits() {
        let bytes = [
            0x1b, 0x4e, 0x28, 0xba, 0x2f, 0xa1, 0x1d, 0x2e, 0x08, 0x3f, 0x00, 0x16, 0xd3, 0xcc,
            0xa4, 0x27,
        ];
        assert_eq!(uuid_v4(bytes), "1b4e28ba-2fa1-4d2e-883f-0016d3cca427");
    }
}
