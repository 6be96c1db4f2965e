//! What comes from outside, parsed by the core: frame fields on an open
//! transport (any kind, id, `seq` and `firstAvailable`, from any channel),
//! URLs from a URL function, and option values. Nothing may panic, and the
//! resume position never moves backwards but through a reported reset.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use resocket::core::{
    set_query_param, stream_position, validate_socket_url, Event, FrameKind, FrameSource,
    InboundFrame, Input, Instant, OptionValues, Output, Transport,
};

fn text(u: &mut Unstructured) -> Result<String> {
    let len = u.int_in_range(0..=40)?;
    Ok(String::from_utf8_lossy(u.bytes(len)?).into_owned())
}

fn wild_number(u: &mut Unstructured) -> Result<Option<f64>> {
    Ok(match u.int_in_range(0..=3u8)? {
        0 => None,
        1 => Some(f64::from(u.int_in_range(-5..=70_000i32)?)),
        _ => Some(f64::from_bits(u.arbitrary()?)),
    })
}

fn run(u: &mut Unstructured) -> Result<()> {
    // Option values as JavaScript could hand them over.
    let options = OptionValues {
        url: Some(text(u)?),
        session_id: text(u)?,
        reconnect_interval: wild_number(u)?,
        max_reconnect_interval: wild_number(u)?,
        reconnect_backoff_factor: wild_number(u)?,
        reconnect_jitter: wild_number(u)?,
        max_reconnect_attempts: wild_number(u)?,
        heartbeat_interval: wild_number(u)?,
        message_queue_size: wild_number(u)?,
        ping_type: u.arbitrary::<bool>()?.then(|| text(u)).transpose()?,
        http_fallback_url: u.arbitrary::<bool>()?.then(|| text(u)).transpose()?,
        ..OptionValues::default()
    };
    let _ = options.validate();
    // URLs and query parameters.
    let url = text(u)?;
    let _ = validate_socket_url(&url);
    let _ = set_query_param(&url, &text(u)?, &text(u)?);
    let _ = stream_position(f64::from_bits(u.arbitrary()?));

    // Frames on an open WebSocket with default options.
    let config = OptionValues {
        url: Some("ws://h/ws".into()),
        session_id: "s".into(),
        ..OptionValues::default()
    }
    .validate()
    .expect("the defaults are valid");
    let mut transport: Transport<u32> = Transport::new(config, u.arbitrary()?);
    let mut now = Instant::ZERO;
    let _ = transport.handle_input(now, Input::Connect);
    let _ = transport.handle_input(now, Input::SocketOpened);
    while transport.poll_output().is_some() {}
    while !u.is_empty() {
        let before = transport.last_seq();
        let kind = FrameKind::from_number(u.arbitrary()?);
        let source = [
            FrameSource::Socket,
            FrameSource::Events,
            FrameSource::PostReply,
        ][u.int_in_range(0..=2)?];
        let id = if u.arbitrary()? {
            Some(if u.arbitrary()? {
                transport.ping_id(1)
            } else {
                text(u)?
            })
        } else {
            None
        };
        let frame = InboundFrame {
            source,
            kind,
            id,
            seq: wild_number(u)?.unwrap_or(f64::NAN),
            first_available: wild_number(u)?.unwrap_or(f64::NAN),
            epoch: if u.arbitrary()? {
                Some(format!("e{}", u.int_in_range(0..=2u8)?))
            } else {
                None
            },
            message_rate: wild_number(u)?.unwrap_or(f64::NAN),
        };
        now = Instant::from_ms(now.as_ms() + f64::from(u.int_in_range(0..=2000u16)?));
        let _ = transport.handle_input(now, Input::Frame(frame));
        let mut reset = false;
        while let Some(output) = transport.poll_output() {
            reset |= matches!(output, Output::Emit(Event::StreamReset { .. }));
        }
        if let (Some(before), Some(after)) = (before, transport.last_seq()) {
            assert!(
                after >= before || reset,
                "position went back from {before} to {after} without a reset"
            );
        }
        if u.arbitrary()? {
            let _ = transport.handle_input(now, Input::Timeout);
            while transport.poll_output().is_some() {}
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
