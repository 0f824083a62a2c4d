-- wrk script: each request POSTs the next line of QUERIES_FILE (one JSON-encoded message per
-- line) to /api/v1/suggest.
local bodies = {}
for line in io.lines(os.getenv("QUERIES_FILE")) do
  bodies[#bodies + 1] = '{"message":' .. line .. '}'
end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", "/api/v1/suggest", nil, bodies[i])
end
