-- Every request on one live legacy session (KG_SESSION), as an SDK sends it.
dofile(os.getenv("BENCH_WRK") .. "/report.lua")
wrk.headers["Cookie"] = "JSESSIONID=" .. os.getenv("KG_SESSION")
