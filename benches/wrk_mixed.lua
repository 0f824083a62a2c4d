-- wrk script: a help center's mixed traffic. Of every 20 requests: 12 API searches, 2 search
-- pages, 2 autocompletes, 2 article reads, 1 suggestion and 1 helpfulness vote, each with a
-- session id. QUERIES_FILE: URL-encoded queries, one per line; MESSAGES_FILE: the same as JSON
-- strings; SLUGS_FILE: article slugs. DELAY_MS: a pause before each request of a connection
-- (sets the rate: connections × 1000 / (DELAY_MS + latency) requests per second).
local function lines(path)
  local t = {}
  for line in io.lines(path) do t[#t + 1] = line end
  return t
end
local queries = lines(os.getenv("QUERIES_FILE"))
local messages = lines(os.getenv("MESSAGES_FILE"))
local slugs = lines(os.getenv("SLUGS_FILE"))
local delay_ms = tonumber(os.getenv("DELAY_MS") or "0")
local n = 0

request = function()
  n = n + 1
  local i = math.random(#queries)
  local session = "m" .. math.random(2000)
  local k = n % 20
  if k < 12 then
    return wrk.format("GET", "/api/v1/search?q=" .. queries[i] .. "&session_id=" .. session)
  elseif k < 14 then
    return wrk.format("GET", "/search?q=" .. queries[i])
  elseif k < 16 then
    return wrk.format("GET", "/api/v1/autocomplete?q=" .. string.sub(queries[i], 1, 4) .. "&session_id=" .. session)
  elseif k < 18 then
    return wrk.format("GET", "/api/v1/articles/" .. slugs[math.random(#slugs)] .. "?session_id=" .. session)
  elseif k < 19 then
    return wrk.format("POST", "/api/v1/suggest", {["Content-Type"] = "application/json"},
      '{"message": ' .. messages[i] .. ', "session_id": "' .. session .. '"}')
  else
    return wrk.format("POST", "/api/v1/articles/" .. slugs[math.random(#slugs)] .. "/votes",
      {["Content-Type"] = "application/json"},
      '{"helpful": ' .. (math.random(2) == 1 and "true" or "false") .. ', "session_id": "' .. session .. '"}')
  end
end

delay = function()
  return delay_ms
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d seconds=%.1f non2xx=%d connect=%d read=%d write=%d timeout=%d p50=%.2f p99=%.2f max=%.2f\n",
    summary.requests, summary.duration / 1e6, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
