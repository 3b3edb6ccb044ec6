-- Appends one interaction to a listener's log, idempotently by client id.
-- KEYS[1] = the log stream, KEYS[2] = the hash of client id -> seq (same hash tag)
-- ARGV[1] = client id, ARGV[2] = the interaction (JSON)
-- Returns {seq, duplicate (0|1)}. Entries have stream ids "<seq>-0", seq = 1, 2, 3...
local seen = redis.call('HGET', KEYS[2], ARGV[1])
if seen then
  return {tonumber(seen), 1}
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
return {seq, 0}
