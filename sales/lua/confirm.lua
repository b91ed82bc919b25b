-- The order consumer accepts a reservation before writing its row, so that a
-- reservation is either released by the buy path or confirmed, never both.
-- KEYS: orders, confirmed
-- ARGV: order_id
-- Returns 1 confirmed (now or before), 0 no such reservation (released).
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then
  return 1
end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('SADD', KEYS[2], ARGV[1])
return 1
