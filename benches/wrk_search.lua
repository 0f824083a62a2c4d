-- wrk script: each request searches the next query of QUERIES_FILE (one URL-encoded query per line).
local queries = {}
for line in io.lines(os.getenv("QUERIES_FILE")) do
  queries[#queries + 1] = "/api/v1/search?q=" .. line
end
local i = 0
request = function()
  i = i % #queries + 1
  return wrk.format("GET", queries[i])
end
