-- wrk script: POST /api/sales/<id>/buy with bearer tokens rotated over many buyers.
--
--   wrk -t2 -c64 -d10s -s bench/wrk_buy.lua http://127.0.0.1:8000 -- SALE_ID TOKENS_FILE [PREFIX]
--
-- PREFIX is the path before the sale id, "/api/sales/" (the hot path) unless
-- given; the Django-view comparison uses "/bench/sales/".
-- TOKENS_FILE has one token per line. Each wrk thread starts at its own offset
-- and walks the list, so consecutive requests come from different buyers (with
-- enough buyers no one hits the per-buyer rate limit). At the end the answers
-- are counted by HTTP status, so a run that was really measuring 429s or 409s
-- says so.

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  local sale, file, prefix = args[1], args[2], args[3] or "/api/sales/"
  path = prefix .. sale .. "/buy"
  tokens = {}
  for line in io.lines(file) do
    if #line > 0 then tokens[#tokens + 1] = line end
  end
  i = (id - 1) * math.floor(#tokens / 16)
  statuses = {}
end

function request()
  i = i + 1
  local token = tokens[(i % #tokens) + 1]
  return wrk.format("POST", path, { ["Authorization"] = "Bearer " .. token, ["Content-Length"] = "0" }, nil)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for code, n in pairs(s) do total[code] = (total[code] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(total) do parts[#parts + 1] = code .. "=" .. n end
  table.sort(parts)
  io.write("statuses: " .. table.concat(parts, " ") .. "\n")
  io.write(string.format("latency_ms: p50=%.2f p90=%.2f p99=%.2f max=%.2f\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
