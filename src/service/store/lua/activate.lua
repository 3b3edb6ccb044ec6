-- Activates a listener in one atomic step: takes the next fencing epoch and journals
-- it exactly as acquire_epoch.lua does (keep the two in step), then reads what the new
-- owner loads — the account, the latest snapshot and the first page of the log after
-- what that snapshot covers. One step, so the snapshot and the log page agree (no
-- compaction between them) and nothing fenced by the new epoch can land in between.
-- KEYS[1] = the epoch counter, KEYS[2] = the owner, KEYS[3] = the writer journal,
-- KEYS[4] = the account, KEYS[5] = the snapshot, KEYS[6] = the log
-- ARGV[1] = the node taking the listener, ARGV[2] = journal cap, ARGV[3] = log page size
-- Returns {epoch, {core, prefs, session epoch}, {snapshot epoch, covers_seq, bytes},
-- log entries (XRANGE reply)}; absent fields are nil.
local epoch = redis.call('INCR', KEYS[1])
redis.call('SET', KEYS[2], ARGV[1])
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('RPUSH', KEYS[3], string.format('a|%d|%d|%s', ms, epoch, ARGV[1]))
redis.call('LTRIM', KEYS[3], -tonumber(ARGV[2]), -1)
local account = redis.call('HMGET', KEYS[4], 'core', 'prefs', 'epoch')
local snap = redis.call('HMGET', KEYS[5], 'epoch', 'covers_seq', 'bytes')
local log = {}
local page = tonumber(ARGV[3])
if page > 0 then
  local after = 0
  if snap[2] then
    after = tonumber(snap[2])
  end
  log = redis.call('XRANGE', KEYS[6], string.format('%d-0', after + 1), '+', 'COUNT', page)
end
return {epoch, account, snap, log}
