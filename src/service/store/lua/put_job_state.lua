-- Writes fields of a job's state only if the writer holds the job's current epoch.
-- KEYS[1] = the job's epoch counter, KEYS[2] = the state hash (same hash tag).
-- ARGV[1] = writer's epoch, ARGV[2..] = field, value, field, value, ...
-- Returns {written (0|1), current epoch}: the check and the write are one step.
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current == nil then
  return redis.error_reply('CORRUPT job epoch counter is not a number')
end
if string.format('%d', current) ~= ARGV[1] then
  return {0, current}
end
if #ARGV > 1 then
  redis.call('HSET', KEYS[2], unpack(ARGV, 2))
end
return {1, current}
