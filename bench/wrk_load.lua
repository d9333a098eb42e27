-- wrk's script for bench/loadgen.py: the requests come ready-made from a file.
--
--   wrk -t1 -c32 -d60s -s bench/wrk_load.lua http://127.0.0.1:PORT -- FILE MODE
--
-- FILE holds raw HTTP/1.1 requests separated by NUL bytes. MODE:
--   cycle: send them round and round until wrk's duration is over (reads);
--   once:  send each exactly once, then end the run as soon as the last one is answered
--          (writes: every request sent is answered and counted, so the database's counts
--          can be checked against the answers).
-- At the end it prints one JSON line: requests, duration, latency percentiles, and the
-- answers by status (with the problem's code for a 4xx/5xx).

local ffi = require("ffi")
ffi.cdef("int getpid(void); long syscall(long number, ...);")
local SYS_TGKILL, SIGINT = 234, 2 -- x86_64

local items, count, mode = {}, 0, "cycle"
local verified = false
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(args[1], "rb"))
  local data = file:read("*a")
  file:close()
  for request in string.gmatch(data, "([^%z]+)") do
    count = count + 1
    items[count] = request
  end
  mode = args[2] or "cycle"
  sent, answered, outcomes = 0, 0, {}
end

function request()
  -- wrk asks once, before the run, for a request to check: not one to send.
  if not verified then
    verified = true
    return items[1]
  end
  sent = sent + 1
  if mode == "once" and sent > count then
    -- Nothing left to send: an empty write leaves the connection idle until the end.
    return ""
  end
  return items[((sent - 1) % count) + 1]
end

function response(status, headers, body)
  answered = answered + 1
  local key = tostring(status)
  if status >= 400 then
    key = key .. " " .. (string.match(body, '"code"%s*:%s*"([%w_]+)"') or "?")
  end
  outcomes[key] = (outcomes[key] or 0) + 1
  if mode == "once" and answered >= count then
    -- The thread stops, and wrk's main thread (sleeping out the duration) is woken the
    -- way Ctrl-C would: the run's duration ends with its last answer.
    wrk.thread:stop()
    local pid = ffi.C.getpid()
    ffi.C.syscall(SYS_TGKILL, ffi.cast("long", pid), ffi.cast("long", pid), ffi.cast("long", SIGINT))
  end
end

function done(summary, latency, requests)
  local parts = {}
  for _, thread in ipairs(threads) do
    for key, n in pairs(thread:get("outcomes")) do
      table.insert(parts, string.format('"%s":%d', key, n))
    end
  end
  local errors = summary.errors
  io.write(string.format(
    '\n{"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,'
      .. '"max_us":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,'
      .. '"timeouts":%d,"outcomes":{%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, errors.connect, errors.read, errors.write,
    errors.timeout, table.concat(parts, ",")
  ))
end
