//! The byte format of the exchange buffer: what the JavaScript half writes
//! for the core (strings, the options) and the records the core writes back
//! for it to execute.
//!
//! Numbers are little-endian: `u32` for codes, counts and lengths, `f64` for
//! times, message numbers and anything that may be absent (`NaN`). A string is
//! its UTF-8 length as a `u32`, then its bytes. Nothing is aligned, so
//! `transport.js` reads with a `DataView`.
//!
//! Each op's fields are declared once, as its [`Op::shape`]: the
//! JavaScript reader is generated from it, and [`check`] reads by it.

use crate::prelude::*;

/// What a record asks the JavaScript half to do (or tells it), by number;
/// the fields that follow each are listed per variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Op {
    /// Arm the one timer (replacing it). f64 delay in ms.
    SetTimer = 0,
    /// Cancel the timer.
    ClearTimer,
    /// Call the URL function. f64 attempt.
    ResolveUrl,
    /// Open a WebSocket (replacing any). str URL.
    OpenSocket,
    /// Close the WebSocket. u32 code, str reason.
    CloseSocket,
    /// Send a held frame on the socket. f64 handle.
    Transmit,
    /// Send heartbeat ping. f64 number.
    Ping,
    /// Open the event stream (replacing any). str URL.
    OpenEvents,
    /// Close the event stream.
    CloseEvents,
    /// POST frames as one JSON array. str URL, u32 count, f64 handle × count.
    Post,
    /// Abandon the POST in flight.
    AbortPost,
    /// Long-poll the events URL (its envelopes are event-stream frames). str URL.
    Poll,
    /// `"state"` event. u32 state.
    State,
    /// `"mode"` event. u32 mode.
    Mode,
    /// `"open"` event.
    Opened,
    /// `"close"` event. u32 code, u32 clean (0/1), str reason.
    Closed,
    /// `"error"` event. str message.
    Error,
    /// `"latency"` event. Latency stats (see `Writer::latency`).
    Latency,
    /// `"reconnecting"` event. u32 attempt, f64 delay.
    Reconnecting,
    /// `"reset"` event. f64 previous seq, f64 first seq.
    Reset,
    /// `"queue"` event. u32 length, u32 count, f64 handle × count (dropped).
    Queue,
    /// A `sendWithAck` message was acknowledged. f64 its number (the
    /// JavaScript half knows the id's prefix).
    Acked,
    /// `sendWithAck` messages that will never be. str why (completing
    /// "resocket: the message …"), u32 count, f64 number × count.
    AckLost,
    /// `"dropped"` event: a message given up undelivered. f64 its handle,
    /// str why (completing "the message …").
    Dropped,
    /// Frames the core holds no more. u32 count, f64 handle × count.
    Release,
    /// Deliver the received frame held under this seq (the frame call was
    /// answered `HOLD`). f64 seq.
    Deliver,
    /// Deliver the client's own gap notice, shaped like the server's
    /// (`{"type":"gap","data":{"after","firstAvailable"}}`). f64 after, f64
    /// first available.
    Gap,
    /// A transport was made. u32 handle, str session id, str id prefix, str
    /// ping type, str pong type.
    Created,
    /// Throw `new (Error, TypeError, RangeError)[kind]("resocket: " + message)`.
    /// u32 kind, str message.
    Throw,
    /// Throw an option's error: "resocket: <name> <reason>, got <value>".
    /// u32 kind (1 type, 2 range), u32 field (`core::Field`), str reason.
    OptionError,
    /// The snapshot. See `Writer::snapshot`.
    Snapshot,
    /// The held frames, oldest first. u32 count, f64 handle × count.
    Held,
    /// Where a shared session stands (`shared-tabs`). str session id, str
    /// epoch ("" if none), f64 `last_seq` (NaN if none), u32 mirror capacity.
    #[cfg_attr(not(feature = "shared-tabs"), allow(dead_code))]
    Point,
    /// A message of the tabs' mirror (`shared-tabs`). f64 the tab that sent
    /// it, u32 1 if it awaits an ack, str its id, str the frame.
    #[cfg_attr(not(feature = "shared-tabs"), allow(dead_code))]
    Mirrored,
    /// Post this ballot to the other tabs (`shared-tabs`). u32 kind (hello,
    /// claim, lease, resign), f64 tab, f64 term.
    #[cfg_attr(not(feature = "shared-tabs"), allow(dead_code))]
    Ballot,
    /// This tab leads now (`shared-tabs`). f64 term.
    #[cfg_attr(not(feature = "shared-tabs"), allow(dead_code))]
    Elected,
    /// This tab no longer leads (`shared-tabs`).
    #[cfg_attr(not(feature = "shared-tabs"), allow(dead_code))]
    Deposed,
    /// Arm the election's timer (`shared-tabs`), replacing it. f64 delay in
    /// ms, NaN for none.
    #[cfg_attr(not(feature = "shared-tabs"), allow(dead_code))]
    LeaseTimer,
}

impl Op {
    /// Every op, by number.
    #[cfg(any(test, fuzzing))]
    pub(crate) const ALL: [Op; 38] = [
        Op::SetTimer,
        Op::ClearTimer,
        Op::ResolveUrl,
        Op::OpenSocket,
        Op::CloseSocket,
        Op::Transmit,
        Op::Ping,
        Op::OpenEvents,
        Op::CloseEvents,
        Op::Post,
        Op::AbortPost,
        Op::Poll,
        Op::State,
        Op::Mode,
        Op::Opened,
        Op::Closed,
        Op::Error,
        Op::Latency,
        Op::Reconnecting,
        Op::Reset,
        Op::Queue,
        Op::Acked,
        Op::AckLost,
        Op::Dropped,
        Op::Release,
        Op::Deliver,
        Op::Gap,
        Op::Created,
        Op::Throw,
        Op::OptionError,
        Op::Snapshot,
        Op::Held,
        Op::Point,
        Op::Mirrored,
        Op::Ballot,
        Op::Elected,
        Op::Deposed,
        Op::LeaseTimer,
    ];

    /// The fields that follow the op, in order: `u` a `u32`, `f` an `f64`,
    /// `s` a string, `F` a count then that many `f64`s. (Read by the generated JavaScript, the tests and the fuzzer.)
    #[cfg(any(test, fuzzing))]
    pub(crate) const fn shape(self) -> &'static str {
        match self {
            Op::ClearTimer | Op::CloseEvents | Op::AbortPost | Op::Opened => "",
            Op::SetTimer | Op::ResolveUrl | Op::Transmit | Op::Ping | Op::Acked | Op::Deliver => {
                "f"
            }
            Op::OpenSocket | Op::OpenEvents | Op::Poll | Op::Error => "s",
            Op::State | Op::Mode => "u",
            Op::CloseSocket | Op::Throw => "us",
            Op::Post => "sF",
            Op::Closed => "uus",
            Op::Latency => LATENCY_SHAPE,
            Op::Reconnecting => "uf",
            Op::Reset | Op::Gap => "ff",
            Op::Queue => "uF",
            Op::AckLost => "sF",
            Op::Dropped => "fs",
            Op::Release | Op::Held => "F",
            Op::Created => "ussss",
            Op::OptionError => "uus",
            // state, mode, attempt, next retry; latency; queued, reason,
            // close code, close reason, last seq; six counters.
            Op::Snapshot => "uuuffffffuuufsfffffff",
            Op::Point => "ssfu",
            Op::Mirrored => "fuss",
            Op::Ballot => "uff",
            Op::Elected | Op::LeaseTimer => "f",
            Op::Deposed => "",
        }
    }
}

/// Latency statistics: last, avg, min, max, jitter (NaN before the first
/// sample), then the number of samples.
#[cfg(any(test, fuzzing))]
pub(crate) const LATENCY_SHAPE: &str = "fffffu";

/// Appends records to the exchange buffer.
pub(crate) struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> Writer<'a> {
    /// A writer appending to `out`.
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Self {
        Self { out }
    }

    /// Starts a record.
    pub(crate) fn op(&mut self, op: Op) -> &mut Self {
        self.out.push(op as u8);
        self
    }

    /// One byte (the options' presence and flag bytes, in tests).
    #[cfg(all(test, not(target_arch = "wasm32")))]
    pub(crate) fn out_byte(&mut self, value: u8) -> &mut Self {
        self.out.push(value);
        self
    }

    pub(crate) fn u32(&mut self, value: u32) -> &mut Self {
        self.out.extend_from_slice(&value.to_le_bytes());
        self
    }

    /// A count or length, saturating (nothing the core holds comes near).
    pub(crate) fn len(&mut self, value: usize) -> &mut Self {
        self.u32(u32::try_from(value).unwrap_or(u32::MAX))
    }

    pub(crate) fn f64(&mut self, value: f64) -> &mut Self {
        self.out.extend_from_slice(&value.to_le_bytes());
        self
    }

    /// `NaN` for `None`.
    pub(crate) fn maybe(&mut self, value: Option<f64>) -> &mut Self {
        self.f64(value.unwrap_or(f64::NAN))
    }

    pub(crate) fn str(&mut self, text: &str) -> &mut Self {
        self.len(text.len());
        self.out.extend_from_slice(text.as_bytes());
        self
    }

    /// A count of 0 to be raised by `increment`; returns where it is.
    pub(crate) fn placeholder(&mut self) -> usize {
        let at = self.out.len();
        self.u32(0);
        at
    }

    /// Adds one to the count at `at` (from `placeholder`).
    pub(crate) fn increment(&mut self, at: usize) -> &mut Self {
        if let Some(count) = self.out.get_mut(at..at + 4) {
            let raised =
                u32::from_le_bytes([count[0], count[1], count[2], count[3]]).wrapping_add(1);
            count.copy_from_slice(&raised.to_le_bytes());
        }
        self
    }

    /// A count, then each handle.
    pub(crate) fn handles<'h>(
        &mut self,
        handles: impl ExactSizeIterator<Item = &'h u64>,
    ) -> &mut Self {
        self.len(handles.len());
        for &handle in handles {
            self.f64(handle as f64);
        }
        self
    }
}

/// `bytes` as text, if they are UTF-8: a byte-at-a-time check in place of
/// `core::str::from_utf8`, whose word-at-a-time fast path costs ~0.7 KB of
/// wasm for inputs that are short here (URLs, reasons, ids, option strings).
/// `TextEncoder` only writes UTF-8, so this guards against misuse, not data.
pub(crate) fn utf8(bytes: &[u8]) -> Option<&str> {
    let mut rest = bytes;
    while let Some((&first, tail)) = rest.split_first() {
        // The sequence's length, and the smallest code point it may encode
        // (anything below is an overlong form).
        let (length, smallest) = match first {
            0x00..=0x7F => (0, 0),
            0xC2..=0xDF => (1, 0x80),
            0xE0..=0xEF => (2, 0x800),
            0xF0..=0xF4 => (3, 0x1_0000),
            _ => return None,
        };
        let (continuation, after) = tail.split_at_checked(length)?;
        let mut code = u32::from(first) & (0x7F >> length);
        for &byte in continuation {
            if byte & 0xC0 != 0x80 {
                return None;
            }
            code = code << 6 | u32::from(byte & 0x3F);
        }
        if code < smallest || (0xD800..=0xDFFF).contains(&code) || code > 0x10_FFFF {
            return None;
        }
        rest = after;
    }
    // SAFETY: the loop above checked every sequence: well formed, shortest
    // form, no surrogate, at most U+10FFFF, which is what UTF-8 means.
    Some(unsafe { ::core::str::from_utf8_unchecked(bytes) })
}

/// Reads what the JavaScript half wrote; `None` when the bytes run out or a
/// string is not UTF-8 (which `TextEncoder` never writes: the options reader
/// reports that as malformed rather than trusting it).
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`.
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    pub(crate) fn take(&mut self, count: usize) -> Option<&'a [u8]> {
        if count > self.bytes.len() {
            return None;
        }
        let (head, rest) = self.bytes.split_at(count);
        self.bytes = rest;
        Some(head)
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        let bytes: [u8; 4] = self.take(4)?.try_into().ok()?;
        Some(u32::from_le_bytes(bytes))
    }

    pub(crate) fn f64(&mut self) -> Option<f64> {
        let bytes: [u8; 8] = self.take(8)?.try_into().ok()?;
        Some(f64::from_le_bytes(bytes))
    }

    pub(crate) fn str(&mut self) -> Option<&'a str> {
        let len = self.u32()? as usize;
        utf8(self.take(len)?)
    }

    /// Whether every byte was read.
    pub(crate) fn is_done(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// Reads records through to the end as `transport.js` does (by each op's
/// shape) and returns their ops, panicking when one does not parse (for the
/// fuzzer and the tests: the format's contract).
#[cfg(any(test, fuzzing))]
pub(crate) fn check(out: &[u8]) -> Vec<Op> {
    let mut reader = Reader::new(out);
    let mut ops = Vec::new();
    while let Some(op) = reader.u8() {
        let op = *Op::ALL.get(usize::from(op)).expect("a known op");
        ops.push(op);
        for field in op.shape().bytes() {
            let read = match field {
                b'u' => reader.u32().map(drop),
                b'f' => reader.f64().map(drop),
                b's' => reader.str().map(drop),
                b'F' => reader
                    .u32()
                    .and_then(|n| (0..n).try_for_each(|_| reader.f64().map(drop))),
                _ => reader
                    .u32()
                    .and_then(|n| (0..n).try_for_each(|_| reader.str().map(drop))),
            };
            read.unwrap_or_else(|| panic!("{op:?}'s field {} does not parse", field as char));
        }
    }
    ops
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn what_the_writer_writes_the_reader_reads() {
        let mut out = Vec::new();
        Writer::new(&mut out)
            .u32(7)
            .f64(1.5)
            .str("héllo")
            .maybe(None)
            .handles([3u64, 9].iter());
        let mut reader = Reader::new(&out);
        assert_eq!(reader.u32(), Some(7));
        assert_eq!(reader.f64(), Some(1.5));
        assert_eq!(reader.str(), Some("héllo"));
        assert!(reader.f64().is_some_and(f64::is_nan));
        assert_eq!(reader.u32(), Some(2));
        assert_eq!(reader.f64(), Some(3.0));
        assert_eq!(reader.f64(), Some(9.0));
        assert!(reader.is_done());
    }

    #[test]
    fn a_short_or_invalid_input_reads_as_none() {
        assert_eq!(Reader::new(&[1, 0, 0]).u32(), None);
        assert_eq!(Reader::new(&[5, 0, 0, 0, b'a']).str(), None);
        assert_eq!(Reader::new(&[2, 0, 0, 0, 0xff, 0xfe]).str(), None);
        assert_eq!(Reader::new(&[0xff, 0xff, 0xff, 0xff]).str(), None);
    }

    proptest::proptest! {
        /// The compact check agrees with the standard one on any bytes.
        #[test]
        fn the_utf8_check_agrees_with_the_standard_one(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..24)) {
            proptest::prop_assert_eq!(utf8(&bytes), ::core::str::from_utf8(&bytes).ok());
        }

        /// And on text, including every plane.
        #[test]
        fn text_passes_the_utf8_check(text in "\\PC{0,12}") {
            proptest::prop_assert_eq!(utf8(text.as_bytes()), Some(text.as_str()));
        }
    }

    #[test]
    fn the_utf8_check_refuses_what_utf8_forbids() {
        for bad in [
            &[0xC0, 0x80][..],         // overlong NUL
            &[0xE0, 0x80, 0x80],       // overlong
            &[0xED, 0xA0, 0x80],       // a surrogate
            &[0xF4, 0x90, 0x80, 0x80], // above U+10FFFF
            &[0xE2, 0x82],             // cut short
            &[0x80],                   // a lone continuation
        ] {
            assert_eq!(utf8(bad), None, "{bad:x?}");
            assert_eq!(::core::str::from_utf8(bad).ok(), None);
        }
    }

    #[test]
    fn ops_round_trip_through_their_numbers() {
        for (number, op) in Op::ALL.iter().enumerate() {
            assert_eq!(*op as usize, number);
        }
    }
}
