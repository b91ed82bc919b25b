-- Give a reservation back: the broker never acknowledged its order event, or no
-- event for it can still reach the order consumer (an abandoned hold).
-- KEYS: stock, buyers, orders, confirmed, since, meta
-- ARGV: buyer_id, order_id[, held_before_ms]
-- Returns 1 released, 0 already confirmed by the order consumer (the order
-- stands and must not be released), -1 unknown (already released), 2 kept: the
-- hold is newer than held_before_ms, 3 kept: held_before_ms is given (the hold is
-- thought abandoned) but the sale's state was not checked on this server since it
-- started (see purchase.lua): its confirmation may have been lost.
-- A give-back without held_before_ms (the buy's own, after the broker refused its
-- event) is right on any state: its buyer was told to try again.
if redis.call('SISMEMBER', KEYS[4], ARGV[2]) == 1 then
  return 0
end
if ARGV[3] then
  local server = redis.call('HGET', KEYS[6], 'server')
  if not server or server ~= string.match(redis.call('INFO', 'server'), 'run_id:(%x+)') then
    return 3
  end
  local since = redis.call('ZSCORE', KEYS[5], ARGV[2])
  if since and tonumber(since) >= tonumber(ARGV[3]) then
    return 2
  end
end
if redis.call('HDEL', KEYS[3], ARGV[2]) == 0 then
  return -1
end
redis.call('ZREM', KEYS[5], ARGV[2])
redis.call('INCR', KEYS[1])
local held = redis.call('HGET', KEYS[2], ARGV[1])
if held then
  local kept = {}
  for order_id in string.gmatch(held, '%S+') do
    if order_id ~= ARGV[2] then
      kept[#kept + 1] = order_id
    end
  end
  if #kept == 0 then
    redis.call('HDEL', KEYS[2], ARGV[1])
  else
    redis.call('HSET', KEYS[2], ARGV[1], table.concat(kept, ' '))
  end
end
return 1
