-- Takes or renews a background job's lease.
-- KEYS[1] = the lease (string `holder|epoch`, PX TTL), KEYS[2] = the job's epoch
-- counter (same hash tag). ARGV[1] = holder, ARGV[2] = TTL in ms.
-- Returns {1, epoch} when ARGV[1] holds it (new epoch if it was free, the same one
-- renewed), {0, holder} when another holder's lease holds.
local cur = redis.call('GET', KEYS[1])
if cur then
  local holder, epoch = string.match(cur, '^(.*)|(%d+)$')
  if holder == nil then
    return redis.error_reply('CORRUPT job lease is not holder|epoch')
  end
  if holder == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return {1, tonumber(epoch)}
  end
  return {0, holder}
end
local epoch = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. epoch, 'PX', ARGV[2])
return {1, epoch}
