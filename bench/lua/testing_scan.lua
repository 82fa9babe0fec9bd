-- POST /api/v1/testing/sessions/{uuid}/scan: many samplers at once; in each session a
-- tube barcode, then people's personal QR codes (one scan = one person into the tube).
-- BENCH_TESTING_SCAN_FILE: line 1 "cookie csrf", then "S <session uuid>" and "P <person uuid>".
local next_tid = 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end
function init(args)
  sessions, people = {}, {}
  local first = true
  for line in io.lines(os.getenv("BENCH_TESTING_SCAN_FILE")) do
    if first then
      cookie, csrf = line:match("(%S+) (%S+)")
      first = false
    else
      local kind, value = line:match("(%S) (%S+)")
      if kind == "S" then sessions[#sessions + 1] = value else people[#people + 1] = value end
    end
  end
  n = 0
  prefix = string.format("B%d%d", tid or 0, math.random(100000, 999999))
end
function request()
  n = n + 1
  local s = sessions[(n % #sessions) + 1]
  local round = math.floor(n / #sessions)
  local value
  if round % 10 == 0 then
    value = prefix .. string.format("%07d", n)
  else
    value = "CVHP:" .. people[((n * 7 + (tid or 0) * 104729) % #people) + 1]
  end
  return wrk.format("POST", "/api/v1/testing/sessions/" .. s .. "/scan",
    {["Cookie"] = "sessionid=" .. cookie .. "; csrftoken=" .. csrf, ["X-CSRFToken"] = csrf,
     ["Content-Type"] = "application/json"}, '{"value": "' .. value .. '"}')
end
