//! Character classes the option rules need, read from a `&str`'s bytes,
//! and ASCII appended without the general encoder.
//!
//! `str::chars` with `char::is_whitespace` or `char::is_control` links a
//! general decoder and Unicode lookup tables (~0.2 KB of the gzipped wasm)
//! for two checks whose answers are short, fixed lists of code points. The
//! tests hold both classes to the standard library's over every `char`.

use crate::prelude::*;

/// Whether any code point of `text` is Unicode `White_Space` (what
/// `char::is_whitespace` answers).
pub fn has_whitespace(text: &str) -> bool {
    any_code_point(text, |code| {
        matches!(
            code,
            0x09..=0x0D
                | 0x20
                | 0x85
                | 0xA0
                | 0x1680
                | 0x2000..=0x200A
                | 0x2028
                | 0x2029
                | 0x202F
                | 0x205F
                | 0x3000
        )
    })
}

/// Whether any code point of `text` is a control character (general
/// category `Cc`, what `char::is_control` answers).
pub fn has_control(text: &str) -> bool {
    any_code_point(text, |code| matches!(code, 0x00..=0x1F | 0x7F..=0x9F))
}

/// Appends the ASCII character `byte` (its high bit is dropped).
/// `String::push` is not inlined at this crate's size setting, and its
/// out-of-line body carries the general UTF-8 encoder.
pub fn push_ascii(out: &mut String, byte: u8) {
    debug_assert!(byte.is_ascii(), "{byte:#x} is not ASCII");
    // SAFETY: a byte below 0x80 is a whole UTF-8 sequence on its own, so the
    // string stays valid UTF-8.
    unsafe { out.as_mut_vec() }.push(byte & 0x7F);
}

/// Whether `test` holds for any code point of `text`. A `str` is valid
/// UTF-8, so a sequence starts at every byte that is not a continuation
/// (`10xxxxxx`), its leading ones count its bytes, and it ends where the
/// next one starts.
fn any_code_point(text: &str, test: impl Fn(u32) -> bool) -> bool {
    let bytes = text.as_bytes();
    let mut code = 0;
    for (at, &byte) in bytes.iter().enumerate() {
        code = if byte & 0xC0 == 0x80 {
            code << 6 | u32::from(byte & 0x3F)
        } else {
            u32::from(byte & (0x7F >> byte.leading_ones()))
        };
        let ends = bytes.get(at + 1).is_none_or(|next| next & 0xC0 != 0x80);
        if ends && test(code) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::{has_control, has_whitespace};

    /// Every `char`, alone and between other characters of each UTF-8 length.
    #[test]
    fn the_classes_match_the_standard_library_for_every_char() {
        for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
            let alone = c.to_string();
            assert_eq!(has_whitespace(&alone), c.is_whitespace(), "{:#x}", c as u32);
            assert_eq!(has_control(&alone), c.is_control(), "{:#x}", c as u32);
            let between = format!("aé€😀{c}😀€éa");
            assert_eq!(
                has_whitespace(&between),
                c.is_whitespace(),
                "{:#x}",
                c as u32
            );
            assert_eq!(has_control(&between), c.is_control(), "{:#x}", c as u32);
        }
        assert!(!has_whitespace("") && !has_control(""));
    }
}
