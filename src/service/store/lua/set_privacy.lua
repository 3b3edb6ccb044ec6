-- Replaces a listener's privacy settings.
-- KEYS[1] = the privacy hash; ARGV[1] = share ("1" or "0"), ARGV[2] = private
-- session end (ms) or "" for none. Returns 1.
redis.call('HSET', KEYS[1], 'share', ARGV[1])
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], 'private_until')
else
  redis.call('HSET', KEYS[1], 'private_until', ARGV[2])
end
return 1
