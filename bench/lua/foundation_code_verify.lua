-- POST /api/v1/auth/token: each phone has one waiting code "246810" made by the bench.
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
  local body = string.format('{"phone":"+8496%07d","code":"246810"}', base + n)
  return wrk.format("POST", "/api/v1/auth/token", {["Content-Type"] = "application/json"}, body)
end
