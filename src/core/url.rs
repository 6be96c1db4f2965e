//! URL rules: which URLs a socket may be opened to, and how the session id rides along.
//!
//! This is deliberately not a general URL parser: the browser's `WebSocket`
//! constructor does the full parse. Here we only need the scheme check (so a bad
//! option fails at construction with a message naming the field) and a query
//! parameter that is replaced, not duplicated, on every attempt.

use crate::prelude::*;

use super::text::{has_whitespace, push_ascii};

/// Checks that `url` is an absolute `ws://` or `wss://` URL with a host.
///
/// Written with `strip_prefix`/`split` rather than indexing so that no slicing
/// panic (and the formatting code behind it) is reachable from user input.
pub fn validate_socket_url(url: &str) -> Result<(), &'static str> {
    let rest =
        strip_prefix_ignore_case(url, "ws://").or_else(|| strip_prefix_ignore_case(url, "wss://"));
    let Some(rest) = rest else {
        return Err("must be a ws:// or wss:// URL");
    };
    // The host is what comes before the path, the query or the fragment.
    if matches!(rest.bytes().next(), None | Some(b'/' | b'?' | b'#')) {
        return Err("must name a host");
    }
    if has_whitespace(url) {
        return Err("must not contain whitespace");
    }
    Ok(())
}

/// `text.split_once(byte)` for an ASCII byte, without `str` pattern machinery
/// (whose slicing checks link panic formatting into the wasm build), and
/// without the char-boundary checks of `str::get` (330 bytes of wasm).
pub(crate) fn split_once_byte(text: &str, byte: u8) -> Option<(&str, &str)> {
    // The safety argument below needs it; free for the constants passed.
    if !byte.is_ascii() {
        return None;
    }
    let bytes = text.as_bytes();
    let at = bytes.iter().position(|&b| b == byte)?;
    let (head, rest) = bytes.split_at_checked(at)?;
    let tail = rest.get(1..)?;
    // SAFETY: `byte` is ASCII, and an ASCII byte is never inside a UTF-8
    // sequence: what comes before it and after it are whole sequences.
    Some(unsafe {
        (
            ::core::str::from_utf8_unchecked(head),
            ::core::str::from_utf8_unchecked(tail),
        )
    })
}

/// `text` after `prefix` when it starts with it, ASCII letters in any case.
pub(crate) fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let (head, rest) = text.split_at_checked(prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then_some(rest)
}

/// Returns `url` with the query parameter `key` set to `value` (percent-encoded).
/// Any existing occurrence of `key` is removed first and a `#fragment` stays last.
pub fn set_query_param(url: &str, key: &str, value: &str) -> String {
    let fragment = split_once_byte(url, b'#');
    let before_fragment = fragment.map_or(url, |(before, _)| before);
    let (path, query) = split_once_byte(before_fragment, b'?').unwrap_or((before_fragment, ""));
    let mut out = String::with_capacity(url.len() + key.len() + value.len() + 2);
    out.push_str(path);
    let mut separator = b'?';
    let mut rest = query;
    while !rest.is_empty() {
        let (pair, after) = split_once_byte(rest, b'&').unwrap_or((rest, ""));
        rest = after;
        let name = split_once_byte(pair, b'=').map_or(pair, |(name, _)| name);
        if pair.is_empty() || name == key {
            continue;
        }
        push_ascii(&mut out, separator);
        out.push_str(pair);
        separator = b'&';
    }
    push_ascii(&mut out, separator);
    percent_encode_into(key, &mut out);
    push_ascii(&mut out, b'=');
    percent_encode_into(value, &mut out);
    if let Some((_, fragment)) = fragment {
        push_ascii(&mut out, b'#');
        out.push_str(fragment);
    }
    out
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode_into(text: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            push_ascii(out, byte);
        } else {
            push_ascii(out, b'%');
            push_ascii(out, HEX[usize::from(byte >> 4)]);
            push_ascii(out, HEX[usize::from(byte & 0x0f)]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{set_query_param, validate_socket_url};

    #[test]
    fn accepts_ws_and_wss() {
        assert!(validate_socket_url("ws://127.0.0.1:8080/ws").is_ok());
        assert!(validate_socket_url("WSS://example.com").is_ok());
        assert!(validate_socket_url("ws://h?x=1").is_ok());
    }

    #[test]
    fn rejects_other_schemes_missing_hosts_and_whitespace() {
        assert!(validate_socket_url("http://example.com/ws").is_err());
        assert!(validate_socket_url("/ws").is_err());
        assert!(validate_socket_url("").is_err());
        assert!(validate_socket_url("ws://").is_err());
        assert!(validate_socket_url("ws:///path").is_err());
        assert!(validate_socket_url("ws://a b/").is_err());
        // Multi-byte text where the scheme would be must not panic on a char boundary.
        assert!(validate_socket_url("wé://x").is_err());
    }

    #[test]
    fn appends_with_the_right_separator() {
        assert_eq!(
            set_query_param("ws://h/ws", "session_id", "a"),
            "ws://h/ws?session_id=a"
        );
        assert_eq!(
            set_query_param("ws://h/ws?token=t", "session_id", "a"),
            "ws://h/ws?token=t&session_id=a"
        );
    }

    #[test]
    fn replaces_an_existing_value_and_keeps_the_fragment_last() {
        assert_eq!(
            set_query_param("ws://h/ws?session_id=old&x=1#frag", "session_id", "new"),
            "ws://h/ws?x=1&session_id=new#frag"
        );
    }

    #[test]
    fn percent_encodes_the_value() {
        assert_eq!(
            set_query_param("ws://h/", "session_id", "a b&c=é"),
            "ws://h/?session_id=a%20b%26c%3D%C3%A9"
        );
    }
}
