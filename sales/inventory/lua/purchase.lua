-- Decide one buy click atomically.
-- KEYS: meta, stock, buyers, orders, rate, since, idempotency, passes, audit, address_rate
-- ARGV: buyer_id, order_id, rate_limit (0 = off), idempotency key ('' = none),
-- server: the run_id of this Redis server as the caller's connection learned it
-- ('' or absent: asked here, which costs an INFO), pass: the buyer's purchase pass
-- ('' or absent = none; a gated sale, meta's gated = '<bits>:<passes>', sells only on a pass of the
-- buyer's that has not expired, and uses it up: see admit.lua), address_limit: buy requests
-- per second from the client's address to this sale (0 or absent = off; KEYS[10] counts them)
-- Returns {code, remaining, price}: 1 reserved, -1 sold_out, -2 limit_reached,
-- -3 not_started, -4 ended, -5 unknown sale, -6 rate_limited, -9 pass_required (a gated
-- sale, and no valid pass of this buyer's: none, forged, expired, used, another's), -7 unverified: the
-- sale's state was not checked on this server since it started (a restart from an
-- older AOF, a promoted replica): nothing is sold until it is rebuilt, -10 address_limited.
-- A reservation is appended to the sale's audit stream (KEYS[9], sales/audit.py) in this
-- same script, so the log's order is the order Redis took the units. limit_reached
-- returns {-2, remaining, held, unconfirmed, price}: held is the buyer's order ids,
-- space-separated; unconfirmed those of them the order consumer has not confirmed,
-- whose reservation time is set to now (the caller produces their events again, in
-- case the buy that made them died before it did: see orders/abandoned.py).
-- The buyer's own holds are checked before the stock: a buyer who holds their limit
-- (a retry whose first request won) hears limit_reached with the orders, never sold_out.
-- A buy that repeats an idempotency key the buyer used for a reserved buy returns
-- {2, remaining, price, order_id, renewed}: the first buy's order, while it is held (a
-- given-back order repeats nothing: the buy is decided afresh);
-- renewed = 1 when it is not confirmed yet (its reservation time is set to now, and the
-- caller produces its event again, as for limit_reached).
-- Every rejection leaves stock, buyers and orders untouched.
local meta = redis.call('HMGET', KEYS[1], 'starts_at', 'ends_at', 'limit', 'price', 'server', 'gated')
if not meta[1] then
  return {-5, 0}
end
local server = ARGV[5]
if not server or server == '' then
  server = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
end
if meta[5] ~= server then
  return {-7, 0}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local repeat_of = ARGV[1] .. ':' .. ARGV[4]
if ARGV[4] ~= '' then
  local earlier = redis.call('HGET', KEYS[7], repeat_of)
  if earlier and redis.call('HEXISTS', KEYS[4], earlier) == 0 then
    -- given back since (its buyer heard "retry", or it was abandoned): nothing to repeat
    redis.call('HDEL', KEYS[7], repeat_of)
    earlier = nil
  end
  if earlier then
    local renewed = 0
    if redis.call('ZSCORE', KEYS[6], earlier) then
      redis.call('ZADD', KEYS[6], now, earlier)
      renewed = 1
    end
    return {2, tonumber(redis.call('GET', KEYS[2]) or '0'), meta[4], earlier, renewed}
  end
end
-- One more request in this second's counter (kept 2 s); true when it is over the limit (0 = off).
local function over(counter, limit)
  if limit <= 0 then
    return false
  end
  local n = redis.call('INCR', counter)
  if n == 1 then
    redis.call('PEXPIRE', counter, 2000)
  end
  return n > limit
end
if over(KEYS[5], tonumber(ARGV[3])) then
  return {-6, 0}
end
if over(KEYS[10], tonumber(ARGV[7] or '0')) then
  return {-10, 0}
end
if now < tonumber(meta[1]) then
  return {-3, tonumber(redis.call('GET', KEYS[2]) or '0')}
end
if now >= tonumber(meta[2]) then
  return {-4, tonumber(redis.call('GET', KEYS[2]) or '0')}
end
local held = redis.call('HGET', KEYS[3], ARGV[1])
if held then
  local count = 0
  for _ in string.gmatch(held, '%S+') do
    count = count + 1
  end
  if count >= tonumber(meta[3]) then
    local unconfirmed = {}
    for order_id in string.gmatch(held, '%S+') do
      if redis.call('ZSCORE', KEYS[6], order_id) then
        redis.call('ZADD', KEYS[6], now, order_id)
        unconfirmed[#unconfirmed + 1] = order_id
      end
    end
    return {-2, tonumber(redis.call('GET', KEYS[2]) or '0'), held, table.concat(unconfirmed, ' '), meta[4]}
  end
end
local left = tonumber(redis.call('GET', KEYS[2]) or '0')
if left <= 0 then
  return {-1, 0}
end
local gated = meta[6] and meta[6] ~= '0' and meta[6] ~= ''
if gated then
  local pass = ARGV[6] and ARGV[6] ~= '' and redis.call('HGET', KEYS[8], ARGV[6])
  if not pass then
    return {-9, left}
  end
  local owner, expires = string.match(pass, '^(%d+):(%d+)$')
  if owner ~= ARGV[1] or now >= tonumber(expires) then
    return {-9, left}
  end
  redis.call('HDEL', KEYS[8], ARGV[6])
end
local remaining = redis.call('DECR', KEYS[2])
redis.call('HSET', KEYS[3], ARGV[1], held and (held .. ' ' .. ARGV[2]) or ARGV[2])
redis.call('HSET', KEYS[4], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[6], now, ARGV[2])
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[7], repeat_of, ARGV[2])
end
redis.call('XADD', KEYS[9], '*', 'kind', 'reserved', 'buyer', ARGV[1], 'order', ARGV[2])
return {1, remaining, meta[4]}
