-- Issue a purchase pass to a buyer who solved the sale's challenge (sales/challenge.py):
-- the token gate in front of the buy. At most meta's gated '<bits>:<passes>' passes per sale, one
-- per solved challenge.
-- KEYS: meta, stock, passes, seeds, audit (the sale's audit stream: an issued pass is an admission)
-- ARGV: buyer_id, nonce (of the solved challenge), pass_id, ttl_ms (how long the pass admits a buy)
-- Returns {code, expires_ms}: 1 issued, -1 sold_out (every pass of the gate is out, or no unit
-- is left), -3 not_started (no pass is farmed before the sale opens), -4 ended, -5 unknown sale,
-- -8 replayed (this challenge already earned a pass), -11 not gated (the sale needs no pass).
-- A refusal changes nothing.
local window = redis.call('HMGET', KEYS[1], 'starts_at', 'ends_at', 'gated')
local ends_at = window[2]
if not ends_at then
  return {-5, 0}
end
local gate = tonumber(string.match(window[3] or '', ':(%d+)$'))
if not gate then
  return {-11, 0}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if now < tonumber(window[1]) then
  return {-3, 0}
end
if now >= tonumber(ends_at) then
  return {-4, 0}
end
if redis.call('SISMEMBER', KEYS[4], ARGV[2]) == 1 then
  return {-8, 0}
end
if redis.call('SCARD', KEYS[4]) >= gate or tonumber(redis.call('GET', KEYS[2]) or '0') <= 0 then
  return {-1, 0}
end
local expires = now + tonumber(ARGV[4])
redis.call('SADD', KEYS[4], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[1] .. ':' .. expires)
redis.call('XADD', KEYS[5], '*', 'kind', 'pass', 'buyer', ARGV[1])
return {1, expires}
