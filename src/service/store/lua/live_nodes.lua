-- Lists the nodes whose heartbeat key still holds, and forgets those that expired.
-- KEYS[1] = the registry set of node ids; KEYS[2..] = the heartbeat keys of the ids
-- in ARGV (same order; all under the registry's hash tag, declared so a Redis
-- Cluster can route and check them). The caller read the ids with SMEMBERS first.
-- Returns a flat list: heartbeat value, remaining TTL in ms, value, TTL, ...
local out = {}
for i, id in ipairs(ARGV) do
  local key = KEYS[i + 1]
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
