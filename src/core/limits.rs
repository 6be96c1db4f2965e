//! What the server takes: the largest message. A message over the limit is
//! refused before it is queued: queued, it would be refused again on every
//! reconnect and hold the queue behind it.
//!
//! The limit is the smallest of `maxMessageBytes`, what the server
//! announced in its `welcome` (protocol 1.2: `data.limits.maxMessageBytes`),
//! and what a server showed by refusing a message (close 1009, HTTP 413):
//! below that message's size.

/// The smallest size limit: `maxMessageBytes` takes no less, and a server's
/// announcement or refusal lowers the limit no further. Text of at most a
/// third of it in UTF-16 units is within every limit, so the driver counts
/// the bytes of longer text only.
pub const MIN_MESSAGE_BYTES: u32 = 1024;

/// The server's limits as the client knows them.
#[derive(Debug, Clone)]
pub struct Limits {
    max_message_bytes: u32,
    /// A POST of several messages was refused as too big (413): the body
    /// limit is below the message limit (a proxy's, say), so each POST
    /// carries one message from then on.
    posts_alone: bool,
}

impl Limits {
    /// Starting from `maxMessageBytes`.
    pub fn new(max_message_bytes: u32) -> Self {
        Self {
            max_message_bytes,
            posts_alone: false,
        }
    }

    /// Whether each POST carries one message.
    pub fn posts_alone(&self) -> bool {
        self.posts_alone
    }

    /// A POST was refused as too big: one message per POST from now on.
    pub fn post_one_by_one(&mut self) {
        self.posts_alone = true;
    }

    /// The largest message the server takes, in bytes.
    pub fn max_message_bytes(&self) -> u32 {
        self.max_message_bytes
    }

    /// Lowers the limit to `bytes` (an announcement, or a refusal showing
    /// the limit is below a message's size), not below
    /// [`MIN_MESSAGE_BYTES`]; never raises it. Not a number (nothing
    /// announced) changes nothing.
    pub fn lower_to(&mut self, bytes: f64) {
        if bytes < f64::from(self.max_message_bytes) {
            self.max_message_bytes = bytes.max(f64::from(MIN_MESSAGE_BYTES)) as u32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_only_goes_down_and_not_below_the_least() {
        let mut limits = Limits::new(5000);
        limits.lower_to(f64::NAN);
        limits.lower_to(9000.0);
        assert_eq!(limits.max_message_bytes(), 5000);
        limits.lower_to(2000.0);
        assert_eq!(limits.max_message_bytes(), 2000);
        limits.lower_to(0.0);
        assert_eq!(limits.max_message_bytes(), MIN_MESSAGE_BYTES);
    }
}
