//! Which session ids the server takes: the client's rule (`core::options`
//! validates `sessionId` the same way), so that an id one side takes the
//! other does not refuse, and two different ids never become one.
//!
//! - 1 to 128 characters;
//! - no control characters (C0, DEL, C1): they end up in logs and headers;
//! - UTF-8 as sent: a query's decoder replaces bytes that are not UTF-8
//!   with U+FFFD, so two different ids would meet in one session.

/// The most characters a session id has.
pub const MAX_SESSION_ID_CHARS: usize = 128;

/// What is wrong with `id` (already decoded from the query), if anything.
pub fn check(id: &str) -> Result<(), &'static str> {
    let length = id.chars().count();
    if length == 0 || length > MAX_SESSION_ID_CHARS {
        return Err("session_id must be 1 to 128 characters long");
    }
    if id
        .chars()
        .any(|c| matches!(u32::from(c), 0x00..=0x1F | 0x7F..=0x9F))
    {
        return Err("session_id must not contain control characters");
    }
    Ok(())
}

/// Whether every `session_id` parameter of `raw_query` is UTF-8 once its
/// percent escapes are decoded.
pub fn is_utf8_in(raw_query: &str) -> bool {
    raw_query
        .split('&')
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .filter(|(key, _)| decoded(key) == b"session_id")
        .all(|(_, value)| std::str::from_utf8(&decoded(value)).is_ok())
}

/// `text` with its `+` and `%XX` escapes decoded, as a form query is (a
/// `%` not followed by two hex digits stays as it is, as the query's
/// decoder keeps it).
fn decoded(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        let escaped = (byte == b'%')
            .then(|| bytes.get(at + 1..at + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(value) => {
                out.push(value);
                at += 3;
            }
            None => {
                out.push(if byte == b'+' { b' ' } else { byte });
                at += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clients_rule() {
        assert!(check("a").is_ok());
        assert!(check(&"é".repeat(128)).is_ok(), "characters, not bytes");
        assert!(check(&"x".repeat(129)).is_err());
        assert!(check("").is_err());
        for control in ["a\0b", "a\rb", "a\nb", "\u{7f}", "\u{85}"] {
            assert!(check(control).is_err(), "{control:?}");
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_are_found_before_the_lossy_decoder_hides_them() {
        assert!(is_utf8_in("session_id=caf%C3%A9&x=%FF"));
        assert!(!is_utf8_in("session_id=caf%E9"));
        assert!(!is_utf8_in("a=1&session%5Fid=%FF%FE"));
        assert!(is_utf8_in("session_id=100%25+sure"));
        assert!(is_utf8_in("session_id=%zz"), "not an escape: kept as is");
    }
}
