//! What a client sends the server, through the server's parsers: text
//! frames and POST bodies (envelopes, acknowledgements, duplicate
//! suppression, the handler's replies numbered), query strings of `/ws` and
//! the fallback, resume requests (`last_seq`, `epoch`), origins, static
//! paths. One session lives through the whole input, with small budgets so
//! trimming runs. Nothing may panic; the budgets hold; every text the server
//! would send is JSON; a kept query never shows a value it should redact.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use resocket_server::exchange::{intake, settle, Intake, Outgoing};
use resocket_server::handler::HandlerError;
use resocket_server::http_fallback::HttpQuery;
use resocket_server::protocol::Inbound;
use resocket_server::request::parse_query;
use resocket_server::session_log::{redact_query, LOGGED_PARAMETERS};
use resocket_server::sessions::Sessions;
use resocket_server::static_files::is_inside;
use resocket_server::stream::ResumeRequest;
use resocket_server::ws::WsQuery;
use resocket_server::{Limits, OriginPolicy};
use serde_json::Value;

const NOW: &str = "2026-01-01T00:00:00.000Z";
const REPLAY_BUDGET: usize = 2048;
const SEEN_BUDGET: usize = 1024;

fn text(u: &mut Unstructured) -> Result<String> {
    let len = u.int_in_range(0..=200)?;
    Ok(String::from_utf8_lossy(u.bytes(len)?).into_owned())
}

/// The frames' texts; a numbered one must carry its own `seq`.
fn texts_of(frames: Vec<Outgoing>) -> Vec<String> {
    frames
        .into_iter()
        .map(|frame| {
            if let Outgoing::Numbered(seq, text) = &frame {
                assert!(text.contains(&format!("\"seq\":{seq}")), "{text} is not numbered {seq}");
            }
            frame.into_text()
        })
        .collect()
}

fn assert_json(texts: &[String]) {
    for text in texts {
        assert!(serde_json::from_str::<Value>(text).is_ok(), "not JSON: {text}");
    }
}

fn run(u: &mut Unstructured) -> Result<()> {
    let limits = Limits {
        replay_bytes_per_session: REPLAY_BUDGET,
        seen_id_bytes_per_session: SEEN_BUDGET,
        max_id_bytes: 32,
        max_type_bytes: 16,
        ..Limits::default()
    };
    let sessions = Sessions::new(limits.clone(), true);
    while !u.is_empty() {
        match u.int_in_range(0..=7u8)? {
            // A text frame, then the handler's answer (replies or a failure).
            0 | 1 => {
                let frame = text(u)?;
                let acknowledge = u.arbitrary()?;
                let ok = u.arbitrary::<bool>()?;
                let reply = text(u)?;
                let texts = sessions
                    .with("s", |session| {
                        match intake(session, Inbound::parse(&frame), acknowledge, &limits, NOW) {
                            Intake::Handle(job) => {
                                let result = if ok {
                                    match serde_json::from_str::<Value>(&reply) {
                                        Ok(Value::Array(replies)) => Ok(replies),
                                        Ok(other) => Ok(vec![other]),
                                        Err(_) => Ok(Vec::new()),
                                    }
                                } else {
                                    Err(HandlerError::new("e", reply.clone()))
                                };
                                let id = job.message.id().map(str::to_owned);
                                texts_of(settle(session, job.ack_id.as_deref(), id.as_deref(), result, NOW))
                            }
                            Intake::Pong(text) | Intake::Duplicate(text) => vec![text],
                            Intake::Answer(frames) => texts_of(frames),
                            Intake::Ignore => Vec::new(),
                        }
                    })
                    .unwrap_or_default();
                assert_json(&texts);
            }
            // A POST body: every element through the same intake.
            2 => {
                let body = text(u)?;
                if let Ok(Value::Array(envelopes)) = serde_json::from_str::<Value>(&body) {
                    let _ = sessions.with("s", |session| {
                        for envelope in envelopes {
                            if let Intake::Answer(frames) = intake(session, Inbound::from_value(envelope), true, &limits, NOW) {
                                assert_json(&texts_of(frames));
                            }
                        }
                    });
                }
            }
            // Query strings of /ws and the fallback, and what a log keeps of them.
            3 => {
                let query = text(u)?;
                let _ = serde_urlencoded::from_str::<WsQuery>(&query);
                let _ = serde_urlencoded::from_str::<HttpQuery>(&query);
                let _ = parse_query(&query);
                let kept = redact_query(&query);
                for pair in kept.split('&') {
                    if let Some((name, value)) = pair.split_once('=') {
                        assert!(
                            LOGGED_PARAMETERS.contains(&name) || value == "[redacted]",
                            "kept {pair}"
                        );
                    }
                }
            }
            // A resume request against the session's stream.
            4 => {
                let last_seq = u.arbitrary::<Option<u64>>()?;
                let epoch = u.arbitrary::<bool>()?.then(|| text(u)).transpose()?;
                let v1_1 = u.arbitrary()?;
                let request = ResumeRequest { v1_1, last_seq, epoch: epoch.as_deref(), limits: None };
                let _ = sessions.with("s", |session| {
                    let opening = session.stream.opening(&request);
                    let texts: Vec<String> = opening.into_iter().map(|(_, text)| text).collect();
                    assert_json(&texts);
                    assert_json(&session.stream.post_preamble(&request));
                });
            }
            // Origins and patterns.
            5 => {
                let mut policy = OriginPolicy::default();
                let _ = policy.allow(&text(u)?);
                let origin = text(u)?;
                let host = text(u)?;
                let _ = policy.permits(Some(&origin), Some(&host));
            }
            // Static paths.
            6 => {
                let path = text(u)?;
                let _ = is_inside(&std::env::temp_dir(), &path);
            }
            // A push, as the control endpoint or the publisher does.
            _ => {
                let data = text(u)?;
                let _ = sessions.with("s", |session| session.push(serde_json::json!({"type": "push", "data": data})));
            }
        }
        let (stream, seen) = sessions
            .get("s", |s| (s.stream.bytes(), s.seen.bytes()))
            .unwrap_or((0, 0));
        // One frame or id may exceed the budget by itself; never more.
        assert!(stream <= REPLAY_BUDGET + 64 * 1024, "replay log {stream} bytes");
        assert!(seen <= SEEN_BUDGET + 2 * 256 + 64, "seen ids {seen} bytes");
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
