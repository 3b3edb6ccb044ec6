-- Adds one member to a social zset unless present (its first time is kept).
-- KEYS[1] = the zset, ARGV[1] = the member, ARGV[2] = now (ms). Returns 1.
redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
return 1
