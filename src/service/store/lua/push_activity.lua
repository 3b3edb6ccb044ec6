-- Records one activity entry if the listener's privacy lets it be recorded now.
-- KEYS[1] = the privacy hash, KEYS[2] = the activity list (newest at the head; one tag)
-- ARGV[1] = the entry (JSON), ARGV[2] = its time (ms), ARGV[3] = how many to keep
-- Returns 1 (recorded, or the same entry is already the newest: a retry) or 0.
if redis.call('HGET', KEYS[1], 'share') ~= '1' then
  return 0
end
local private_until = redis.call('HGET', KEYS[1], 'private_until')
if private_until and tonumber(private_until) > tonumber(ARGV[2]) then
  return 0
end
if redis.call('LINDEX', KEYS[2], 0) == ARGV[1] then
  return 1
end
redis.call('LPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
return 1
