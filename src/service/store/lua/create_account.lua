-- Writes a new account record unless one exists under this listener id.
-- KEYS[1] = the account hash; ARGV[1] = core record (JSON), ARGV[2] = preferences (JSON)
-- Returns 1 when written, 0 when the id was taken.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'core', ARGV[1], 'prefs', ARGV[2])
return 1
