-- The order consumer accepts reservations before writing their rows, so that a
-- reservation is either released by the buy path or confirmed, never both.
-- One call confirms a whole batch's orders of one sale.
-- KEYS: orders, confirmed, since
-- ARGV: order_id...
-- Returns, per order id: 1 confirmed (now or before), 0 no such reservation (released).
local answers = {}
for i, order_id in ipairs(ARGV) do
  if redis.call('SISMEMBER', KEYS[2], order_id) == 1 then
    answers[i] = 1
  elseif redis.call('HEXISTS', KEYS[1], order_id) == 0 then
    answers[i] = 0
  else
    redis.call('SADD', KEYS[2], order_id)
    redis.call('ZREM', KEYS[3], order_id)
    answers[i] = 1
  end
end
return answers
