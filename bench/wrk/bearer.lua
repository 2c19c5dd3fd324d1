-- Every request with one identity token (KG_BEARER), as Keygate's gateway would add it: the upstream-direct and
-- bare-proxy legs of the gateway scenario, so the upstream validates a token on every leg alike.
dofile(os.getenv("BENCH_WRK") .. "/report.lua")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("KG_BEARER")
