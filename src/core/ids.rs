//! Identifiers for envelopes and pings, built without `core::fmt` because one
//! is made per message.

use crate::prelude::*;

use super::text::push_ascii;

/// Appends `value` in base `radix` (2..=36; others are treated as the nearest) to `out`.
pub fn push_number(out: &mut String, mut value: u64, radix: u64) {
    // Bounded here so no division-by-zero panic (and its formatting) is linked.
    let radix = radix.clamp(2, 36);
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    // Digits come out least significant first; a u64 has at most 64 of them.
    let mut digits = [0u8; 64];
    let mut count = 0;
    for slot in digits.iter_mut() {
        *slot = DIGITS
            .get((value % radix) as usize)
            .copied()
            .unwrap_or(b'?');
        count += 1;
        value /= radix;
        if value == 0 {
            break;
        }
    }
    for &digit in digits.iter().take(count).rev() {
        push_ascii(out, digit);
    }
}

/// What separates the prefix from a message's number.
pub const ID_SEPARATOR: &str = "-";
/// What separates the prefix from a ping's number.
pub const PING_SEPARATOR: &str = "-p";

/// Spells ids `<prefix>-<n>` (envelopes) and `<prefix>-p<n>` (pings), and
/// reads them back, where the prefix is random per transport: ids stay unique
/// when two transports share a session id (a session restored after a
/// reload). The numbers are the driver's: the JavaScript half numbers frames
/// (it must know the number before its one call), and the boundary checks
/// that they grow.
#[derive(Debug, Clone)]
pub struct IdGenerator {
    prefix: String,
}

impl IdGenerator {
    /// A generator whose prefix comes from `random` (32 bits are used).
    pub fn new(random: u64) -> Self {
        let mut prefix = String::new();
        push_number(&mut prefix, random & 0xffff_ffff, 36);
        Self { prefix }
    }

    /// The id of envelope `number`: `<prefix>-<number>`. The JavaScript half
    /// writes the same spelling (the envelope in `transport.js`) from
    /// `prefix()` and the number, so an untracked envelope needs no Rust
    /// string at all.
    pub fn message_id(&self, number: u64) -> String {
        self.make(ID_SEPARATOR, number)
    }

    /// The random part every id of this generator starts with.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The id of ping `number`: `<prefix>-p<number>`.
    pub fn ping_id(&self, number: u64) -> String {
        self.make(PING_SEPARATOR, number)
    }

    /// The number of envelope id `id` (`message_id`'s inverse), or `None`
    /// when it is not one of this transport's envelope ids: another
    /// prefix, a ping's id, or not exactly how `message_id` writes numbers.
    pub fn message_number(&self, id: &str) -> Option<u64> {
        self.number_after(ID_SEPARATOR, id)
    }

    /// The number of ping id `id` (`ping_id`'s inverse), or `None` when it
    /// is not exactly how `ping_id` writes one of this transport's pings.
    /// Reading the number back, rather than spelling the expected id, lets a
    /// pong be checked without making a string.
    pub fn ping_number(&self, id: &str) -> Option<u64> {
        self.number_after(PING_SEPARATOR, id)
    }

    /// The number in `<prefix><separator><number>`, spelt as `push_number`
    /// writes it in base 10 (no sign, no leading zero, at most 19 digits, so
    /// it fits a `u64`).
    fn number_after(&self, separator: &str, id: &str) -> Option<u64> {
        let digits = id
            .strip_prefix(self.prefix.as_str())?
            .strip_prefix(separator)?;
        let canonical = !digits.is_empty()
            && digits.len() <= 19
            && digits.bytes().all(|byte| byte.is_ascii_digit())
            && (digits == "0" || digits.as_bytes().first() != Some(&b'0'));
        canonical.then(|| {
            digits.bytes().fold(0, |number: u64, digit| {
                number * 10 + u64::from(digit - b'0')
            })
        })
    }

    /// Whether `id` is one of this generator's ping ids (an echo server
    /// sends them back; they are never the application's).
    pub fn is_ping_id(&self, id: &str) -> bool {
        id.strip_prefix(self.prefix.as_str())
            .is_some_and(|rest| rest.starts_with(PING_SEPARATOR))
    }

    fn make(&self, separator: &str, number: u64) -> String {
        let mut id = String::with_capacity(self.prefix.len() + separator.len() + 8);
        id.push_str(&self.prefix);
        id.push_str(separator);
        push_number(&mut id, number, 10);
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_any_radix() {
        let mut out = String::new();
        push_number(&mut out, 0, 10);
        out.push(' ');
        push_number(&mut out, u64::MAX, 10);
        out.push(' ');
        push_number(&mut out, 36 * 36, 36);
        assert_eq!(out, "0 18446744073709551615 100");
    }

    #[test]
    fn ids_are_prefixed_and_distinct_by_kind() {
        let ids = IdGenerator::new(42);
        assert_eq!(ids.message_id(1), "16-1");
        assert_eq!(ids.prefix(), "16");
        assert_eq!(ids.ping_id(1), "16-p1");
        assert!(ids.is_ping_id("16-p12"));
        for foreign in ["17-p1", "16-1", "p1", "1"] {
            assert!(!ids.is_ping_id(foreign), "{foreign}");
        }
    }

    #[test]
    fn message_numbers_read_back_exactly_what_message_id_writes() {
        let ids = IdGenerator::new(22);
        for number in [0, 1, 42, 9_007_199_254_740_991] {
            assert_eq!(ids.message_number(&ids.message_id(number)), Some(number));
        }
        let prefix = ids.prefix();
        for other in [
            ids.ping_id(1),
            format!("{prefix}-"),
            format!("{prefix}-01"),
            format!("{prefix}-1x"),
            format!("{prefix}-+1"),
            format!("{prefix}-99999999999999999999"),
            format!("x{prefix}-1"),
            String::from("1"),
        ] {
            assert_eq!(ids.message_number(&other), None, "{other}");
        }
    }

    #[test]
    fn ping_numbers_read_back_exactly_what_ping_id_writes() {
        let ids = IdGenerator::new(22);
        for number in [0, 1, 42, u64::MAX / 2] {
            assert_eq!(ids.ping_number(&ids.ping_id(number)), Some(number));
        }
        let prefix = ids.prefix();
        for other in [
            ids.message_id(1),
            format!("{prefix}-p"),
            format!("{prefix}-p01"),
            format!("{prefix}-p1 "),
            format!("x{prefix}-p1"),
        ] {
            assert_eq!(ids.ping_number(&other), None, "{other}");
        }
    }
}
