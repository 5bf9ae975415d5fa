-- wrk script: the realistic SetStatusFromAPI mix.
--
-- Each wrk thread owns a slice of the agents (BENCH_FIRST .. BENCH_FIRST + BENCH_AGENTS - 1,
-- split between BENCH_THREADS threads). wrk's request() does not say which connection it
-- is for, so a thread's requests go round-robin over its slice: agent a's next request is
-- a whole slice (thousands of requests) after its previous one, far more than the
-- connections in flight, so an agent never has two requests outstanding in practice.
-- Each agent walks its shift at its own extension (agent i at sip<USER_BASE+i>):
--   Login(1) -> Lunch break(3) -> Login(1) -> Training(11) -> Login(1) -> Logout(2) -> ...
-- starting at a step that depends on the agent (so every status is in the mix at every
-- moment), alternating GET and POST-JSON. Every answer must be the OK object.
--
-- BENCH_K0 continues the walk where the previous run on the same server stopped.
-- BENCH_CHECK=0 leaves response() undefined (wrk is faster without it; non-OK answers are
-- then only the non-2xx ones).
-- done() prints one line "BENCH_JSON {...}": counts, latency percentiles (microseconds)
-- and 1000 quantiles (0.1 % .. 100 %) so that the runs of two wrk processes can be merged.

local code = os.getenv("BENCH_CODE")
local first = tonumber(os.getenv("BENCH_FIRST") or "1")
local count = tonumber(os.getenv("BENCH_AGENTS") or "10000")
local base = tonumber(os.getenv("BENCH_USER_BASE") or "100000")
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
local k0 = tonumber(os.getenv("BENCH_K0") or "0")
local path = "/UserLogin/SetStatusFromAPI"
local shift = {1, 3, 1, 11, 1, 2}
local json_headers = {["Content-Type"] = "application/json"}
local ok_marker = '"StatusErroMessage":"OK"'

local threads = {}
local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("id", counter)
   table.insert(threads, thread)
end

local lo, n, k

function init(args)
   local per = math.floor(count / nthreads)
   lo = first + (id - 1) * per
   n = per
   k = k0
   nonok = 0
   bad = ""
end

function request()
   local a = lo + (k % n)
   local step = (math.floor(k / n) + a) % 6
   k = k + 1
   local user = base + a
   local status = shift[step + 1]
   if step % 2 == 0 then
      return wrk.format("GET", path .. "?Code=" .. code .. "&UserId=" .. user
         .. "&ExtensionUser=sip" .. user .. "&Status=" .. status)
   end
   return wrk.format("POST", path, json_headers, string.format(
      '{"Code":"%s","UserId":"%d","ExtensionUser":"sip%d","Status":%d}',
      code, user, user, status))
end

function response(status, headers, body)
   if status ~= 200 or not string.find(body, ok_marker, 1, true) then
      nonok = nonok + 1
      if bad == "" then
         bad = status .. " " .. body
      end
   end
end

if os.getenv("BENCH_CHECK") == "0" then
   response = nil
end

local function json_string(s)
   s = string.gsub(s, '[%c"\\]', function(c)
      return string.format("\\u%04x", string.byte(c))
   end)
   return '"' .. s .. '"'
end

function done(summary, latency, requests)
   local non_ok, first_bad = 0, ""
   for _, t in ipairs(threads) do
      non_ok = non_ok + (tonumber(t:get("nonok")) or 0)
      local b = t:get("bad")
      if first_bad == "" and b then
         first_bad = b
      end
   end
   local e = summary.errors
   local q = {}
   for i = 1, 1000 do
      q[i] = string.format("%d", latency:percentile(i / 10))
   end
   io.write(string.format(
      'BENCH_JSON {"requests":%d,"duration_us":%d,"non_ok":%d,"checked":%s,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,"mean_us":%.1f,'
      .. '"first_bad":%s,"quantiles_us":[%s]}\n',
      summary.requests, summary.duration, non_ok,
      os.getenv("BENCH_CHECK") == "0" and "false" or "true",
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.max, latency.mean,
      json_string(first_bad), table.concat(q, ",")))
end
