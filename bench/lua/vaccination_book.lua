-- POST /api/v1/vaccination/me/bookings: many citizens booking the same few hot sessions.
-- BENCH_VACCINATION_BOOK_FILE: line 1 the session uuids (space-separated), then
-- "token person_uuid" per citizen; each request books one citizen (threads interleave).
local next_tid = 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end
function init(args)
  sessions, pairs_ = {}, {}
  local first = true
  for line in io.lines(os.getenv("BENCH_VACCINATION_BOOK_FILE")) do
    if first then
      for s in line:gmatch("%S+") do sessions[#sessions + 1] = s end
      first = false
    else
      local token, person = line:match("(%S+) (%S+)")
      pairs_[#pairs_ + 1] = {token, person}
    end
  end
  stride = tonumber(os.getenv("BENCH_VACCINATION_THREADS") or "2")
  -- warmup runs use the second half of the file so that the measured run starts fresh
  n = (args[1] == "warmup") and math.floor(#pairs_ / 2) or 0
  n = n + (tid or 0)
end
function request()
  local pair = pairs_[(n % #pairs_) + 1]
  local s = sessions[(n % #sessions) + 1]
  n = n + stride
  return wrk.format("POST", "/api/v1/vaccination/me/bookings",
    {["Authorization"] = "Bearer " .. pair[1], ["Content-Type"] = "application/json"},
    '{"person_uuid": "' .. pair[2] .. '", "session": "' .. s .. '"}')
end
