-- wrk script: GET /v1/publications/{slug} as many readers would send it,
-- each request a new reader, so that counting does its whole work (reader
-- hash, double-click table, pending counts). The second argument says how
-- readers differ: `addresses` (default: one browser User-Agent, a new
-- client address in X-Forwarded-For each time, as behind a CDN, for a
-- server started with ARKIV_TRUST_PROXY=1) or `agents` (a new User-Agent
-- each time: the robots list is matched afresh on every request, the worst
-- case).
--   wrk -t2 -c16 -d10s --latency -s bench/stats.lua http://127.0.0.1:PORT -- slugs.txt addresses

local paths = {}
local i = 0
local n = 0
local agent = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
local by_agent = false

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
  by_agent = args[2] == "agents"
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
  i = math.random(#paths) - 1
  n = math.random(1000000)
end

function request()
  i = i + 1
  if i > #paths then i = 1 end
  n = n + 1
  if by_agent then
    return wrk.format("GET", paths[i], { ["User-Agent"] = agent .. " reader/" .. n })
  end
  local address = string.format("10.%d.%d.%d", math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
  return wrk.format("GET", paths[i], { ["User-Agent"] = agent, ["X-Forwarded-For"] = address })
end
