-- POST /api/v1/auth/code with a new phone number each time (one code per phone).
local next_tid = 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end
function init(args)
  base = (tid or 0) * 1000000 + ((args[1] == "warmup") and 500000 or 0)
  n = 0
end
function request()
  n = n + 1
  local body = string.format('{"phone":"+8497%07d","language":"vi"}', base + n)
  return wrk.format("POST", "/api/v1/auth/code", {["Content-Type"] = "application/json"}, body)
end
