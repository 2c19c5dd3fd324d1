-- Requests spread round-robin over many live sessions (one id a line in KG_IDS), each thread from its own start.
dofile(os.getenv("BENCH_WRK") .. "/report.lua")

local requests = {}
local next_index = 0

function init(args)
  for id in io.lines(os.getenv("KG_IDS")) do
    requests[#requests + 1] = wrk.format(nil, nil, { ["Cookie"] = "JSESSIONID=" .. id })
  end
  next_index = math.random(#requests)
end

function request()
  next_index = next_index % #requests + 1
  return requests[next_index]
end
