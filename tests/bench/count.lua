-- Shared by the bench's wrk scripts (report.lua, followup.lua): counts every
-- answer by status, keeps the first unexpected answer of each thread, and at
-- the end prints one line of figures that tests/bench/run.sh reads:
--
--   BENCH requests=N seconds=S rps=R ok=N ok_rps=R other=N sent=N
--         p50_ms=.. p90_ms=.. p99_ms=.. max_ms=.. connect=N read=N write=N
--         timeout=N statuses=201:N,503:N
--
-- `ok` counts the answers with the script's expected status (the global
-- `expect`), `other` every other answer.  A bench that quietly measured
-- errors would be wrong, so the unexpected answers are printed as well.
-- Before loading this file a script sets `expect` and may define
-- `bench_init(id)` (per thread) and `bench_response(status, body)`.

threads = {}
statuses = {}
sent = 0
sample = nil

function setup(thread)
	table.insert(threads, thread)
	thread:set("id", #threads)
end

function init(args)
	math.randomseed(os.time() * 1000 + id * 7919 + math.floor(os.clock() * 1e6))
	if bench_init then
		bench_init(id)
	end
end

function response(status, headers, body)
	statuses[status] = (statuses[status] or 0) + 1
	if status ~= expect and sample == nil then
		sample = status .. " " .. string.sub(body or "", 1, 300)
	end
	if bench_response then
		bench_response(status, body)
	end
end

function done(summary, latency, requests)
	local counts, total_sent, samples = {}, 0, {}
	for _, t in ipairs(threads) do
		for k, v in pairs(t:get("statuses") or {}) do
			counts[k] = (counts[k] or 0) + v
		end
		total_sent = total_sent + (t:get("sent") or 0)
		local s = t:get("sample")
		if s then
			table.insert(samples, s)
		end
	end
	local ok, other, list = 0, 0, {}
	for k, v in pairs(counts) do
		if k == expect then ok = ok + v else other = other + v end
		table.insert(list, k .. ":" .. v)
	end
	table.sort(list)
	local secs = summary.duration / 1e6
	local e = summary.errors
	io.write(string.format("BENCH requests=%d seconds=%.3f rps=%.1f ok=%d ok_rps=%.1f other=%d " ..
		"sent=%d p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f connect=%d read=%d " ..
		"write=%d timeout=%d statuses=%s\n",
		summary.requests, secs, summary.requests / secs, ok, ok / secs, other, total_sent,
		latency:percentile(50) / 1000, latency:percentile(90) / 1000,
		latency:percentile(99) / 1000, latency.max / 1000, e.connect, e.read, e.write,
		e.timeout, #list > 0 and table.concat(list, ",") or "-"))
	for _, s in ipairs(samples) do
		io.write("BENCH_UNEXPECTED ", (string.gsub(s, "\n", " ")), "\n")
	end
end
