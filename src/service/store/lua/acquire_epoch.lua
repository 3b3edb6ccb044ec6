-- Takes the next fencing epoch for a listener and journals the activation (after
-- take_epoch.lua, which this script begins with: its KEYS and ARGV).
-- Returns the new epoch.
return epoch
