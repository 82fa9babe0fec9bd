-- GET /fhir/Patient/{id}/$everything: a commune officer's session reads people of the commune
-- (each with 20 records), round-robin over the list.
local next_tid = 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end
function init(args)
  people = {}
  for line in io.lines(os.getenv("BENCH_FHIR_PEOPLE_FILE")) do people[#people + 1] = line end
  cookie = os.getenv("BENCH_FHIR_COOKIE")
  n = (tid or 0) * 17
end
function request()
  n = n + 1
  return wrk.format("GET", "/fhir/Patient/" .. people[(n % #people) + 1] .. "/$everything",
    {["Cookie"] = cookie, ["Accept"] = "application/fhir+json"})
end
