-- Adds or removes entries of the people-search index (a sorted set, all scores 0).
-- KEYS[1] = the index; ARGV[1] = 'add' or 'rem'; ARGV[2..] = entries ("key\0listener").
-- Returns 1. Safe to re-send: adding an entry twice or removing a missing one is a no-op.
for i = 2, #ARGV do
  if ARGV[1] == 'add' then
    redis.call('ZADD', KEYS[1], 0, ARGV[i])
  else
    redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
return 1
