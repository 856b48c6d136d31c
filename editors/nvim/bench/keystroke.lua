-- Keystroke cost of the plugin (a benchmark script, not a test).
--
--   nvim --clean --headless -l editors/nvim/bench/keystroke.lua [URL] [KEYSTROKES] [LINES]
--
-- Types KEYSTROKES characters (default 500, 20 ms apart) into a LINES-line (default 2000) Python
-- file, one buffer change each, with the plugin set up against URL (default http://127.0.0.1:8000;
-- an unreachable URL still measures the editor side). Prints p50 / p99 / max in microseconds of:
--   handler   the plugin's synchronous work per keystroke (on_bytes: shadow, history, listeners)
--   request   main-loop time to build and send one request (when the 300 ms throttle fires)
--   change    the whole buffer change with the plugin attached ...
--   baseline  ... and the same change in an untracked buffer
local here = debug.getinfo(1, "S").source:sub(2)
vim.opt.rtp:prepend(vim.fs.dirname(vim.fs.dirname(vim.fs.normalize(vim.fn.fnamemodify(here, ":p")))))
local url = _G.arg[1] or "http://127.0.0.1:8000"
local n = tonumber(_G.arg[2]) or 500
local nlines = tonumber(_G.arg[3]) or 2000

local uv = vim.uv or vim.loop
local dir = vim.fn.tempname()
vim.fn.mkdir(dir, "p")
vim.cmd.cd(dir)

local lines = {}
for i = 1, nlines do
  lines[i] = ("    value_%d = compute(quantity_%d, price) + offset  # line %d"):format(i, i % 7, i)
end
vim.fn.writefile(lines, "tracked.py")
vim.fn.writefile(lines, "untracked.txt")

local ne = require("nextedit")
ne.setup({ url = url, disabled_globs = { "*.txt" }, reject_debounce_ms = 600000, settled_quiescence_ms = 600000 })

local function type_into(path)
  vim.cmd.edit(path)
  local buf = vim.api.nvim_get_current_buf()
  local row = math.floor(nlines / 2)
  local times = {}
  for k = 1, n do
    local col = #vim.api.nvim_buf_get_lines(buf, row, row + 1, false)[1]
    vim.api.nvim_win_set_cursor(0, { row + 1, col })
    local t0 = uv.hrtime()
    vim.api.nvim_buf_set_text(buf, row, col, row, col, { string.char(97 + k % 26) })
    times[k] = uv.hrtime() - t0
    vim.wait(20) -- lets timers, requests and answers run between keystrokes
  end
  return times
end

local function summary(name, ns)
  local xs = vim.deepcopy(ns)
  table.sort(xs)
  if #xs == 0 then
    print(("%-9s (no samples)"):format(name))
    return
  end
  local function q(p)
    return xs[math.max(1, math.ceil(p * #xs))] / 1000
  end
  print(("%-9s n=%-5d p50 %8.1f µs   p99 %8.1f µs   max %8.1f µs"):format(name, #xs, q(0.5), q(0.99), xs[#xs] / 1000))
end

local baseline = type_into("untracked.txt")
local change = type_into("tracked.py")
local status = ne.status()
print(("nextedit keystroke benchmark: %d keystrokes, %d-line file, %s (%s)"):format(n, nlines, url, vim.version and tostring(vim.version()) or ""))
summary("handler", ne.handler_durations())
summary("request", require("nextedit.predictor").build_ns)
summary("change", change)
summary("baseline", baseline)
print(("requests %d, answers %d, errors %d"):format(status.counts.requests, status.counts.responses, status.counts.errors))
vim.cmd("qa!")
