-- POST /api/v1/vaccination/staff/bookings/{uuid}/dose: vaccinators recording injections.
-- BENCH_VACCINATION_DOSE_FILE: line 1 "cookie csrf lot_uuid", then one screened booking
-- uuid per line; each request records one dose.
local next_tid = 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end
function init(args)
  bookings = {}
  local first = true
  for line in io.lines(os.getenv("BENCH_VACCINATION_DOSE_FILE")) do
    if first then
      cookie, csrf, lot = line:match("(%S+) (%S+) (%S+)")
      first = false
    else
      bookings[#bookings + 1] = line
    end
  end
  stride = tonumber(os.getenv("BENCH_VACCINATION_THREADS") or "2")
  n = (args[1] == "warmup") and math.floor(#bookings / 2) or 0
  n = n + (tid or 0)
end
function request()
  local b = bookings[(n % #bookings) + 1]
  n = n + stride
  return wrk.format("POST", "/api/v1/vaccination/staff/bookings/" .. b .. "/dose",
    {["Cookie"] = "sessionid=" .. cookie .. "; csrftoken=" .. csrf, ["X-CSRFToken"] = csrf,
     ["Content-Type"] = "application/json"}, '{"lot": "' .. lot .. '"}')
end
