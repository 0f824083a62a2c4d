-- wrk script: each request posts the next Meilisearch search body of QUERIES_FILE (one JSON per line).
local bodies = {}
for line in io.lines(os.getenv("QUERIES_FILE")) do
  bodies[#bodies + 1] = line
end
local i = 0
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", "/indexes/articles/search", { ["Content-Type"] = "application/json" }, bodies[i])
end
