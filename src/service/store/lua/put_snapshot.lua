-- Writes a listener's snapshot only if the writer holds the current fencing epoch,
-- and journals the outcome.
-- KEYS[1] = the epoch counter, KEYS[2] = the snapshot hash, KEYS[3] = the writer
-- journal (same hash tag)
-- ARGV[1] = writer's epoch, ARGV[2] = covers_seq, ARGV[3] = model bytes, ARGV[4] = journal cap
-- Returns {written (0|1), current epoch}. The check and the write are one step, so
-- a writer fenced between them cannot exist.
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current == nil then
  return redis.error_reply('CORRUPT epoch counter is not a number')
end
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if string.format('%d', current) ~= ARGV[1] then
  redis.call('RPUSH', KEYS[3], string.format('f|%d|%s|%d', ms, ARGV[1], current))
  redis.call('LTRIM', KEYS[3], -tonumber(ARGV[4]), -1)
  return {0, current}
end
redis.call('HSET', KEYS[2], 'epoch', ARGV[1], 'covers_seq', ARGV[2], 'bytes', ARGV[3])
redis.call('RPUSH', KEYS[3], string.format('w|%d|%s|%s', ms, ARGV[1], ARGV[2]))
redis.call('LTRIM', KEYS[3], -tonumber(ARGV[4]), -1)
return {1, current}
