-- PATCH <prefix><random id> with a JSON merge patch of description; args: id file, path prefix
local ids, prefix, n = {}, "", 0
wrk.headers["Content-Type"] = "application/merge-patch+json"

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then ids[#ids + 1] = line end
  end
  prefix = args[2]
  math.randomseed(os.time())
end

function request()
  n = n + 1
  local body = '{"description":"Repriced offer, revision ' .. n .. ': same speed, new promotional terms."}'
  return wrk.format("PATCH", prefix .. ids[math.random(#ids)], nil, body)
end
