-- Lists the nodes whose heartbeat key still holds, and forgets those that expired.
-- KEYS[1] = the registry set of node ids
-- ARGV[1] = the key prefix of heartbeat keys (same hash tag as KEYS[1])
-- Returns a flat list: heartbeat value, remaining TTL in ms, value, TTL, ...
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. id
  local ttl = redis.call('PTTL', key)
  if ttl > 0 then
    local value = redis.call('GET', key)
    if value then
      table.insert(out, value)
      table.insert(out, ttl)
    end
  elseif ttl == -2 then
    redis.call('SREM', KEYS[1], id)
  end
end
return out
