-- Activates a listener in one atomic step: takes the next fencing epoch and journals
-- it (take_epoch.lua, which this script begins with), then reads what the new owner
-- loads — the account, the latest snapshot and the first page of the log after what
-- that snapshot covers. One step, so the snapshot and the log page agree (no
-- compaction between them) and nothing fenced by the new epoch can land in between.
-- KEYS[1] = the epoch counter, KEYS[2] = the owner, KEYS[3] = the writer journal,
-- KEYS[4] = the account, KEYS[5] = the snapshot, KEYS[6] = the log
-- ARGV[1] = the node taking the listener, ARGV[2] = journal cap, ARGV[3] = log page size
-- Returns {epoch, {core, prefs, session epoch}, {snapshot epoch, covers_seq, bytes},
-- log entries (XRANGE reply)}; absent fields are nil.
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
