//! The handler that forwards each client envelope to the application.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::handler::{Context, Handler, HandlerError, Incoming, Replies};

use super::{is_blank, without_url, Endpoint, GatewayConfig};

/// The handler that forwards to the webhook.
#[derive(Debug, Clone)]
pub struct Webhook {
    endpoint: Endpoint,
}

impl Webhook {
    /// A handler for `config`.
    pub fn new(config: &GatewayConfig) -> std::io::Result<Self> {
        Ok(Self {
            endpoint: Endpoint::new(config, config.webhook.clone())?,
        })
    }
}

/// What a webhook may answer.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Answer {
    Replies(Vec<Value>),
    Full {
        #[serde(default)]
        replies: Vec<Value>,
        #[serde(default)]
        join: Vec<String>,
        #[serde(default)]
        leave: Vec<String>,
    },
}

impl Handler for Webhook {
    async fn on_message(
        &self,
        context: &Context,
        message: Incoming,
    ) -> Result<Replies, HandlerError> {
        let body = json!({
            "sessionId": &*context.session_id,
            "user": context.identity.user.as_deref(),
            "channel": context.channel.name(),
            "message": message.envelope,
        });
        let unavailable = |error: reqwest::Error| {
            HandlerError::new(
                "backend-unavailable",
                format!("the application did not answer: {}", without_url(&error)),
            )
        };
        let (status, answer) = self.endpoint.call(&body).await.map_err(unavailable)?;
        if !status.is_success() {
            return Err(HandlerError::new(
                "backend-error",
                format!("the application answered HTTP {}", status.as_u16()),
            ));
        }
        let bytes = answer.map_err(|why| HandlerError::new("backend-error", why))?;
        if is_blank(&bytes) {
            return Ok(Vec::new());
        }
        let answer: Answer = serde_json::from_slice(&bytes).map_err(|_| {
            HandlerError::new(
                "backend-error",
                "the application's answer is neither an array of envelopes nor {replies, join, leave}",
            )
        })?;
        Ok(match answer {
            Answer::Replies(replies) => replies,
            Answer::Full {
                replies,
                join,
                leave,
            } => {
                for room in &join {
                    context
                        .publisher
                        .join(&context.session_id, room)
                        .map_err(|error| HandlerError::new("backend-error", error.to_string()))?;
                }
                for room in &leave {
                    context.publisher.leave(&context.session_id, room);
                }
                replies
            }
        })
    }
}
