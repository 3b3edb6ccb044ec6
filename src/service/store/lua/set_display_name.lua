-- Sets (ARGV[1] non-empty) or clears (ARGV[1] = '') an existing account's display name;
-- never creates a half account.
-- KEYS[1] = the account hash. Returns 1 when done, 0 when there is no such account.
if redis.call('HEXISTS', KEYS[1], 'core') == 0 then
  return 0
end
if ARGV[1] == '' then
  redis.call('HDEL', KEYS[1], 'display')
else
  redis.call('HSET', KEYS[1], 'display', ARGV[1])
end
return 1
