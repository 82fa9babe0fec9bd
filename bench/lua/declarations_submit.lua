-- POST /api/v1/declarations/declarations: each request a different citizen (bearer token)
-- declaring for their own person; lines of BENCH_DECLARATIONS_FILE: "token person venue".
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
  local symptoms = (n % 10 == 0) and '["cough"], "no_symptoms": false' or '[], "no_symptoms": true'
  local body = '{"person": "' .. row[2] .. '", "phone": "0912345678", "commune": "10507", '
    .. '"address_line": "Số 1 Phố Bench", "travelled": false, "symptoms": ' .. symptoms .. ', '
    .. '"contact_case": false, "contact_outbreak_area": false, "contact_symptomatic": false, '
    .. '"consent": true}'
  return wrk.format("POST", "/api/v1/declarations/declarations",
    {["Authorization"] = "Bearer " .. row[1], ["Content-Type"] = "application/json"}, body)
end
