//! The Lua scripts the Redis engine runs. Each one is atomic (Redis runs a
//! script to its end before anything else), which is what makes numbering
//! safe with several nodes writing to one session at once.
//!
//! Keys of one session share a hash tag (`{…}`), so a Redis Cluster keeps
//! them in one slot and a script may touch them all.

/// Numbers frames in a session's log and publishes them.
///
/// - `KEYS[1]`: the log (a Stream whose entry ids are `<seq>-0`).
/// - `KEYS[2]`: the log's meta hash: `epoch`, `last` (the highest seq),
///   `bytes` (what the kept frames cost against the budget).
/// - `ARGV[1]`: a fresh epoch, used only if the log has none: a new session,
///   or a log that was lost (flushed, evicted, a Redis restarted without
///   persistence). Its frames are then a new stream, never a continuation.
/// - `ARGV[2]`: the byte budget; `ARGV[3]`: bytes counted per frame beyond
///   its text; `ARGV[4]`: the time to live of log and meta, in ms.
/// - `ARGV[5]`: the feed channel the numbered frames are published on
///   (`"<seq> <text>"`), for the nodes holding the session's channels.
/// - `ARGV[6]`: `"1"` to number only in a log that exists (a publish to a
///   session that is gone creates nothing).
/// - `KEYS[3]` (optional): the id of the message these frames answer: it is
///   marked done (`d`, for `ARGV[8]` ms) in the same step, so that a node
///   killed after numbering the replies never leaves the id "in progress"
///   for a resend to be handled again; a copy that waited gets the ack
///   `ARGV[7]` over the feed, as in [`FINISH`].
/// - `ARGV[9..]`: the frames, JSON objects without `seq`.
///
/// Returns `{epoch, seq of the first frame, text…}`, or `false` when
/// `ARGV[6]` is `"1"` and there is no log.
pub const APPEND: &str = r#"
local epoch = redis.call('HGET', KEYS[2], 'epoch')
if not epoch then
  if ARGV[6] == '1' then return false end
  epoch = ARGV[1]
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[2], 'epoch', epoch, 'last', 0, 'bytes', 0)
end
local last = tonumber(redis.call('HGET', KEYS[2], 'last'))
local bytes = tonumber(redis.call('HGET', KEYS[2], 'bytes'))
local budget = tonumber(ARGV[2])
local overhead = tonumber(ARGV[3])
local out = {epoch, last + 1}
for i = 9, #ARGV do
  last = last + 1
  local body = ARGV[i]
  local text
  if body == '{}' then
    text = '{"seq":' .. last .. '}'
  else
    text = '{"seq":' .. last .. ',' .. string.sub(body, 2)
  end
  redis.call('XADD', KEYS[1], last .. '-0', 'f', text)
  bytes = bytes + #text + overhead
  out[#out + 1] = text
  redis.call('PUBLISH', ARGV[5], last .. ' ' .. text)
end
-- The oldest frames go while over budget; the newest always stays.
while bytes > budget do
  local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 2)
  if #oldest < 2 then break end
  bytes = bytes - (#oldest[1][2][2] + overhead)
  redis.call('XDEL', KEYS[1], oldest[1][1])
end
redis.call('HSET', KEYS[2], 'last', last, 'bytes', bytes)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
if #KEYS >= 3 then
  local state = redis.call('GET', KEYS[3])
  redis.call('SET', KEYS[3], 'd', 'PX', ARGV[8])
  if state == 'w' then redis.call('PUBLISH', ARGV[5], '0 ' .. ARGV[7]) end
end
return out
"#;

/// What a channel opening needs, read in one step: the log's epoch (made if
/// there is none, as in [`APPEND`]), its last seq, its first kept seq, and
/// the kept frames after the replay point. The replay point follows
/// `StreamState::replay_after` (stream.rs): a v1.1 client resuming a stream
/// that is gone (another epoch, or a position past the end) gets everything.
///
/// - `KEYS[1]`, `KEYS[2]`: log and meta, as in [`APPEND`].
/// - `ARGV[1]`: a fresh epoch; `ARGV[2]`: the time to live in ms.
/// - `ARGV[3]`: `"1"` for a v1.1 client; `ARGV[4]`: the epoch it named (or
///   `""`); `ARGV[5]`: its `last_seq` (or `"-1"`: no replay asked).
///
/// Returns `{epoch, last, first, seq, text, seq, text…}`.
pub const OPENING: &str = r#"
local epoch = redis.call('HGET', KEYS[2], 'epoch')
if not epoch then
  epoch = ARGV[1]
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[2], 'epoch', epoch, 'last', 0, 'bytes', 0)
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
local last = tonumber(redis.call('HGET', KEYS[2], 'last'))
local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
local first = last + 1
if #oldest > 0 then first = tonumber(string.match(oldest[1][1], '^(%d+)')) end
local out = {epoch, last, first}
local after = tonumber(ARGV[5])
if after < 0 then return out end
local stale = (ARGV[4] ~= '' and ARGV[4] ~= epoch) or after > last
if ARGV[3] == '1' and stale then after = 0 end
local entries = redis.call('XRANGE', KEYS[1], '(' .. after .. '-0', '+')
for _, entry in ipairs(entries) do
  out[#out + 1] = tonumber(string.match(entry[1], '^(%d+)'))
  out[#out + 1] = entry[2][2]
end
return out
"#;

/// Marks an id as being handled, unless it is known: returns `"new"` (it is
/// now `p`, in progress, for `ARGV[1]` ms), `"p"` or `"w"` (in progress on
/// some node; now `w`: a copy waits for the ack), or `"d"` (done).
pub const BEGIN: &str = r#"
local state = redis.call('GET', KEYS[1])
if not state then
  redis.call('SET', KEYS[1], 'p', 'PX', ARGV[1])
  return 'new'
end
if state ~= 'd' then redis.call('SET', KEYS[1], 'w', 'KEEPTTL') end
return state
"#;

/// Marks an id as handled (`d`, for `ARGV[1]` ms: the client's retry
/// window). If a copy waited meanwhile, its ack (`ARGV[3]`) goes out on
/// the session's feed (`ARGV[2]`) as an unnumbered frame (`"0 <text>"`),
/// for whichever node holds the channel it came on. Returns whether one did.
pub const FINISH: &str = r#"
local state = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], 'd', 'PX', ARGV[1])
if state == 'w' then
  redis.call('PUBLISH', ARGV[2], '0 ' .. ARGV[3])
  return 1
end
return 0
"#;

/// Forgets an id whose handling failed (only while it is in progress), so
/// that the client's resend is handled.
pub const ABANDON: &str = r#"
local state = redis.call('GET', KEYS[1])
if state == 'p' or state == 'w' then redis.call('DEL', KEYS[1]) end
return 0
"#;

/// The session's owner: the first user to open it keeps it (`ARGV[1]`;
/// `""` for none: an anonymous session, which the first user to open it
/// then claims) for `ARGV[2]` ms after its last use. Returns the owner.
pub const OWNER: &str = r#"
local owner = redis.call('GET', KEYS[1])
if not owner or (owner == '' and ARGV[1] ~= '') then
  owner = ARGV[1]
  redis.call('SET', KEYS[1], owner, 'PX', ARGV[2])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return owner
"#;

/// Puts a session in a room: `KEYS[1]` the room's members, `KEYS[2]` the
/// session's rooms; `ARGV[1]` the session, `ARGV[2]` the room, `ARGV[3]`
/// the most rooms a session may be in, `ARGV[4]` the time to live in ms
/// (of both sets: a room nobody joins or publishes to goes). The two keys
/// are in different slots: rooms need one Redis primary, not a Cluster.
/// Returns 1, or 0 when the session is in too many rooms already.
pub const JOIN: &str = r#"
if redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 0 and redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 1
"#;
