-- wrk script: GET /v1/publications/{slug} as browsers of many readers
-- would send it: a browser User-Agent with a per-request number, so that
-- each request is a new reader and reader counting does its whole work
-- (robots check, reader hash, double-click table, pending counts).
--   wrk -t2 -c16 -d10s --latency -s bench/stats.lua http://127.0.0.1:PORT -- slugs.txt

local paths = {}
local i = 0
local n = 0
local agent = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0 reader/"

function init(args)
  local file = args[1] or error("usage: wrk ... -s stats.lua URL -- SLUGS_FILE")
  local handle = assert(io.open(file, "r"))
  for line in handle:lines() do
    if #line > 0 then
      paths[#paths + 1] = "/v1/publications/" .. line
    end
  end
  handle:close()
  if #paths == 0 then error("no slugs in " .. file) end
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
  i = math.random(#paths) - 1
  n = math.random(1000000000)
end

function request()
  i = i + 1
  if i > #paths then i = 1 end
  n = n + 1
  return wrk.format("GET", paths[i], { ["User-Agent"] = agent .. n })
end
