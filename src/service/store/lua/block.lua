-- The blocker's side of a block: record it and drop the follows either way.
-- KEYS[1] = the blocker's blocked set, KEYS[2] = its followers, KEYS[3] = its following
-- ARGV[1] = the blocked listener's id, ARGV[2] = now (ms). Returns 1.
redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
