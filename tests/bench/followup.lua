-- wrk script: POST /api/v1/followup with the token in BENCH_TOKEN, the
-- reporter's view of one case (status and the caseworkers' messages, which
-- the server opens with the reporter key derived from the token).
--
--   BENCH_TOKEN=XXXX-... wrk -t2 -c64 -d10s -s tests/bench/followup.lua \
--       http://127.0.0.1:PORT/api/v1/followup
--
-- Answers other than 200 are counted and shown (count.lua).

local here = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
expect = 200
dofile(here .. "count.lua")

local token = os.getenv("BENCH_TOKEN")
if not token or token == "" then
	error("followup.lua needs BENCH_TOKEN, a follow-up token")
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"token":"' .. token .. '"}'
