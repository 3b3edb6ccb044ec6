-- Writes a new account record unless one exists under this listener id.
-- KEYS[1] = the account hash; ARGV[1] = core record (JSON), ARGV[2] = preferences (JSON),
-- ARGV[3] = this call's token (kept in the hash: a client that re-sends this very
-- call after a lost reply — the cluster client does — is answered "written" again).
-- Returns 1 when written (by this call), 0 when the id was taken.
if redis.call('EXISTS', KEYS[1]) == 1 then
  if redis.call('HGET', KEYS[1], 'call') == ARGV[3] then
    return 1
  end
  return 0
end
redis.call('HSET', KEYS[1], 'core', ARGV[1], 'prefs', ARGV[2], 'call', ARGV[3])
return 1
