-- Appends one interaction to a listener's log, idempotently by client id; optionally
-- only if the request's session signs its requests in (checked in the same step), and
-- optionally also sharing a new entry in the listener's activity.
-- KEYS[1] = the log stream, KEYS[2] = the hash of client id -> seq (same hash tag)
-- ARGV[1] = client id, ARGV[2] = the interaction (JSON)
-- ARGV[3] = the listener whose session is checked, or '' for no check. With a check:
--   KEYS[3] = the session (JSON), KEYS[4] = the listener's account hash (same hash tag).
--   The rule of `SessionCheck::signs_in` (store/types.rs): the session exists, its
--   account's `core` field does, and the session's epoch is the account's `epoch`
--   (absent = 0).
-- Sharing (optional; the rule of push_activity.lua, which records an entry alone): the
-- two keys after those above — the privacy hash, the activity list (same hash tag) —
-- ARGV[4] = the activity entry (JSON), ARGV[5] = its time (ms), ARGV[6] = how many to keep
-- Returns, without a check, {seq, duplicate (0|1), shared (0|1)}; with one, {session,
-- core, epoch, appended (0|1), seq, duplicate, shared} (the first three as read, nil
-- when absent; nothing is written unless appended). Entries have stream ids "<seq>-0",
-- seq = 1, 2, 3...
local check = ARGV[3] ~= ''
local session, core, epoch = false, false, false
if check then
  session = redis.call('GET', KEYS[3])
  if not session then
    return {false, false, false, 0, 0, 0, 0}
  end
  -- A session that is not JSON or names another listener than its key is corrupt:
  -- nothing is written, and the caller finds it so in the session returned.
  local ok, s = pcall(cjson.decode, session)
  if not ok or type(s) ~= 'table' or s.listener ~= ARGV[3] then
    return {session, false, false, 0, 0, 0, 0}
  end
  core = redis.call('HGET', KEYS[4], 'core')
  epoch = redis.call('HGET', KEYS[4], 'epoch')
  local held = tonumber(s.epoch) or 0
  if not core or (tonumber(epoch) or 0) ~= held then
    return {session, core, epoch, 0, 0, 0, 0}
  end
end
local function done(seq, duplicate, shared)
  if check then
    return {session, core, epoch, 1, seq, duplicate, shared}
  end
  return {seq, duplicate, shared}
end
local seen = redis.call('HGET', KEYS[2], ARGV[1])
if seen then
  return done(tonumber(seen), 1, 0)
end
local seq = 1
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #last > 0 then
  local prev = tonumber(string.match(last[1][1], '^(%d+)%-'))
  if not prev then
    return redis.error_reply('CORRUPT log entry id ' .. tostring(last[1][1]))
  end
  seq = prev + 1
end
local seq_str = string.format('%d', seq)
redis.call('XADD', KEYS[1], seq_str .. '-0', 'i', ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], seq_str)
local privacy, activity = KEYS[check and 5 or 3], KEYS[check and 6 or 4]
if not activity or redis.call('HGET', privacy, 'share') ~= '1' then
  return done(seq, 0, 0)
end
local private_until = redis.call('HGET', privacy, 'private_until')
if private_until and tonumber(private_until) > tonumber(ARGV[5]) then
  return done(seq, 0, 0)
end
if redis.call('LINDEX', activity, 0) ~= ARGV[4] then
  redis.call('LPUSH', activity, ARGV[4])
  redis.call('LTRIM', activity, 0, tonumber(ARGV[6]) - 1)
end
return done(seq, 0, 1)
