-- Replaces an existing account's preferences; never creates a half account.
-- KEYS[1] = the account hash; ARGV[1] = preferences (JSON)
-- Returns 1 when written, 0 when there is no such account.
if redis.call('HEXISTS', KEYS[1], 'core') == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'prefs', ARGV[1])
return 1
