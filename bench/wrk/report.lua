-- Loaded by every scenario script: one machine-readable line at the end of a run (latencies in microseconds),
-- plus whatever the scenario adds through report_extra().
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT rps=%.1f p50_us=%d p99_us=%d requests=%d non2xx=%d socket_errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99),
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout))
  if report_extra then io.write(report_extra()) end
end
