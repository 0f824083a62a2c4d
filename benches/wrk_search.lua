-- wrk script: each request searches the next query of QUERIES_FILE (one URL-encoded query per line).
-- With WRK_SESSIONS=N, requests carry one of N session ids, as a widget's would.
local queries = {}
for line in io.lines(os.getenv("QUERIES_FILE")) do
  queries[#queries + 1] = "/api/v1/search?q=" .. line
end
local sessions = tonumber(os.getenv("WRK_SESSIONS") or "0")
local i = 0
request = function()
  i = i % #queries + 1
  local path = queries[i]
  if sessions > 0 then
    path = path .. "&session_id=w" .. (math.random(sessions))
  end
  return wrk.format("GET", path)
end
