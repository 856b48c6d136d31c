--- A bounded in-memory log (`:NextEdit log` shows it). Never writes to disk, never prints.
local M = { lines = {}, max = 500 }

function M.add(fmt, ...)
  local ok, msg = pcall(string.format, fmt, ...)
  M.lines[#M.lines + 1] = os.date("!%H:%M:%S ") .. (ok and msg or fmt)
  if #M.lines > M.max then
    table.remove(M.lines, 1)
  end
end

return M
