//! Random sequences of the core's `Input` against one transport, with random
//! (valid) options: no input sequence may panic, a handled timeout leaves no
//! deadline in the past (the driver would spin), the queue stays within its
//! capacity, at most one socket, one event stream and one POST are asked for
//! at a time, and told to disconnect, nothing is left pending but a POST.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use resocket::core::{
    CloseInfo, Deadline, FrameKind, FrameSource, InboundFrame, Input, Instant, OptionValues,
    Output, PageEvent, Transport,
};

fn number(u: &mut Unstructured, max: u32) -> Result<f64> {
    Ok(f64::from(u.int_in_range(0..=max)?))
}

fn options(u: &mut Unstructured) -> Result<OptionValues> {
    let fallback = u.int_in_range(0..=3u8)?;
    Ok(OptionValues {
        url: u.arbitrary::<bool>()?.then(|| "ws://h/ws?t=1".to_owned()),
        session_id: "s".to_owned(),
        reconnect_interval: Some(number(u, 2000)?),
        max_reconnect_interval: Some(5000.0),
        reconnect_backoff_factor: Some(1.0 + number(u, 3)?),
        reconnect_jitter: Some(number(u, 10)? / 10.0),
        max_reconnect_attempts: Some(if u.arbitrary()? {
            f64::INFINITY
        } else {
            number(u, 5)?
        }),
        connect_timeout: Some(number(u, 2000)?),
        min_uptime: Some(number(u, 3000)?),
        heartbeat_interval: Some(number(u, 3000)?),
        heartbeat_timeout: Some(1.0 + number(u, 2000)?),
        message_queue_size: Some(number(u, 8)?),
        queue_overflow: Some(
            ["drop-oldest", "drop-newest", "error"][u.int_in_range(0..=2)?].to_owned(),
        ),
        ping_type: None,
        pong_type: None,
        http_fallback_url: (fallback > 0).then(|| "/messages".to_owned()),
        http_events_url: (fallback > 1).then(|| "/events".to_owned()),
        fallback_after_attempts: Some(1.0 + number(u, 3)?),
        upgrade_probe_interval: Some(number(u, 3000)?),
        enable_websocket: Some(fallback != 3),
        delivery: u.arbitrary::<bool>()?.then(|| "at-least-once".to_owned()),
        ack_timeout: Some(number(u, 2000)?),
        max_message_bytes: u.arbitrary::<bool>()?.then_some(1024.0 + number(u, 4000)?),
    })
}

fn text(u: &mut Unstructured) -> Result<String> {
    let len = u.int_in_range(0..=12)?;
    let bytes = u.bytes(len)?;
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

fn page_event(u: &mut Unstructured) -> Result<PageEvent> {
    Ok(match u.int_in_range(0..=4u8)? {
        0 => PageEvent::Online,
        1 => PageEvent::Offline,
        2 => PageEvent::VisibilityChanged {
            visible: u.arbitrary()?,
        },
        3 => PageEvent::PageHide {
            persisted: u.arbitrary()?,
        },
        _ => PageEvent::PageShow {
            persisted: u.arbitrary()?,
        },
    })
}

fn seq(u: &mut Unstructured) -> Result<f64> {
    Ok(match u.int_in_range(0..=3u8)? {
        0 => f64::NAN,
        1 => number(u, 40)?,
        2 => f64::from_bits(u.arbitrary()?),
        _ => 9_007_199_254_740_991.0,
    })
}

/// What the harness does next: an input, or the clock moving.
enum Step {
    Input(Input<u32>),
    Wait(f64),
    Timeout,
}

fn step(u: &mut Unstructured, t: &Transport<u32>, next_payload: &mut u32) -> Result<Step> {
    Ok(Step::Input(match u.int_in_range(0..=19u8)? {
        0 => Input::Connect,
        1 => Input::Reconnect,
        2 => Input::Disconnect {
            code: u.arbitrary()?,
            reason: text(u)?,
        },
        3 | 4 => {
            *next_payload += 1;
            Input::Send {
                payload: *next_payload,
                envelope: u.arbitrary::<bool>()?.then_some(u64::from(*next_payload)),
                bytes: u.arbitrary()?,
            }
        }
        5 => Input::ClearQueue,
        6 => Input::SocketOpened,
        7 => Input::SocketUnusable { message: text(u)? },
        8 => Input::SocketError,
        9 => Input::SocketClosed {
            close: CloseInfo {
                code: u.arbitrary()?,
                reason: text(u)?,
                was_clean: u.arbitrary()?,
            },
            verdict: u.arbitrary()?,
        },
        10 | 11 => {
            let kind = FrameKind::from_number(u.int_in_range(0..=8)?);
            let source = [
                FrameSource::Socket,
                FrameSource::Events,
                FrameSource::PostReply,
            ][u.int_in_range(0..=2)?];
            let id = match u.int_in_range(0..=3u8)? {
                0 => None,
                1 => Some(t.ping_id(u.int_in_range(0..=4)?)),
                2 => Some(t.message_id(u.int_in_range(0..=u64::from(*next_payload))?)),
                _ => Some(text(u)?),
            };
            Input::Frame(InboundFrame {
                source,
                kind,
                id,
                seq: seq(u)?,
                first_available: seq(u)?,
                epoch: match u.int_in_range(0..=2u8)? {
                    0 => None,
                    1 => Some(format!("e{}", u.int_in_range(0..=2u8)?)),
                    _ => Some(text(u)?),
                },
                message_rate: seq(u)?,
            })
        }
        12 => Input::EventsOpened,
        13 => Input::EventsFailed,
        14 => Input::PostAnswered {
            status: u.arbitrary()?,
            retry_after: text(u)?,
        },
        15 => Input::PostFailed { reason: text(u)? },
        16 => Input::UrlResolved {
            attempt: u.int_in_range(0..=20)?,
            result: if u.arbitrary()? {
                Ok(text(u)? + "ws://h/")
            } else {
                Err(text(u)?)
            },
        },
        17 => Input::Page(page_event(u)?),
        18 => return Ok(Step::Timeout),

        _ => return Ok(Step::Wait(number(u, 5000)?)),
    }))
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(options) = options(&mut u) else { return };
    let capacity = options.message_queue_size.unwrap_or(100.0) as usize;
    let Ok(config) = options.validate() else {
        return;
    };
    let Ok(seed) = u.arbitrary::<u64>() else {
        return;
    };
    let mut transport = Transport::new(config, seed);
    let mut now = 0.0;
    let mut next_payload = 0;
    let (mut socket, mut events, mut post, mut poll) = (false, false, false, false);
    while !u.is_empty() {
        let Ok(step) = step(&mut u, &transport, &mut next_payload) else {
            break;
        };
        let timeout = matches!(step, Step::Timeout);
        let input = match step {
            Step::Wait(ms) => {
                now += ms;
                continue;
            }
            Step::Timeout => {
                if let Some(due) = transport.poll_timeout() {
                    now = f64::max(now, due.as_ms());
                }
                Input::Timeout
            }
            Step::Input(input) => input,
        };
        // What the input says happened to the browser's side.
        match &input {
            Input::SocketClosed { .. } | Input::SocketUnusable { .. } => socket = false,
            // A failed long-poll is reported as the event stream's failure.
            Input::EventsFailed => {
                events = false;
                poll = false;
            }
            Input::PostAnswered { .. } | Input::PostFailed { .. } => post = false,
            Input::EventsOpened => poll = false,
            _ => {}
        }
        let _ = transport.handle_input(Instant::from_ms(now), input);
        while let Some(output) = transport.poll_output() {
            match output {
                Output::OpenSocket => {
                    assert!(!socket, "a second socket");
                    socket = true;
                }
                Output::CloseSocket { .. } => socket = false,
                Output::OpenEvents { .. } => {
                    assert!(!events, "a second event stream");
                    events = true;
                }
                Output::CloseEvents => {
                    events = false;
                    poll = false;
                }
                Output::Poll { .. } => {
                    assert!(!poll && !events, "a second poll, or one beside the event stream");
                    poll = true;
                }
                Output::Post { .. } => {
                    assert!(!post, "a second POST");
                    post = true;
                }
                Output::AbortPost => post = false,
                _ => {}
            }
        }
        if timeout {
            if let Some(due) = transport.poll_timeout() {
                assert!(
                    due.as_ms() > now,
                    "a deadline already past after the timeout"
                );
            }
        }
        assert!(transport.queue_length() <= capacity.max(0));
    }
    let _ = transport.handle_input(
        Instant::from_ms(now),
        Input::Disconnect {
            code: 1000,
            reason: String::new(),
        },
    );
    while transport.poll_output().is_some() {}
    assert_eq!(transport.poll_timeout(), transport.deadline(Deadline::Post));
});
