-- GET <path>&offset=<random page * limit>; args: path with query, page size, page count
local path, limit, pages = "", 20, 100

function init(args)
  path, limit, pages = args[1], tonumber(args[2]), tonumber(args[3])
  math.randomseed(os.time())
end

function request()
  return wrk.format("GET", path .. "&offset=" .. (math.random(pages) - 1) * limit)
end
