-- POST /api/v1/homecare/orders/{order}/checks: each request a different household (bearer
-- token) sending a new check (a fresh client key); lines of BENCH_HOMECARE_FILE:
-- "token order". BENCH_HOMECARE_SPO2 sets the SpO2 sent (92: every check is a warning sign);
-- BENCH_HOMECARE_DELAY_MS paces each connection (a delay before each request): a fixed
-- rate such as the morning wave's instead of as fast as the server answers.
local next_tid = 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end
function init(args)
  rows = {}
  for line in io.lines(os.getenv("BENCH_HOMECARE_FILE")) do
    local token, order = line:match("(%S+) (%S+)")
    rows[#rows + 1] = {token, order}
  end
  spo2 = os.getenv("BENCH_HOMECARE_SPO2") or "97"
  pause = tonumber(os.getenv("BENCH_HOMECARE_DELAY_MS") or "0")
  n = (tid or 0) * 7919
  salt = tostring(os.time()) .. "-" .. tostring(tid or 0)
end
function request()
  n = n + 1
  local row = rows[(n % #rows) + 1]
  local body = '{"client_key": "bench-' .. salt .. '-' .. n .. '", "temperature": "37.4", '
    .. '"spo2": ' .. spo2 .. ', "pulse": 88, "breathing_rate": 18, "no_symptoms": true}'
  return wrk.format("POST", "/api/v1/homecare/orders/" .. row[2] .. "/checks",
    {["Authorization"] = "Bearer " .. row[1], ["Content-Type"] = "application/json"}, body)
end
if os.getenv("BENCH_HOMECARE_DELAY_MS") then
  function delay()
    return pause
  end
end
