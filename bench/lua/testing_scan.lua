-- POST /api/v1/testing/sessions/{uuid}/scan: many samplers at once; in each session a
-- tube barcode, then ten people's personal QR codes (one scan = one person into the pool,
-- the tenth fills and closes the tube), then the next tube.
-- BENCH_TESTING_SCAN_FILE: line 1 "cookie csrf", then "S <session uuid>" and
-- "P <personal QR token>". BENCH_TESTING_THREADS: wrk's thread count.
-- Each thread has its own sessions and its own people (nobody is scanned twice, no two
-- threads feed one queue), and its own tube barcodes, different in the warm-up and the
-- measured run: every scan is one a sampler could make, so any refusal is an error.
local next_tid = 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end
function init(args)
  local threads = tonumber(os.getenv("BENCH_TESTING_THREADS") or "1")
  local me = tid or 0
  local phase = "M"
  for _, arg in pairs(args) do
    if arg == "warmup" then phase = "W" end
  end
  sessions, people = {}, {}
  local first, s_index, p_index = true, 0, 0
  for line in io.lines(os.getenv("BENCH_TESTING_SCAN_FILE")) do
    if first then
      cookie, csrf = line:match("(%S+) (%S+)")
      first = false
    else
      local kind, value = line:match("(%S) (%S+)")
      if kind == "S" then
        if s_index % threads == me then sessions[#sessions + 1] = value end
        s_index = s_index + 1
      elseif kind == "P" then
        -- The warm-up takes people from the end of the thread's share, the run from the start.
        if p_index % threads == me then people[#people + 1] = value end
        p_index = p_index + 1
      end
    end
  end
  n, next_person, last_person = 0, 1, #people
  warmup = phase == "W"
  prefix = string.format("B%s%d%d", phase, me, os.time() % 1000000)
end
function request()
  n = n + 1
  local s = sessions[(n % #sessions) + 1]
  local round = math.floor(n / #sessions)
  local value
  if round % 11 == 0 then
    value = prefix .. string.format("%07d", n)
  elseif warmup then
    value = people[((last_person - 1) % #people) + 1]
    last_person = last_person - 1
  else
    value = people[((next_person - 1) % #people) + 1]
    next_person = next_person + 1
  end
  return wrk.format("POST", "/api/v1/testing/sessions/" .. s .. "/scan",
    {["Cookie"] = "sessionid=" .. cookie .. "; csrftoken=" .. csrf, ["X-CSRFToken"] = csrf,
     ["Content-Type"] = "application/json"}, '{"value": "' .. value .. '"}')
end
