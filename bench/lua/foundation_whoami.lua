-- GET /api/v1/me with bearer tokens taken in turn from bench-made tokens.
local next_tid = 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end
function init(args)
  tokens = {}
  for token in io.lines(os.getenv("BENCH_TOKENS_FILE")) do tokens[#tokens + 1] = token end
  n = (tid or 0) * 7
end
function request()
  n = n + 1
  local token = tokens[(n % #tokens) + 1]
  return wrk.format("GET", "/api/v1/me", {["Authorization"] = "Bearer " .. token})
end
