//! The one declaration of everything that crosses between `bridge.js` and
//! Rust by number: the calls the host makes into the core (and what their
//! arguments mean), frame kinds and sources, page events, the answer bits of
//! a frame, and the order of the option fields `readOptions` returns.
//!
//! The JavaScript constants are generated from these tables into the block
//! between the `generated` markers in `bridge.js`; a native test fails when
//! the two differ (`RESOCKET_BLESS=1 cargo test --lib boundary` rewrites
//! the block). Nothing numeric is kept in step by hand.

use crate::core::{FrameKind, FrameSource, PageEvent};

/// A call from the host into the core: `route(call, data, number, detail)`.
/// What `data`, `number` and `detail` carry is documented per call (and
/// copied into `bridge.js`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum HostCall {
    /// The socket opened.
    SocketOpened = 0,
    /// The socket reported an error.
    SocketError = 1,
    /// The socket closed. data: reason; number: code; detail: 1 if clean.
    SocketClosed = 2,
    /// A frame. data: its `id` (pong, ping, ack) or `data.firstAvailable`
    /// (gap); number: its `seq` (NaN if none); detail: kind + 8 × source.
    /// Answers with `Verdict` bits.
    Frame = 3,
    /// The core's deadline was reached.
    Timeout = 4,
    /// A page-lifecycle event. detail: its `PageEventCode`.
    Page = 5,
    /// The URL function answered. data: the URL or the error; number: the
    /// attempt; detail: 1 if it fulfilled.
    UrlAnswer = 6,
    /// The host wants the current snapshot (Rust answers with `holdSnapshot`).
    Snapshot = 7,
    /// The event stream opened.
    EventsOpened = 8,
    /// The event stream failed.
    EventsFailed = 9,
    /// The POST in flight was answered. number: the HTTP status.
    PostAnswered = 10,
    /// The POST in flight failed without an answer. data: why.
    PostFailed = 11,
    /// The number of `subscribe()` listeners changed. number: how many.
    Watchers = 12,
}

impl HostCall {
    /// Every call, by number.
    pub(crate) const ALL: [HostCall; 13] = [
        HostCall::SocketOpened,
        HostCall::SocketError,
        HostCall::SocketClosed,
        HostCall::Frame,
        HostCall::Timeout,
        HostCall::Page,
        HostCall::UrlAnswer,
        HostCall::Snapshot,
        HostCall::EventsOpened,
        HostCall::EventsFailed,
        HostCall::PostAnswered,
        HostCall::PostFailed,
        HostCall::Watchers,
    ];

    /// The call numbered `number`, if there is one.
    pub(crate) fn from_number(number: u8) -> Option<HostCall> {
        Self::ALL.get(usize::from(number)).copied()
    }
}

/// How many frame kinds fit below a source in a frame call's `detail`.
pub(crate) const FRAME_SOURCE_SHIFT: u32 = 8;

/// Frame sources, by number.
pub(crate) const FRAME_SOURCES: [FrameSource; 3] = [
    FrameSource::Socket,
    FrameSource::Events,
    FrameSource::PostReply,
];

/// The kind and source packed into a frame call's `detail`.
pub(crate) fn frame_detail(detail: u32) -> (FrameKind, FrameSource) {
    let kind = FrameKind::from_number((detail % FRAME_SOURCE_SHIFT) as u8);
    let source = FRAME_SOURCES
        .get((detail / FRAME_SOURCE_SHIFT) as usize)
        .copied()
        .unwrap_or(FrameSource::Socket);
    (kind, source)
}

/// Page events, by the number the host reports.
pub(crate) const PAGE_EVENTS: [PageEvent; 8] = [
    PageEvent::Online,
    PageEvent::Offline,
    PageEvent::VisibilityChanged { visible: true },
    PageEvent::VisibilityChanged { visible: false },
    PageEvent::PageHide { persisted: false },
    PageEvent::PageHide { persisted: true },
    PageEvent::PageShow { persisted: false },
    PageEvent::PageShow { persisted: true },
];

/// A frame call's answer: deliver the frame to the listeners.
pub(crate) const VERDICT_DELIVER: u32 = 1;
/// A frame call's answer: the snapshot changed and someone can notice.
pub(crate) const VERDICT_CHANGED: u32 = 2;

/// The number options, in the order `readOptions` returns them (after the
/// URL, URL function, protocols, `autoConnect`, `shouldReconnect` and
/// `enableWebSocket`): Rust reads them by these positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumberOption {
    ReconnectInterval,
    MaxReconnectInterval,
    ReconnectBackoffFactor,
    ReconnectJitter,
    MaxReconnectAttempts,
    ConnectTimeout,
    MinUptime,
    HeartbeatInterval,
    HeartbeatTimeout,
    MessageQueueSize,
    FallbackAfterAttempts,
    UpgradeProbeInterval,
    AckTimeout,
}

/// The string options, in their order after the number options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StringOption {
    SessionId,
    QueueOverflow,
    PingType,
    PongType,
    HttpFallbackUrl,
    HttpEventsUrl,
    Delivery,
}

/// The fields `readOptions` returns first, each at its position: the options
/// that are not plain numbers or strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeadField {
    /// `url` when it is a string.
    Url,
    /// `url` when it is a function.
    UrlFunction,
    /// `protocols`, as an array of strings.
    Protocols,
    /// `autoConnect` (default true).
    AutoConnect,
    /// `shouldReconnect`, if given.
    ShouldReconnect,
    /// `enableWebSocket`, if given.
    EnableWebSocket,
}

/// How many fields `readOptions` returns before the named options.
pub(crate) const OPTIONS_HEAD: usize = HeadField::EnableWebSocket as usize + 1;

impl NumberOption {
    /// Where `readOptions` puts this option.
    pub(crate) fn position(self) -> usize {
        OPTIONS_HEAD + self as usize
    }
}

impl StringOption {
    /// Where `readOptions` puts this option.
    pub(crate) fn position(self) -> usize {
        OPTIONS_HEAD + NUMBER_OPTION_COUNT + self as usize
    }
}

const NUMBER_OPTION_COUNT: usize = NumberOption::AckTimeout as usize + 1;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    extern crate std;

    use std::format;
    use std::string::String;

    use super::*;
    use crate::core::{OptionValues, Transport, ENVELOPE_PARTS, ID_SEPARATOR, PING_SEPARATOR};

    const BEGIN: &str = "// --- generated by src/browser/boundary.rs: do not edit ---\n";
    const END: &str = "// --- end of generated code ---\n";

    fn constant_name(debug: &str) -> String {
        let mut name = String::new();
        for (i, ch) in debug.chars().enumerate() {
            if ch.is_ascii_uppercase() && i > 0 {
                name.push('_');
            }
            name.push(ch.to_ascii_uppercase());
        }
        name
    }

    const HEAD_FIELDS: [HeadField; OPTIONS_HEAD] = [
        HeadField::Url,
        HeadField::UrlFunction,
        HeadField::Protocols,
        HeadField::AutoConnect,
        HeadField::ShouldReconnect,
        HeadField::EnableWebSocket,
    ];

    const NUMBER_OPTIONS: [NumberOption; NUMBER_OPTION_COUNT] = [
        NumberOption::ReconnectInterval,
        NumberOption::MaxReconnectInterval,
        NumberOption::ReconnectBackoffFactor,
        NumberOption::ReconnectJitter,
        NumberOption::MaxReconnectAttempts,
        NumberOption::ConnectTimeout,
        NumberOption::MinUptime,
        NumberOption::HeartbeatInterval,
        NumberOption::HeartbeatTimeout,
        NumberOption::MessageQueueSize,
        NumberOption::FallbackAfterAttempts,
        NumberOption::UpgradeProbeInterval,
        NumberOption::AckTimeout,
    ];
    const STRING_OPTIONS: [StringOption; 7] = [
        StringOption::SessionId,
        StringOption::QueueOverflow,
        StringOption::PingType,
        StringOption::PongType,
        StringOption::HttpFallbackUrl,
        StringOption::HttpEventsUrl,
        StringOption::Delivery,
    ];

    /// `ReconnectInterval` → `reconnectInterval`, as the JavaScript API spells it.
    fn option_name(variant: &str) -> String {
        let mut chars = variant.chars();
        let first = chars.next().map(|c| c.to_ascii_lowercase());
        first.into_iter().chain(chars).collect()
    }

    const PING_PARAMETER: &str = "pingType";
    const PONG_PARAMETER: &str = "pongType";

    fn json_list(parts: &[&str]) -> String {
        let quoted: std::vec::Vec<String> = parts
            .iter()
            .map(|part| format!("\"{}\"", part.replace('\\', "\\\\").replace('"', "\\\"")))
            .collect();
        format!("[{}]", quoted.join(", "))
    }

    fn page_name(event: PageEvent) -> &'static str {
        match event {
            PageEvent::Online => "ONLINE",
            PageEvent::Offline => "OFFLINE",
            PageEvent::VisibilityChanged { visible: true } => "VISIBLE",
            PageEvent::VisibilityChanged { visible: false } => "HIDDEN",
            PageEvent::PageHide { persisted: false } => "PAGEHIDE",
            PageEvent::PageHide { persisted: true } => "PAGEHIDE_PERSISTED",
            PageEvent::PageShow { persisted: false } => "PAGESHOW",
            PageEvent::PageShow { persisted: true } => "PAGESHOW_PERSISTED",
        }
    }

    /// The JavaScript the tables above stand for: plain top-level constants,
    /// which the minifier shortens to one letter each.
    fn generated() -> String {
        let mut js = String::from(BEGIN);
        let constant = |js: &mut String, name: &str, value: u32, doc: &str| {
            if !doc.is_empty() {
                js.push_str(&format!("/** {doc} */\n"));
            }
            js.push_str(&format!("const {name} = {value};\n"));
        };
        let calls = "Calls into the core: `route(call, data, number, detail)`; boundary.rs says what each carries.";
        for (i, call) in HostCall::ALL.iter().enumerate() {
            let name = format!("CALL_{}", constant_name(&format!("{call:?}")));
            constant(
                &mut js,
                &name,
                *call as u32,
                if i == 0 { calls } else { "" },
            );
        }
        for (i, kind) in FrameKind::ALL.iter().enumerate() {
            let name = format!("KIND_{}", constant_name(&format!("{kind:?}")));
            constant(
                &mut js,
                &name,
                *kind as u32,
                if i == 0 {
                    "What a frame is, by the core's frame-type table."
                } else {
                    ""
                },
            );
        }
        let sources = format!("Where a frame came from; a frame call's detail is kind + {FRAME_SOURCE_SHIFT} × source.");
        for (number, source) in FRAME_SOURCES.iter().enumerate() {
            let name = format!("SOURCE_{}", constant_name(&format!("{source:?}")));
            constant(
                &mut js,
                &name,
                number as u32 * FRAME_SOURCE_SHIFT,
                if number == 0 { &sources } else { "" },
            );
        }
        for (number, event) in PAGE_EVENTS.iter().enumerate() {
            let name = format!("PAGE_{}", page_name(*event));
            constant(
                &mut js,
                &name,
                number as u32,
                if number == 0 {
                    "Page-lifecycle events, as the host reports them."
                } else {
                    ""
                },
            );
        }
        constant(
            &mut js,
            "VERDICT_DELIVER",
            VERDICT_DELIVER,
            "A frame call's answer bits.",
        );
        constant(&mut js, "VERDICT_CHANGED", VERDICT_CHANGED, "");
        js.push_str("/** The envelope's fixed parts, around type, data, id and timestamp. */\n");
        js.push_str(&format!(
            "const ENVELOPE = {};\n",
            json_list(&ENVELOPE_PARTS)
        ));
        js.push_str(&format!(
            "/** What separates an id's random prefix from a message's (or a ping's) number. */\nconst ID_SEPARATOR = \"{ID_SEPARATOR}\";\nconst PING_SEPARATOR = \"{PING_SEPARATOR}\";\n"
        ));
        // The core's frame-type table, with the configured types as parameters.
        let config = OptionValues {
            url: Some("ws://h/".into()),
            session_id: "s".into(),
            ping_type: Some(PING_PARAMETER.into()),
            pong_type: Some(PONG_PARAMETER.into()),
            ..OptionValues::default()
        };
        let core: Transport<()> = Transport::new(config.validate().expect("valid"), 1);
        let entries: std::vec::Vec<String> = core
            .frame_types()
            .iter()
            .map(|(name, kind)| {
                let name = match *name {
                    PING_PARAMETER | PONG_PARAMETER => String::from(*name),
                    literal => format!("\"{literal}\""),
                };
                format!("[{name}, KIND_{}]", constant_name(&format!("{kind:?}")))
            })
            .collect();
        js.push_str(&format!(
            "/**\n * The core's frame-type table, in its order (a later entry wins).\n * @param {{string}} {PING_PARAMETER}\n * @param {{string}} {PONG_PARAMETER}\n * @returns {{[string, number][]}}\n */\nconst frameTypeTable = ({PING_PARAMETER}, {PONG_PARAMETER}) => [{}];\n",
            entries.join(", ")
        ));
        let list = |names: &[String]| {
            names
                .iter()
                .map(|name| format!("\"{name}\""))
                .collect::<std::vec::Vec<_>>()
                .join(", ")
        };
        for (i, field) in HEAD_FIELDS.iter().enumerate() {
            let name = format!("HEAD_{}", constant_name(&format!("{field:?}")));
            let doc = if i == 0 {
                "Where `readOptions` puts the options that are not plain numbers or strings."
            } else {
                ""
            };
            constant(&mut js, &name, *field as u32, doc);
        }
        // `url` is one option in two HEAD_ fields (a string or a function).
        let head_options: std::vec::Vec<String> = HEAD_FIELDS
            .iter()
            .filter(|field| !matches!(field, HeadField::UrlFunction))
            .map(|field| option_name(&format!("{field:?}")))
            .collect();
        js.push_str(&format!(
            "/** Options read as numbers, then as strings, in this order (after the HEAD_ fields). */\nconst NUMBER_OPTIONS = [{}];\nconst STRING_OPTIONS = [{}];\n/** The other options' names: with the two lists above, every option there is. */\nconst OTHER_OPTIONS = [{}];\n",
            list(&NUMBER_OPTIONS.map(|option| option_name(&format!("{option:?}")))),
            list(&STRING_OPTIONS.map(|option| option_name(&format!("{option:?}")))),
            list(&head_options)
        ));
        js.push_str(END);
        js
    }

    #[test]
    fn bridge_js_holds_the_generated_boundary() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/browser/bridge.js");
        let source = std::fs::read_to_string(path).expect("bridge.js");
        let start = source
            .find(BEGIN)
            .expect("the generated block's first line");
        let end = source.find(END).expect("the generated block's last line") + END.len();
        let expected = generated();
        if source[start..end] != expected {
            if std::env::var_os("RESOCKET_BLESS").is_some() {
                let updated = format!("{}{}{}", &source[..start], expected, &source[end..]);
                std::fs::write(path, updated).expect("rewrite bridge.js");
                return;
            }
            panic!(
                "bridge.js's generated block is out of date with boundary.rs: run RESOCKET_BLESS=1 cargo test --lib boundary"
            );
        }
    }

    #[test]
    fn every_call_page_event_and_frame_detail_round_trips() {
        for call in HostCall::ALL {
            assert_eq!(HostCall::from_number(call as u8), Some(call));
        }
        assert_eq!(HostCall::from_number(200), None);
        for (number, source) in FRAME_SOURCES.iter().enumerate() {
            for kind in FrameKind::ALL {
                let detail = kind as u32 + number as u32 * FRAME_SOURCE_SHIFT;
                assert_eq!(frame_detail(detail), (kind, *source));
            }
        }
        assert_eq!(PAGE_EVENTS.len(), 8);
        for (i, field) in HEAD_FIELDS.iter().enumerate() {
            assert_eq!(*field as usize, i, "{field:?} in order");
        }
        for (i, option) in NUMBER_OPTIONS.iter().enumerate() {
            assert_eq!(option.position(), OPTIONS_HEAD + i, "{option:?} in order");
        }
        for (i, option) in STRING_OPTIONS.iter().enumerate() {
            assert_eq!(option.position(), OPTIONS_HEAD + NUMBER_OPTION_COUNT + i);
        }
    }
}
