-- Load or update a sale's offer in Redis.
-- KEYS: meta, stock
-- ARGV: total, starts_at_ms, ends_at_ms, limit, price, sold_before, title, fresh,
-- gated ('<challenge bits>:<passes at most>': buys need a purchase pass, see admit.lua;
-- absent or '0': they do not)
-- A sale already loaded moves its counter by the change of total, so units
-- already sold stay sold. A sale new to Redis starts at total - sold_before; with
-- fresh = 1 (a sale just created: nobody can hold a unit of it yet) its state is
-- marked checked on this server (meta's "server" field, see purchase.lua), else
-- it is left unchecked (Redis lost the sale: holds whose events are still on
-- their way may be missing) and sells nothing until it is rebuilt.
-- Returns {1, remaining} or {-1, sold} when the new total is below what is sold.
local old_total = redis.call('HGET', KEYS[1], 'total')
local left = redis.call('GET', KEYS[2])
local total = tonumber(ARGV[1])
local remaining
local sold
local loaded = old_total and left
if loaded then
  sold = tonumber(old_total) - tonumber(left)
else
  sold = tonumber(ARGV[6])
end
remaining = total - sold
if remaining < 0 then
  return {-1, sold}
end
redis.call('SET', KEYS[2], remaining)
redis.call('HSET', KEYS[1], 'total', ARGV[1], 'starts_at', ARGV[2], 'ends_at', ARGV[3],
  'limit', ARGV[4], 'price', ARGV[5], 'title', ARGV[7], 'gated', ARGV[9] or '0')
if not loaded then
  local server = ''
  if ARGV[8] == '1' then
    server = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
  end
  redis.call('HSET', KEYS[1], 'server', server)
end
return {1, remaining}
