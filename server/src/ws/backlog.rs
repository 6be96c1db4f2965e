//! What a connection has received and the application not yet answered.

use std::collections::VecDeque;
use std::sync::Arc;

use axum::extract::ws::Message;

use crate::exchange::{self, Claim, Job};
use crate::handler::{BoxFuture, Context};
use crate::listener::ConnectionSlot;
use crate::protocol::Inbound;
use crate::state::SharedState;

use super::Out;

/// Work for the application, in arrival order. A text job's claim takes
/// its id's mark back if the connection ends before it is handled.
pub(super) enum Work {
    Text(Job, Claim),
    /// A text frame for a server on the Redis engine (with whether the
    /// channel asked for acks): every decision needs the shared store.
    Clustered(Inbound, bool),
    Binary(axum::body::Bytes),
}

/// Messages received and not yet answered: the one being handled, and those
/// waiting their turn.
#[derive(Default)]
pub(super) struct Backlog {
    pub(super) pending: VecDeque<Work>,
    pub(super) working: Option<BoxFuture<'static, Vec<Out>>>,
}

impl Backlog {
    /// The connection ended with messages still unhandled: they were
    /// received, so they are handled all the same (their replies are kept
    /// for replay; a resend of them is answered with the ack), in a task of
    /// their own that shutdown waits for. The task keeps the connection's
    /// place in the caps until it is done, so a client that sends and
    /// disconnects over and over holds no more than its connections would.
    /// Binary frames need the socket: dropped.
    pub(super) fn finish_without_socket(
        self,
        state: &SharedState,
        context: &Context,
        slot: Option<Arc<ConnectionSlot>>,
    ) {
        let Backlog { pending, working } = self;
        if working.is_none() && pending.is_empty() {
            return;
        }
        let state = Arc::clone(state);
        let context = context.clone();
        state.connections.clone().spawn(async move {
            let _slot = slot;
            if let Some(working) = working {
                working.await;
            }
            for work in pending {
                if let Work::Text(..) | Work::Clustered(..) = work {
                    start(Arc::clone(&state), context.clone(), work).await;
                }
            }
        });
    }
}

/// The application's handling of one piece of work, as an owned future.
pub(super) fn start(
    state: SharedState,
    context: Context,
    work: Work,
) -> BoxFuture<'static, Vec<Out>> {
    Box::pin(async move {
        match work {
            Work::Text(job, claim) => exchange::handle(&state, &context, job, claim)
                .await
                .into_iter()
                .map(Out::from)
                .collect(),
            Work::Clustered(inbound, acknowledge) => {
                let Some(redis) = state.engine.as_redis() else {
                    return Vec::new();
                };
                match exchange::handle_clustered(&state, &context, redis, inbound, acknowledge)
                    .await
                {
                    Ok(frames) => frames.into_iter().map(Out::from).collect(),
                    // Nothing was acknowledged: the client resends after reconnecting.
                    Err(error) => {
                        eprintln!("resocket-server: {error}: closing the socket");
                        vec![Out::Close(
                            1013,
                            "the cluster's store is unavailable".to_owned(),
                        )]
                    }
                }
            }
            Work::Binary(bytes) => state
                .handler
                .on_binary(&context, bytes)
                .await
                .into_iter()
                .map(|bytes| Out::Message(Message::Binary(bytes)))
                .collect(),
        }
    })
}
