-- wrk script: GET /v1/publications/{id-or-slug}, rotating over a list of
-- published publications (one "id-or-slug" a line), given as the first
-- argument after `--`:
--   wrk -t2 -c8 -d15s --latency -s bench/detail.lua http://127.0.0.1:PORT -- keys.txt
-- Each thread starts at its own offset in the list and walks it in order,
-- so every key is requested about as often as any other.

local keys = {}
local i = 0

function init(args)
  local file = args[1] or error("usage: wrk ... -s detail.lua URL -- KEYS_FILE")
  local handle = assert(io.open(file, "r"))
  for line in handle:lines() do
    if #line > 0 then
      keys[#keys + 1] = wrk.format("GET", "/v1/publications/" .. line)
    end
  end
  handle:close()
  if #keys == 0 then error("no keys in " .. file) end
  -- a different starting point for each thread
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
  i = math.random(#keys) - 1
end

function request()
  i = i + 1
  if i > #keys then i = 1 end
  return keys[i]
end
