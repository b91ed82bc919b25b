-- The order consumer accepts reservations before writing their rows, so that a
-- reservation is either released by the buy path or confirmed, never both.
-- One call confirms a whole batch's orders of one sale.
-- KEYS: meta, orders, confirmed, since
-- ARGV: order_id...
-- Returns, per order id: 1 confirmed (now or before), 0 no such reservation (released);
-- or -1 for the whole call when the sale's state was not checked on this server since
-- it started (see purchase.lua): a missing reservation may have been lost, not
-- released, so nothing is decided until the state is rebuilt.
local server = redis.call('HGET', KEYS[1], 'server')
if not server or server ~= string.match(redis.call('INFO', 'server'), 'run_id:(%x+)') then
  return -1
end
local answers = {}
for i, order_id in ipairs(ARGV) do
  if redis.call('SISMEMBER', KEYS[3], order_id) == 1 then
    answers[i] = 1
  elseif redis.call('HEXISTS', KEYS[2], order_id) == 0 then
    answers[i] = 0
  else
    redis.call('SADD', KEYS[3], order_id)
    redis.call('ZREM', KEYS[4], order_id)
    answers[i] = 1
  end
end
return answers
