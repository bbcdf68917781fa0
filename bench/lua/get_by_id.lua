-- GET <prefix><random id>; args: id file, path prefix (".../productOffering/")
local ids, prefix = {}, ""

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then ids[#ids + 1] = line end
  end
  prefix = args[2]
  math.randomseed(os.time())
end

function request()
  return wrk.format("GET", prefix .. ids[math.random(#ids)])
end
