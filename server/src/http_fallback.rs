//! The HTTP fallback (PROTOCOL.md §6): `POST /messages` upstream and
//! Server-Sent Events downstream at `GET /events`, with the same session
//! numbering, replay, acknowledgements, duplicate suppression, auth and
//! limits as `/ws`.

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Query, RawQuery, State};
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream, StreamExt};
use serde::Deserialize;
use serde_json::Value;

use crate::config::Limits;
use crate::engine::redis::EngineError;
use crate::engine::relay::relay_feed;
use crate::exchange::{self, Intake, Outgoing};
use crate::handler::{Channel, Context};
use crate::listener::ConnectionSlot;
use crate::protocol::Inbound;
use crate::request::{self, rejected, too_many_sessions, unavailable, SessionCheck};
use crate::session_log::FrameRecord;
use crate::state::{AppState, SharedState};
use crate::stream::{Announced, ResumeRequest, PROTOCOL_V1_1};

/// `?session_id=…&ack=1&last_seq=N&protocol=1.1&epoch=E&poll=MS`
#[derive(Debug, Deserialize)]
pub struct HttpQuery {
    session_id: String,
    ack: Option<String>,
    last_seq: Option<u64>,
    protocol: Option<String>,
    epoch: Option<String>,
    /// `/events` only: answer as a long-poll (a JSON array) rather than
    /// an event stream, waiting at most this many ms for a frame.
    poll: Option<u64>,
}

impl HttpQuery {
    fn resume_request(&self, last_seq: Option<u64>, limits: &Limits) -> ResumeRequest<'_> {
        ResumeRequest {
            v1_1: self.protocol.as_deref() == Some(PROTOCOL_V1_1),
            last_seq,
            epoch: self.epoch.as_deref(),
            limits: Some(Announced::of(limits)),
        }
    }
}

/// The auth hook and the session's owner, for a fallback request; the
/// context for the handler, or the response that refuses it.
async fn open(
    state: &SharedState,
    query: &HttpQuery,
    raw_query: Option<String>,
    headers: HeaderMap,
    extensions: &Extensions,
    channel: Channel,
    fault_refuses: fn(&crate::sessions::Session, Instant) -> bool,
) -> Result<Context, Response> {
    let now = Instant::now();
    if state.shutdown.is_cancelled() || state.down.is_down(now) {
        return Err(unavailable("server down (fault injection)"));
    }
    let session_id = request::session_id_or_random(
        Some(query.session_id.clone()),
        raw_query.as_deref().unwrap_or(""),
    )
    .map_err(|response| *response)?;
    let identity = request::identify(
        state,
        channel,
        &session_id,
        headers,
        raw_query.as_deref().unwrap_or(""),
        extensions,
    )
    .await
    .map_err(|rejection| rejected(&rejection))?;
    if let Some(redis) = state.engine.as_redis() {
        request::claim_clustered(redis, &session_id, &identity)
            .await
            .map_err(|rejection| rejected(&rejection))?;
    }
    let check = state.sessions.with(&session_id, |session| {
        if let Err(rejection) = request::claim(session, &identity) {
            SessionCheck::Rejected(rejection)
        } else if fault_refuses(session, now) {
            SessionCheck::FaultRefused
        } else {
            SessionCheck::Open
        }
    });
    match check {
        Err(_) => Err(too_many_sessions()),
        Ok(SessionCheck::Rejected(rejection)) => Err(rejected(&rejection)),
        Ok(SessionCheck::FaultRefused) => Err(unavailable("failing posts (fault injection)")),
        Ok(SessionCheck::Open) => Ok(Context {
            session_id: Arc::from(session_id.as_str()),
            identity,
            channel,
            publisher: state.publisher.clone(),
        }),
    }
}

/// `POST /messages?session_id=…[&ack=1]` with a JSON array of envelopes.
/// Answers 200 with the acks (when asked for) and the numbered replies, in
/// order, each envelope handled before the next; 400 for a body that is no
/// array, 413 for one larger than the message limit or with more envelopes
/// than `max_batch`, 429 when the session's POSTs go over the message rate.
pub async fn post_messages(
    State(state): State<SharedState>,
    Query(query): Query<HttpQuery>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
    extensions: Extensions,
    body: axum::body::Bytes,
) -> Response {
    let context = match open(
        &state,
        &query,
        raw_query,
        headers,
        &extensions,
        Channel::Post,
        |session, now| session.faults.fail_posts.is_open(now),
    )
    .await
    {
        Ok(context) => context,
        Err(response) => return response,
    };
    let Ok(Value::Array(envelopes)) = serde_json::from_slice::<Value>(&body) else {
        return request::bad_request("the body must be a JSON array of envelopes");
    };
    if envelopes.len() > state.limits.max_batch {
        return request::json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too many envelopes in one POST",
        );
    }
    let count = envelopes.len();
    let within_rate = state
        .sessions
        .existing(&context.session_id, |session| {
            session.post_rate.allow_many(count, Instant::now())
        })
        .unwrap_or(false);
    if !within_rate {
        return request::json_error_retry_after(
            StatusCode::TOO_MANY_REQUESTS,
            "message rate limit: send again later",
            "1",
        );
    }
    let acknowledge = request::is_on(query.ack.as_deref());
    let request = query.resume_request(None, &state.limits);
    let mut answers = match state.engine.as_redis() {
        None => state
            .sessions
            .existing(&context.session_id, |session| {
                session.stream.post_preamble(&request)
            })
            .unwrap_or_default(),
        Some(redis) => match redis.store.opening(&context.session_id, &request).await {
            Ok(stored) => stored.state().post_preamble(&request),
            Err(error) => {
                eprintln!("resocket-server: {error}: answering a POST with 503");
                return unavailable("the cluster's store is unavailable");
            }
        },
    };
    // The batch is handled in a task of its own, which keeps the
    // connection's place in the caps: if the client goes away mid-batch,
    // what it sent is still handled once (and its resend answered with the
    // ack), rather than cut off and handled again.
    let slot = extensions.get::<Arc<ConnectionSlot>>().cloned();
    let worker = Arc::clone(&state);
    let handled = state.connections.spawn(async move {
        let _slot = slot;
        let mut answers = Vec::new();
        for envelope in envelopes {
            answers.extend(take_one(&worker, &context, envelope, acknowledge).await?);
        }
        Ok(answers)
    });
    match handled.await {
        Ok(Ok(handled)) => answers.extend(handled),
        // Nothing of the batch counts as answered: the client sends it
        // again, and what was done is acknowledged, not done twice.
        Ok(Err(StoreUnavailable)) => return unavailable("the cluster's store is unavailable"),
        Err(_) => return unavailable("the server is shutting down"),
    }
    // The answers are already JSON texts (numbered replies come out of the
    // stream serialised), so the body is assembled rather than re-parsed.
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        format!("[{}]", answers.join(",")),
    )
        .into_response()
}

/// The Redis engine's store did not answer.
struct StoreUnavailable;

/// One POSTed envelope: what it gets back.
async fn take_one(
    state: &AppState,
    context: &Context,
    envelope: Value,
    acknowledge: bool,
) -> Result<Vec<String>, StoreUnavailable> {
    // The text is only written for the log (the frame came parsed, in an array).
    let text = state.sessions.logging().then(|| envelope.to_string());
    let inbound = Inbound::from_value(envelope);
    if let Some(redis) = state.engine.as_redis() {
        if let Some(text) = text {
            let mut record = FrameRecord::text(0, state.elapsed_ms(), &text, &inbound);
            record.via = "http";
            state
                .sessions
                .existing(&context.session_id, |s| s.log.record_frame(record));
        }
        return match exchange::handle_clustered(state, context, redis, inbound, acknowledge).await {
            Ok(frames) => Ok(frames.into_iter().map(Outgoing::into_text).collect()),
            Err(error) => {
                eprintln!("resocket-server: {error}: answering a POST with 503");
                Err(StoreUnavailable)
            }
        };
    }
    let record = text.map(|text| {
        let mut record = FrameRecord::text(0, state.elapsed_ms(), &text, &inbound);
        record.via = "http";
        record
    });
    let intake = exchange::take(state, &context.session_id, inbound, record, acknowledge)
        .map(|(intake, _)| intake);
    Ok(match intake {
        Some(Intake::Pong(text) | Intake::Duplicate(text)) => vec![text],
        // Numbered under the session's lock, so already in `seq` order.
        Some(Intake::Answer(frames)) => frames.into_iter().map(Outgoing::into_text).collect(),
        Some(Intake::Handle(job)) => {
            let (job, claim) = job.claimed(&state.sessions, &context.session_id);
            exchange::handle(state, context, job, claim)
                .await
                .into_iter()
                .map(Outgoing::into_text)
                .collect()
        }
        Some(Intake::Ignore) | None => Vec::new(),
    })
}

/// Counts an open event stream for as long as it lives.
struct EventStreamCount(SharedState);

impl Drop for EventStreamCount {
    fn drop(&mut self) {
        self.0.live_event_streams.fetch_sub(1, Ordering::Relaxed);
    }
}

/// `GET /events?session_id=…[&last_seq=N]` (or `Last-Event-ID: N`): the
/// session's numbered frames as Server-Sent Events, `id:` = `seq`, after a
/// replay of what followed N. A stream whose client does not read is ended
/// when its queue fills (the client reopens it and resumes); all end on
/// shutdown. With `&poll=MS`, a long-poll instead ([`long_poll`]).
pub async fn events(
    State(state): State<SharedState>,
    Query(query): Query<HttpQuery>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
    extensions: Extensions,
) -> Response {
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    let context = match open(
        &state,
        &query,
        raw_query,
        headers,
        &extensions,
        Channel::Events,
        |_, _| false,
    )
    .await
    {
        Ok(context) => context,
        Err(response) => return response,
    };
    let after = last_event_id.or(query.last_seq);
    let (sender, receiver) = crate::queue::channel::<(Option<u64>, String)>(
        state.limits.send_queue_frames,
        state.limits.send_queue_bytes,
    );
    let request = query.resume_request(after, &state.limits);
    let first = match state.engine.as_redis() {
        None => state
            .sessions
            .existing(&context.session_id, |session| {
                session.add_event_stream(sender);
                session.stream.opening(&request)
            })
            .unwrap_or_default(),
        // The session's feed first, then the log: nothing numbered between
        // the two is missed; a task relays the feed in order to the stream.
        Some(redis) => {
            let opened = async {
                let subscription = redis
                    .feed
                    .subscribe(&redis.store, &context.session_id)
                    .await?;
                let stored = redis.store.opening(&context.session_id, &request).await?;
                Ok::<_, EngineError>((subscription, stored))
            };
            match opened.await {
                Ok((subscription, stored)) => {
                    tokio::spawn(relay_feed(
                        Arc::clone(redis),
                        context.session_id.to_string(),
                        stored.epoch.clone(),
                        subscription,
                        stored.last_seq,
                        sender,
                    ));
                    stored.state().opening(&request, stored.frames.clone())
                }
                Err(error) => {
                    eprintln!("resocket-server: {error}: answering an event stream with 503");
                    return unavailable("the cluster's store is unavailable");
                }
            }
        }
    };
    state.live_event_streams.fetch_add(1, Ordering::Relaxed);
    let count = EventStreamCount(Arc::clone(&state));
    if let Some(wait_ms) = query.poll {
        // More than a welcome the client already knows is worth answering now.
        let known = usize::from(request.v1_1 && request.epoch.is_some());
        let first = if first.len() > known {
            first
        } else {
            Vec::new()
        };
        let wait = Duration::from_millis(wait_ms).min(state.limits.poll_wait);
        return long_poll(first, receiver, wait, &state, count).await;
    }
    let live = stream::unfold((receiver, count), |(mut receiver, count)| async move {
        receiver
            .recv()
            .await
            .map(|frame| (frame, (receiver, count)))
    });
    // A comment first: Firefox reports an event stream open only once body
    // bytes arrive, not on the headers (Chromium does), so an idle stream
    // would never open there (PROTOCOL.md §6).
    let opened = stream::once(async { Ok(Event::default().comment("open")) });
    let shutdown = state.shutdown.clone().cancelled_owned();
    let mut response = Sse::new(
        opened
            .chain(to_events(stream::iter(first).chain(live)))
            .take_until(shutdown),
    )
    .keep_alive(KeepAlive::default())
    .into_response();
    pass_through_proxies(response.headers_mut());
    response
}

/// Asks the proxies between the server and the page to hand the event
/// stream on as it is written (PROTOCOL.md §6): nginx buffers a proxied
/// response unless told `X-Accel-Buffering: no`, and then delivers nothing
/// of an endless stream, not even its headers; `no-transform` keeps
/// compressing proxies (Apache's mod_deflate, CDNs) from holding bytes back
/// to fill a compression block.
pub(crate) fn pass_through_proxies(headers: &mut HeaderMap) {
    use axum::http::header::CACHE_CONTROL;
    use axum::http::HeaderValue;
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-transform"),
    );
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
}

/// A long-poll's answer (PROTOCOL.md §6.2): `first` (the opening: a
/// replay, a welcome the client does not know, a reset) at once when there
/// is any; otherwise the first frames to arrive within `wait`, or `[]`.
/// Every answer is a complete response, which any proxy passes.
async fn long_poll(
    first: Vec<(Option<u64>, String)>,
    mut receiver: crate::queue::Receiver<(Option<u64>, String)>,
    wait: Duration,
    state: &SharedState,
    _count: EventStreamCount,
) -> Response {
    let mut frames: Vec<String> = first.into_iter().map(|(_, text)| text).collect();
    if frames.is_empty() && !wait.is_zero() {
        tokio::select! {
            frame = receiver.recv() => frames.extend(frame.map(|(_, text)| text)),
            () = tokio::time::sleep(wait) => {}
            () = state.shutdown.cancelled() => {}
        }
    }
    // What else is already queued goes in the same answer.
    while let Some((_, text)) = receiver.try_recv() {
        frames.push(text);
    }
    let mut response = (
        StatusCode::OK,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        format!("[{}]", frames.join(",")),
    )
        .into_response();
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    response
}

fn to_events(
    frames: impl Stream<Item = (Option<u64>, String)>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    frames.map(|(seq, text)| {
        let event = Event::default().data(text);
        Ok(match seq {
            Some(seq) => event.id(seq.to_string()),
            None => event,
        })
    })
}
