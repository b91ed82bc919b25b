-- Give a confirmed order's unit back to the sale: the order expired unpaid or was
-- cancelled. Keyed by the order id, so it happens once however often it is asked.
-- KEYS: stock, buyers, orders, confirmed, returned, meta
-- ARGV: buyer_id, order_id
-- Returns 1 returned now (stock +1, the buyer's allowance +1), 0 returned before,
-- -1 not a confirmed order of this sale, -2 the sale's state is unchecked (see
-- purchase.lua): nothing done, ask again once it is rebuilt.
local server = redis.call('HGET', KEYS[6], 'server')
if not server or server ~= string.match(redis.call('INFO', 'server'), 'run_id:(%x+)') then
  return -2
end
if redis.call('SISMEMBER', KEYS[5], ARGV[2]) == 1 then
  return 0
end
if redis.call('SREM', KEYS[4], ARGV[2]) == 0 then
  return -1
end
redis.call('HDEL', KEYS[3], ARGV[2])
redis.call('SADD', KEYS[5], ARGV[2])
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
