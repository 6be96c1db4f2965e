//! Unguessable tokens from the operating system's random source.

/// `bytes` random bytes as lowercase hex (twice as many characters): safe in
/// a URL query and a header without escaping.
pub fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    // The OS source fails only on a broken system (no /dev/urandom, no
    // getrandom(2)); a predictable token would be worse than stopping.
    getrandom::fill(&mut buffer).expect("the operating system's random source works");
    hex(&buffer)
}

/// `bytes` as lowercase hex, two characters each.
pub fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(HEX[usize::from(byte >> 4)]));
        text.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    text
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_hex_of_the_asked_length_and_differ() {
        let a = random_token(16);
        let b = random_token(16);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
