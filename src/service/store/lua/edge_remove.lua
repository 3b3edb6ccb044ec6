-- Removes one member from each given social zset (all of one listener's tag).
-- KEYS = the zsets, ARGV[1] = the member. Returns 1.
for _, key in ipairs(KEYS) do
  redis.call('ZREM', key, ARGV[1])
end
return 1
