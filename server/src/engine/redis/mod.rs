//! Session state in Redis, shared by every node of a cluster (issue 15):
//! the numbered log with its epoch (a Stream per session, numbered, trimmed
//! and expired by one atomic script), duplicate suppression (a key per
//! session and id), the session's owner, and rooms. Every numbered frame is
//! also published on the session's feed channel, for the nodes holding its
//! channels. Valkey and DragonflyDB speak the same commands; the tests run
//! Debian's redis-server 7.

mod feed;
mod scripts;

pub use feed::{Feed, FeedItem, Subscription};

use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::{Client, Script, Value as RedisValue};
use serde_json::Value;

use crate::random::{hex, random_token};
use crate::stream::{ResumeRequest, Seen, StreamState, EPOCH_BYTES, FRAME_OVERHEAD_BYTES};

/// What went wrong talking to Redis.
#[derive(Debug)]
pub struct EngineError(pub String);

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "redis: {}", self.0)
    }
}

impl std::error::Error for EngineError {}

impl From<redis::RedisError> for EngineError {
    fn from(error: redis::RedisError) -> Self {
        Self(error.to_string())
    }
}

/// How the Redis engine keeps sessions.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// Prefix of every key and channel, so several applications can share
    /// one Redis. Default: `resocket`.
    pub prefix: String,
    /// How long a session's log, ids and owner outlive its last use: how long
    /// a client may be away and still resume. Default: 10 minutes.
    pub session_ttl: Duration,
    /// Bytes of numbered frames kept per session for replay.
    pub replay_bytes: usize,
    /// How long an id stays "in progress" when the node handling it dies
    /// before it is done: the client's resend waits that long at most.
    /// Default: 15 s.
    pub in_progress_ttl: Duration,
    /// The most rooms a session may be in.
    pub max_rooms_per_session: usize,
}

impl RedisOptions {
    /// The options that match a node's [`Limits`]: the same replay budget,
    /// session time to live and rooms per session, under `prefix`.
    pub fn for_limits(limits: &crate::config::Limits, prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
            session_ttl: limits.session_ttl,
            replay_bytes: limits.replay_bytes_per_session,
            max_rooms_per_session: limits.max_rooms_per_session,
            ..Self::default()
        }
    }
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            prefix: "resocket".to_owned(),
            session_ttl: Duration::from_secs(600),
            replay_bytes: 256 * 1024,
            in_progress_ttl: Duration::from_secs(15),
            max_rooms_per_session: 64,
        }
    }
}

/// Where a session's stream stands and the frames a channel's opening
/// replays, as Redis gave them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOpening {
    /// The log's epoch.
    pub epoch: String,
    /// The highest seq numbered.
    pub last_seq: u64,
    /// The lowest seq kept.
    pub first_available: u64,
    /// `(seq, text)` after the replay point, in order.
    pub frames: Vec<(u64, String)>,
}

impl StoredOpening {
    /// The opening's decisions, made by the rules every engine shares.
    pub fn state(&self) -> StreamState<'_> {
        StreamState {
            epoch: &self.epoch,
            last_seq: self.last_seq,
            first_available: self.first_available,
        }
    }
}

/// Frames numbered by [`RedisStore::append`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The log's epoch (a new one if the log was just created).
    pub epoch: String,
    /// `(seq, text)` in order.
    pub frames: Vec<(u64, String)>,
}

/// The session state of a cluster, in one Redis.
#[derive(Clone)]
pub struct RedisStore {
    client: Client,
    connection: ConnectionManager,
    options: RedisOptions,
    append: Script,
    opening: Script,
    begin: Script,
    finish: Script,
    abandon: Script,
    owner: Script,
    join: Script,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// A session id as it appears in keys: hex, so that no id can break out of
/// the hash tag or collide with another key's shape.
fn key_part(session: &str) -> String {
    hex(session.as_bytes())
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

impl RedisStore {
    /// Connects to `url` (`redis://host:port/db`) and checks that Redis
    /// answers: an unreachable Redis at start is an error here, not later.
    pub async fn connect(url: &str, options: RedisOptions) -> Result<Self, EngineError> {
        let client = Client::open(url)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(Duration::from_secs(5)))
            .set_number_of_retries(2);
        let connection = client.get_connection_manager_with_config(config).await?;
        let store = Self {
            client,
            connection,
            options,
            append: Script::new(scripts::APPEND),
            opening: Script::new(scripts::OPENING),
            begin: Script::new(scripts::BEGIN),
            finish: Script::new(scripts::FINISH),
            abandon: Script::new(scripts::ABANDON),
            owner: Script::new(scripts::OWNER),
            join: Script::new(scripts::JOIN),
        };
        store.ping().await?;
        Ok(store)
    }

    /// The client, for the feed's own pub/sub connection.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The engine's options.
    pub fn options(&self) -> &RedisOptions {
        &self.options
    }

    /// Whether Redis answers (for `/health`), trying again once on a lost
    /// connection.
    pub async fn ping(&self) -> Result<(), EngineError> {
        let run = || async {
            let mut connection = self.connection.clone();
            redis::cmd("PING")
                .query_async::<String>(&mut connection)
                .await
        };
        match run().await {
            Err(error) if is_connection_lost(&error) => run().await?,
            other => other?,
        };
        Ok(())
    }

    fn key(&self, session: &str, what: &str) -> String {
        format!("{}:{{{}}}:{what}", self.options.prefix, key_part(session))
    }

    /// The pub/sub channel the session's numbered frames (`"<seq> <text>"`)
    /// and waiting acks (`"0 <text>"`) are published on.
    pub fn feed_channel(&self, session: &str) -> String {
        self.key(session, "feed")
    }

    fn ttl_ms(&self) -> u64 {
        millis(self.options.session_ttl)
    }

    /// Numbers `envelopes` (JSON objects; any `seq` they carry is replaced)
    /// in the session's log, keeps them for replay within the budget and
    /// publishes them on its feed. With `only_existing`, a session without a
    /// log gets nothing (`None`): a publish to a session that is gone.
    pub async fn append(
        &self,
        session: &str,
        envelopes: Vec<Value>,
        only_existing: bool,
    ) -> Result<Option<Appended>, EngineError> {
        self.append_answering(session, envelopes, only_existing, None)
            .await
    }

    /// [`append`](Self::append) the replies to message `id` and mark `id`
    /// handled (see [`finish`](Self::finish), whose `ack` this takes) in one
    /// atomic step: a node killed in between cannot leave the replies
    /// numbered and the id still "in progress".
    pub async fn append_and_finish(
        &self,
        session: &str,
        replies: Vec<Value>,
        id: &str,
        ack: &str,
    ) -> Result<Appended, EngineError> {
        self.append_answering(session, replies, false, Some((id, ack)))
            .await?
            .ok_or_else(|| EngineError("the log was not written".to_owned()))
    }

    async fn append_answering(
        &self,
        session: &str,
        envelopes: Vec<Value>,
        only_existing: bool,
        answered: Option<(&str, &str)>,
    ) -> Result<Option<Appended>, EngineError> {
        let mut invocation = self.append.prepare_invoke();
        invocation
            .key(self.key(session, "log"))
            .key(self.key(session, "meta"));
        if let Some((id, _)) = answered {
            invocation.key(self.id_key(session, id));
        }
        invocation
            .arg(random_token(EPOCH_BYTES))
            .arg(self.options.replay_bytes)
            .arg(FRAME_OVERHEAD_BYTES)
            .arg(self.ttl_ms())
            .arg(self.feed_channel(session))
            .arg(if only_existing { "1" } else { "0" })
            .arg(answered.map_or("", |(_, ack)| ack))
            .arg(self.ttl_ms());
        for mut envelope in envelopes {
            if let Value::Object(fields) = &mut envelope {
                fields.remove("seq");
                invocation.arg(envelope.to_string());
            }
        }
        let mut connection = self.connection.clone();
        let reply: RedisValue = invocation.invoke_async(&mut connection).await?;
        let RedisValue::Array(items) = reply else {
            return Ok(None);
        };
        let mut items = items.into_iter();
        let epoch = string(items.next())?;
        let first = number(items.next())?;
        let frames = items
            .enumerate()
            .map(|(i, text)| Ok((first + i as u64, string(Some(text))?)))
            .collect::<Result<_, EngineError>>()?;
        Ok(Some(Appended { epoch, frames }))
    }

    /// Where the session's stream stands for a channel opened with
    /// `request`, and the frames it replays (creating the log, with a new
    /// epoch, if there is none). Tried again once on a lost connection: it
    /// changes nothing a second run would not.
    pub async fn opening(
        &self,
        session: &str,
        request: &ResumeRequest<'_>,
    ) -> Result<StoredOpening, EngineError> {
        let after = request
            .last_seq
            .map_or_else(|| "-1".to_owned(), |seq| seq.to_string());
        let epoch = random_token(EPOCH_BYTES);
        let run = || async {
            let mut connection = self.connection.clone();
            self.opening
                .key(self.key(session, "log"))
                .key(self.key(session, "meta"))
                .arg(&epoch)
                .arg(self.ttl_ms())
                .arg(if request.v1_1 { "1" } else { "0" })
                .arg(request.epoch.unwrap_or(""))
                .arg(&after)
                .invoke_async::<Vec<RedisValue>>(&mut connection)
                .await
        };
        let reply = match run().await {
            Err(error) if is_connection_lost(&error) => run().await?,
            other => other?,
        };
        let mut items = reply.into_iter();
        let epoch = string(items.next())?;
        let last_seq = number(items.next())?;
        let first_available = number(items.next())?;
        let mut frames = Vec::new();
        while let Some(seq) = items.next() {
            frames.push((number(Some(seq))?, string(items.next())?));
        }
        Ok(StoredOpening {
            epoch,
            last_seq,
            first_available,
            frames,
        })
    }

    /// The kept frames after `after` and the lowest `seq` kept, if the log
    /// is still the one of `epoch`: what a channel reads to fill a hole.
    /// `None` when Redis does not answer or the log was replaced (the
    /// channel must close, so that its client learns of the reset).
    pub async fn continuation(
        &self,
        session: &str,
        epoch: &str,
        after: u64,
    ) -> Option<(Vec<(u64, String)>, u64)> {
        let request = ResumeRequest {
            v1_1: false,
            last_seq: Some(after),
            epoch: None,
            limits: None,
        };
        match self.opening(session, &request).await {
            Ok(stored) if stored.epoch == epoch => Some((stored.frames, stored.first_available)),
            _ => None,
        }
    }

    fn id_key(&self, session: &str, id: &str) -> String {
        format!("{}:{}", self.key(session, "id"), key_part(id))
    }

    /// Looks `id` up for the session; a new one is now in progress.
    pub async fn begin(&self, session: &str, id: &str) -> Result<Seen, EngineError> {
        let mut connection = self.connection.clone();
        let state: String = self
            .begin
            .key(self.id_key(session, id))
            .arg(millis(self.options.in_progress_ttl))
            .invoke_async(&mut connection)
            .await?;
        Ok(match state.as_str() {
            "new" => Seen::New,
            "d" => Seen::Done,
            _ => Seen::InProgress,
        })
    }

    /// `id` was handled and answered with `ack`: copies from now on (for the
    /// session's time to live) are duplicates. A copy that waited meanwhile
    /// gets `ack` over the feed; returns whether one did.
    pub async fn finish(&self, session: &str, id: &str, ack: &str) -> Result<bool, EngineError> {
        let mut connection = self.connection.clone();
        let waited: i64 = self
            .finish
            .key(self.id_key(session, id))
            .arg(self.ttl_ms())
            .arg(self.feed_channel(session))
            .arg(ack)
            .invoke_async(&mut connection)
            .await?;
        Ok(waited == 1)
    }

    /// Handling `id` failed: its resend will be handled.
    pub async fn abandon(&self, session: &str, id: &str) -> Result<(), EngineError> {
        let mut connection = self.connection.clone();
        let _: i64 = self
            .abandon
            .key(self.id_key(session, id))
            .invoke_async(&mut connection)
            .await?;
        Ok(())
    }

    /// The session's owner: `user` if it has none yet (`None` for a session
    /// opened without an identity, which stays ownerless).
    pub async fn claim_owner(
        &self,
        session: &str,
        user: Option<&str>,
    ) -> Result<Option<String>, EngineError> {
        let mut connection = self.connection.clone();
        let owner: String = self
            .owner
            .key(self.key(session, "owner"))
            .arg(user.unwrap_or(""))
            .arg(self.ttl_ms())
            .invoke_async(&mut connection)
            .await?;
        Ok(Some(owner).filter(|owner| !owner.is_empty()))
    }

    fn room_key(&self, room: &str) -> String {
        format!("{}:room:{}", self.options.prefix, key_part(room))
    }

    /// Puts the session in `room`; `false` when it is in too many already.
    pub async fn join(&self, session: &str, room: &str) -> Result<bool, EngineError> {
        let mut connection = self.connection.clone();
        let joined: i64 = self
            .join
            .key(self.room_key(room))
            .key(self.key(session, "rooms"))
            .arg(session)
            .arg(room)
            .arg(self.options.max_rooms_per_session)
            .arg(self.ttl_ms())
            .invoke_async(&mut connection)
            .await?;
        Ok(joined == 1)
    }

    /// Takes the session out of `room`.
    pub async fn leave(&self, session: &str, room: &str) -> Result<(), EngineError> {
        let mut connection = self.connection.clone();
        redis::pipe()
            .atomic()
            .srem(self.room_key(room), session)
            .srem(self.key(session, "rooms"), room)
            .query_async::<()>(&mut connection)
            .await?;
        Ok(())
    }

    /// The sessions in `room`.
    pub async fn members(&self, room: &str) -> Result<Vec<String>, EngineError> {
        let mut connection = self.connection.clone();
        Ok(redis::cmd("SMEMBERS")
            .arg(self.room_key(room))
            .query_async(&mut connection)
            .await?)
    }

    /// Numbers `envelope` in the log of every session in `room` (those whose
    /// log is gone leave the room); returns how many got it.
    pub async fn publish_to_room(
        &self,
        room: &str,
        envelope: &Value,
    ) -> Result<usize, EngineError> {
        let mut delivered = 0;
        for session in self.members(room).await? {
            if self
                .append(&session, vec![envelope.clone()], true)
                .await?
                .is_some()
            {
                delivered += 1;
            } else {
                self.leave(&session, room).await?;
            }
        }
        Ok(delivered)
    }
}

/// The connection broke under the command (a Redis restart, a network
/// fault): the connection manager reconnects, so one more try may succeed.
/// Only for commands that may run twice (not `append`, not `begin`).
fn is_connection_lost(error: &redis::RedisError) -> bool {
    error.is_io_error() || error.is_connection_dropped() || error.is_connection_refusal()
}

fn string(value: Option<RedisValue>) -> Result<String, EngineError> {
    match value {
        Some(RedisValue::BulkString(bytes)) => String::from_utf8(bytes)
            .map_err(|_| EngineError("a reply that is not UTF-8".to_owned())),
        Some(RedisValue::SimpleString(text)) => Ok(text),
        other => Err(EngineError(format!("expected a string, got {other:?}"))),
    }
}

fn number(value: Option<RedisValue>) -> Result<u64, EngineError> {
    match value {
        Some(RedisValue::Int(n)) => {
            u64::try_from(n).map_err(|_| EngineError(format!("a negative number: {n}")))
        }
        Some(RedisValue::BulkString(bytes)) => std::str::from_utf8(&bytes)
            .ok()
            .and_then(|text| text.parse().ok())
            .ok_or_else(|| EngineError("expected a number".to_owned())),
        other => Err(EngineError(format!("expected a number, got {other:?}"))),
    }
}
