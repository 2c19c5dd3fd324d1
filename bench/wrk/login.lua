-- Legacy logins replaying one precomputed body (KG_LOGIN_BODY): its timestamp stays valid for 2 hours
-- (contract A1). Successful logins (200) are counted apart from "busy" (503: all hashing slots taken).
dofile(os.getenv("BENCH_WRK") .. "/report.lua")

local file = assert(io.open(os.getenv("KG_LOGIN_BODY")))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"

local threads = {}
function setup(thread) table.insert(threads, thread) end

ok, busy, other = 0, 0, 0
function response(status, headers, body)
  if status == 200 then ok = ok + 1 elseif status == 503 then busy = busy + 1 else other = other + 1 end
end

function report_extra()
  local o, b, x = 0, 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); b = b + t:get("busy"); x = x + t:get("other") end
  return string.format("LOGINS ok=%d busy=%d other=%d\n", o, b, x)
end
