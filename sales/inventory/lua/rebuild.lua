-- Rebuild a sale's state after Redis lost it (or may have: see purchase.lua), from
-- what the database and the order topic know, and mark it checked on this server.
-- KEYS: meta, stock, buyers, orders, confirmed, since, idempotency, returned
-- ARGV: total, starts_at_ms, ends_at_ms, limit, price, title, gated, n_confirmed, n_returned,
--       then n_returned order ids whose unit was given back after their order (expired,
--       cancelled), then order_id, buyer_id pairs: the first n_confirmed have order rows
--       that hold their unit (confirmed), the others have events the order consumer has
--       yet to read (held, reserved now as far as the abandoned-hold sweep is concerned).
-- Idempotency keys and rate counters are not rebuilt: a buyer who holds their
-- limit still hears limit_reached with their orders.
-- Returns {remaining, units held}; remaining is 0 when more units are held than the total.
local server = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
redis.call('DEL', KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n_confirmed = tonumber(ARGV[8])
local n_returned = tonumber(ARGV[9])
for i = 10, 9 + n_returned do
  redis.call('SADD', KEYS[8], ARGV[i])
end
local held_by = {}
local units = 0
for i = 10 + n_returned, #ARGV - 1, 2 do
  local order_id, buyer = ARGV[i], ARGV[i + 1]
  redis.call('HSET', KEYS[4], order_id, buyer)
  if units < n_confirmed then
    redis.call('SADD', KEYS[5], order_id)
  else
    redis.call('ZADD', KEYS[6], now, order_id)
  end
  held_by[buyer] = held_by[buyer] and (held_by[buyer] .. ' ' .. order_id) or order_id
  units = units + 1
end
for buyer, held in pairs(held_by) do
  redis.call('HSET', KEYS[3], buyer, held)
end
local remaining = math.max(tonumber(ARGV[1]) - units, 0)
redis.call('SET', KEYS[2], remaining)
redis.call('HSET', KEYS[1], 'total', ARGV[1], 'starts_at', ARGV[2], 'ends_at', ARGV[3],
  'limit', ARGV[4], 'price', ARGV[5], 'title', ARGV[6], 'gated', ARGV[7], 'server', server)
return {remaining, units}
