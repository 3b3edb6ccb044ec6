-- The followee's side of a follow, refused when the followee blocked the follower.
-- KEYS[1] = the followee's blocked set, KEYS[2] = the followee's followers (zsets, one tag)
-- ARGV[1] = the follower's id, ARGV[2] = now (ms)
-- Returns 1 (followed; a repeated follow keeps its first time) or 0 (blocked).
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[2], 'NX', ARGV[2], ARGV[1])
return 1
