-- Voids an account's sessions (raises its epoch), optionally replacing its core (a new
-- password) in the same step; never creates a half account.
-- KEYS[1] = the account hash; ARGV[1] = the new core (JSON) or "" to keep it.
-- Returns the new epoch, or -1 when there is no such account.
if redis.call('HEXISTS', KEYS[1], 'core') == 0 then
  return -1
end
if ARGV[1] ~= '' then
  redis.call('HSET', KEYS[1], 'core', ARGV[1])
end
return redis.call('HINCRBY', KEYS[1], 'epoch', 1)
