-- A listener's activity as a viewer may see it: nothing while the owner does not
-- share or has blocked the viewer.
-- KEYS[1] = the owner's privacy hash, KEYS[2] = its blocked set, KEYS[3] = its
-- activity list (one tag); ARGV[1] = the viewer's id, ARGV[2] = at most this many.
-- Returns the entries (JSON), newest first.
if redis.call('HGET', KEYS[1], 'share') ~= '1' then
  return {}
end
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  return {}
end
local n = tonumber(ARGV[2])
if n <= 0 then
  return {}
end
return redis.call('LRANGE', KEYS[3], 0, n - 1)
