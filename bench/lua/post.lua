-- POST a realistic ProductOffering create body (~1.5 KB) with a distinct name each time; args: path, body file
local path, head, tail, n = "", "", "", 0
wrk.headers["Content-Type"] = "application/json"

function init(args)
  path = args[1]
  local f = assert(io.open(args[2], "r"))
  local body = f:read("*a")
  f:close()
  -- the body holds the marker NAME_MARKER where the per-request name goes
  local at = assert(string.find(body, "NAME_MARKER", 1, true))
  head, tail = string.sub(body, 1, at - 1), string.sub(body, at + #"NAME_MARKER")
  math.randomseed(os.time())
  n = math.random(1, 1000000000)
end

function request()
  n = n + 1
  return wrk.format("POST", path, nil, head .. "Bench offering " .. n .. tail)
end
