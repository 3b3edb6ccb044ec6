-- Undoes a username claim, but only if it is still ours (compare-and-delete).
-- KEYS[1] = the username key; ARGV[1] = the listener id that claimed it
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
