-- The first step of acquire_epoch.lua and activate.lua, which each begin with this
-- file (concatenated when the script is built, redis/log.rs): takes the next fencing
-- epoch for a listener into `epoch`, records the owner and journals the activation.
-- KEYS[1] = the epoch counter, KEYS[2] = the owner, KEYS[3] = the writer journal
-- ARGV[1] = the node taking the listener, ARGV[2] = journal cap
local epoch = redis.call('INCR', KEYS[1])
redis.call('SET', KEYS[2], ARGV[1])
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('RPUSH', KEYS[3], string.format('a|%d|%d|%s', ms, epoch, ARGV[1]))
redis.call('LTRIM', KEYS[3], -tonumber(ARGV[2]), -1)
