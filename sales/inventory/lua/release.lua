-- Give a reservation back: the broker never acknowledged its order event.
-- KEYS: stock, buyers, orders, confirmed
-- ARGV: buyer_id, order_id
-- Returns 1 released, 0 already confirmed by the order consumer (the order
-- stands and must not be released), -1 unknown (already released).
if redis.call('SISMEMBER', KEYS[4], ARGV[2]) == 1 then
  return 0
end
if redis.call('HDEL', KEYS[3], ARGV[2]) == 0 then
  return -1
end
redis.call('INCR', KEYS[1])
if redis.call('HINCRBY', KEYS[2], ARGV[1], -1) <= 0 then
  redis.call('HDEL', KEYS[2], ARGV[1])
end
return 1
