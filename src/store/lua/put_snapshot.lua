-- Writes a listener's snapshot only if the writer holds the current fencing epoch.
-- KEYS[1] = the epoch counter, KEYS[2] = the snapshot hash (same hash tag)
-- ARGV[1] = writer's epoch, ARGV[2] = covers_seq, ARGV[3] = model bytes
-- Returns {written (0|1), current epoch}. The check and the write are one step, so
-- a writer fenced between them cannot exist.
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current == nil then
  return redis.error_reply('CORRUPT epoch counter is not a number')
end
if string.format('%d', current) ~= ARGV[1] then
  return {0, current}
end
redis.call('HSET', KEYS[2], 'epoch', ARGV[1], 'covers_seq', ARGV[2], 'bytes', ARGV[3])
return {1, current}
