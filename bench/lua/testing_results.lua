-- GET /api/v1/testing/results: signed-in citizens (bearer tokens) read their household's results.
local next_tid = 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end
function init(args)
  tokens = {}
  for token in io.lines(os.getenv("BENCH_TESTING_TOKENS_FILE")) do tokens[#tokens + 1] = token end
  n = (tid or 0) * 13
end
function request()
  n = n + 1
  return wrk.format("GET", "/api/v1/testing/results",
    {["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1]})
end
