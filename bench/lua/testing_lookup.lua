-- POST /api/v1/testing/lookup: appointment code + date of birth, without an account.
-- BENCH_TESTING_LOOKUP_FILE lines: "CODE DD/MM/YYYY".
local next_tid = 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end
function init(args)
  rows = {}
  for line in io.lines(os.getenv("BENCH_TESTING_LOOKUP_FILE")) do
    local code, birth = line:match("(%S+) (%S+)")
    rows[#rows + 1] = '{"code": "' .. code .. '", "birth": "' .. birth .. '"}'
  end
  n = (tid or 0) * 7919
end
function request()
  n = n + 1
  return wrk.format("POST", "/api/v1/testing/lookup", {["Content-Type"] = "application/json"},
    rows[(n % #rows) + 1])
end
