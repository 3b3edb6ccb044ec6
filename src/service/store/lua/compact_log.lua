-- Removes the oldest log entries the listener's snapshot covers, keeping the newest
-- ARGV[2] (at least 1, so sequence numbers never restart), at most ARGV[3] per call,
-- and only for the holder of the current epoch. The ids of removed entries leave the
-- idempotency hash with them.
-- KEYS[1] = epoch counter, KEYS[2] = snapshot hash, KEYS[3] = log stream,
-- KEYS[4] = hash of client id -> seq, KEYS[5] = the floor (seq compacted through)
-- (all under the listener's hash tag)
-- ARGV[1] = caller's epoch, ARGV[2] = keep_last, ARGV[3] = batch
-- Returns {0, current epoch} when fenced, else {1, through, removed}.
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current == nil then
  return redis.error_reply('CORRUPT epoch counter is not a number')
end
if string.format('%d', current) ~= ARGV[1] then
  return {0, current}
end
local floor = tonumber(redis.call('GET', KEYS[5]) or '0')
local covers = tonumber(redis.call('HGET', KEYS[2], 'covers_seq') or '0')
if floor == nil or covers == nil then
  return redis.error_reply('CORRUPT log floor or snapshot covers_seq is not a number')
end
local last = 0
local newest = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)
if #newest > 0 then
  last = tonumber(string.match(newest[1][1], '^(%d+)%-')) or 0
end
local keep = math.max(tonumber(ARGV[2]), 1)
local target = math.min(covers, last - keep, floor + tonumber(ARGV[3]))
if target <= floor then
  return {1, floor, 0}
end
local target_str = string.format('%d', target)
local entries = redis.call('XRANGE', KEYS[3], '-', target_str .. '-0')
for _, entry in ipairs(entries) do
  local fields = entry[2]
  for i = 1, #fields, 2 do
    if fields[i] == 'i' then
      local ok, decoded = pcall(cjson.decode, fields[i + 1])
      if ok and type(decoded) == 'table' and type(decoded['id']) == 'string' then
        redis.call('HDEL', KEYS[4], decoded['id'])
      end
    end
  end
end
redis.call('XTRIM', KEYS[3], 'MINID', string.format('%d', target + 1) .. '-0')
redis.call('SET', KEYS[5], target_str)
return {1, target, #entries}
