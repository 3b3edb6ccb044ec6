-- Appends one interaction to a listener's log, idempotently by client id; with four
-- keys, a new entry is also shared in the listener's activity in the same step.
-- KEYS[1] = the log stream, KEYS[2] = the hash of client id -> seq (same hash tag)
-- ARGV[1] = client id, ARGV[2] = the interaction (JSON)
-- Sharing (optional; the rule of push_activity.lua, which records an entry alone):
-- KEYS[3] = the privacy hash, KEYS[4] = the activity list (same hash tag)
-- ARGV[3] = the activity entry (JSON), ARGV[4] = its time (ms), ARGV[5] = how many to keep
-- Returns {seq, duplicate (0|1), shared (0|1)}. Entries have stream ids "<seq>-0",
-- seq = 1, 2, 3...
local seen = redis.call('HGET', KEYS[2], ARGV[1])
if seen then
  return {tonumber(seen), 1, 0}
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
if #KEYS < 4 or redis.call('HGET', KEYS[3], 'share') ~= '1' then
  return {seq, 0, 0}
end
local private_until = redis.call('HGET', KEYS[3], 'private_until')
if private_until and tonumber(private_until) > tonumber(ARGV[4]) then
  return {seq, 0, 0}
end
if redis.call('LINDEX', KEYS[4], 0) ~= ARGV[3] then
  redis.call('LPUSH', KEYS[4], ARGV[3])
  redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[5]) - 1)
end
return {seq, 0, 1}
