-- POST /api/v1/declarations/checkins: citizens check in at venues by code, in turn, each
-- time at another venue (so every request is a new check-in, not a repeated scan);
-- lines of BENCH_DECLARATIONS_FILE: "token person venue_code".
local next_tid = 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end
function init(args)
  rows = {}
  for line in io.lines(os.getenv("BENCH_DECLARATIONS_FILE")) do
    local token, person, venue = line:match("(%S+) (%S+) (%S+)")
    rows[#rows + 1] = {token, person, venue}
  end
  n = (tid or 0) * 7919
end
function request()
  n = n + 1
  local row = rows[(n % #rows) + 1]
  local round = math.floor(n / #rows)
  local venue = rows[((n + 7 * round) % #rows) + 1][3]
  local body = '{"venue_code": "' .. venue .. '", "people": ["' .. row[2] .. '"]}'
  return wrk.format("POST", "/api/v1/declarations/checkins",
    {["Authorization"] = "Bearer " .. row[1], ["Content-Type"] = "application/json"}, body)
end
