//! The auth hook that asks the application who may open which session.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{Authorize, Identity, Rejection, RequestInfo};

use super::{is_blank, Endpoint, GatewayConfig};

/// The auth hook that asks the application's auth webhook.
#[derive(Debug, Clone)]
pub struct AuthWebhook {
    endpoint: Endpoint,
}

impl AuthWebhook {
    /// The hook for `config`, if it names an auth webhook.
    pub fn new(config: &GatewayConfig) -> std::io::Result<Option<Self>> {
        let Some(url) = config.auth_webhook.clone() else {
            return Ok(None);
        };
        Ok(Some(Self {
            endpoint: Endpoint::new(config, url)?,
        }))
    }
}

/// What the auth webhook answers on success.
#[derive(Debug, Default, Deserialize)]
struct AuthAnswer {
    #[serde(default)]
    user: Option<String>,
}

impl Authorize for AuthWebhook {
    async fn authorize(&self, request: &RequestInfo) -> Result<Identity, Rejection> {
        let header = |name: &str| {
            request
                .headers
                .get(name)
                .and_then(|value| value.to_str().ok())
        };
        let query: serde_json::Map<String, Value> = request
            .query
            .iter()
            .map(|(key, value)| (key.clone(), Value::from(value.as_str())))
            .collect();
        let body = json!({
            "channel": request.channel.name(),
            "sessionId": request.session_id,
            "query": query,
            "headers": { "authorization": header("authorization"), "cookie": header("cookie") },
            "origin": request.origin,
        });
        let unavailable =
            || Rejection::Unavailable("the application's auth did not answer".to_owned());
        let (status, answer) = self.endpoint.call(&body).await.map_err(|_| unavailable())?;
        let body = answer.map_err(|_| unavailable())?;
        let message = || {
            serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|value| {
                    value
                        .get("error")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .unwrap_or_else(|| "refused by the application".to_owned())
        };
        match status.as_u16() {
            200..=299 => {
                let answer: AuthAnswer = if is_blank(&body) {
                    AuthAnswer::default()
                } else {
                    serde_json::from_slice(&body).map_err(|_| unavailable())?
                };
                Ok(match answer.user {
                    Some(user) => Identity::user(user),
                    None => Identity::anonymous(),
                })
            }
            401 => Err(Rejection::Unauthorized(message())),
            403 => Err(Rejection::Forbidden(message())),
            _ => Err(unavailable()),
        }
    }
}
