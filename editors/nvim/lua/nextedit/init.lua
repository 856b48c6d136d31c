--- nextedit for Neovim: next-edit predictions from a `nextedit serve` server, with the reports
--- (accept / reject / settled) that its monitoring needs. `require("nextedit").setup({...})`;
--- options in `nextedit.config`, design in editors/nvim/README.md.
local config = require("nextedit.config")
local display = require("nextedit.display")
local log = require("nextedit.log")
local predictor = require("nextedit.predictor")
local reports = require("nextedit.reports")
local tracker = require("nextedit.tracker")

local api = vim.api

local M = {}

local cfg
local group

local function attach(buf)
  if cfg and cfg.enabled and api.nvim_buf_is_loaded(buf) then
    tracker.attach(buf, cfg)
  end
end

--- Request headers: the bearer token from the environment variable named by `api_key_env`, if set.
local function auth_headers(env_name)
  local key = os.getenv(env_name)
  if key == nil or key == "" then
    return {}
  end
  return { Authorization = "Bearer " .. key }
end

-- An expr mapping: `<Cmd>` running predictor.<call> when a prediction is shown (between `around`
-- keys, followed by `after`), else the key's own action `fallback`.
local function when_shown(call, fallback, around, after)
  return function()
    local buf = api.nvim_get_current_buf()
    if predictor.has_prediction(buf) then
      local cmd = ("<Cmd>lua require('nextedit.predictor').%s<CR>"):format(call:format(buf))
      return around .. cmd .. around .. after
    end
    return fallback
  end
end

local function map_keys(keys)
  local function map(modes, key, call, around, after, desc)
    if key then
      vim.keymap.set(modes, key, when_shown(call, key, around, after),
        { expr = true, silent = true, replace_keycodes = true, desc = "nextedit: " .. desc })
    end
  end
  -- in insert mode <C-g>u around the edits makes an accept its own undo step
  map("i", keys.accept, "accept(%d)", "<C-g>u", "", "accept prediction")
  map("n", keys.accept, "accept(%d)", "", "", "accept prediction")
  map("i", keys.accept_word, "accept_part(%d, 'word')", "<C-g>u", "", "accept next word")
  map("i", keys.accept_line, "accept_part(%d, 'line')", "<C-g>u", "", "accept next line")
  local dismiss = type(keys.dismiss) == "string" and { keys.dismiss } or (keys.dismiss or {})
  for _, key in ipairs(dismiss) do
    -- <Esc> dismisses and still does what <Esc> does; other keys only dismiss when something is shown
    map({ "i", "n" }, key, "dismiss(%d)", "", key:lower() == "<esc>" and key or "", "dismiss prediction")
  end
end

--- Configure and start. Calling it again replaces the configuration.
function M.setup(opts)
  cfg = config.resolve(opts)
  cfg.enabled = true
  log.max = cfg.log_max_lines
  local headers = auth_headers(cfg.api_key_env)
  predictor.setup(cfg, headers)
  reports.setup(cfg, headers)
  tracker.listeners = { predictor.on_edit, reports.on_edit }
  display.define_highlights()
  map_keys(cfg.keys)
  require("nextedit.command").create()
  group = api.nvim_create_augroup("nextedit", { clear = true })
  api.nvim_create_autocmd({ "BufReadPost", "BufNewFile", "BufEnter", "FileType", "BufFilePost" }, {
    group = group,
    callback = function(ev)
      attach(ev.buf)
      predictor.redraw(ev.buf)
    end,
  })
  api.nvim_create_autocmd("BufLeave", {
    group = group,
    callback = function(ev)
      display.clear(ev.buf)
    end,
  })
  api.nvim_create_autocmd({ "CursorMoved", "CursorMovedI" }, {
    group = group,
    callback = function(ev)
      if predictor.bufs[ev.buf] and predictor.bufs[ev.buf].current then
        predictor.redraw(ev.buf)
      end
    end,
  })
  api.nvim_create_autocmd({ "BufWipeout", "BufDelete" }, {
    group = group,
    callback = function(ev)
      predictor.forget(ev.buf)
      tracker.detach(ev.buf)
    end,
  })
  api.nvim_create_autocmd("ColorScheme", { group = group, callback = display.define_highlights })
  api.nvim_create_autocmd("VimLeavePre", { group = group, callback = reports.flush_at_exit })
  for _, buf in ipairs(api.nvim_list_bufs()) do
    attach(buf)
  end
  log.add("setup: %s", cfg.url)
end

function M.enable()
  assert(cfg, "nextedit: call require('nextedit').setup() first")
  cfg.enabled = true
  for _, buf in ipairs(api.nvim_list_bufs()) do
    attach(buf)
  end
end

function M.disable()
  assert(cfg, "nextedit: call require('nextedit').setup() first")
  cfg.enabled = false
  for buf in pairs(tracker.states) do
    predictor.forget(buf)
    tracker.detach(buf)
    display.clear(buf)
  end
end

--- A snapshot of the plugin's state (for `:NextEdit status` and tests).
function M.status()
  local buf = api.nvim_get_current_buf()
  local b = predictor.bufs[buf]
  local p = b and b.current
  local _, why = tracker.eligible(buf, cfg or config.defaults)
  return {
    enabled = cfg ~= nil and cfg.enabled,
    url = cfg and cfg.url,
    tracked = tracker.states[buf] ~= nil,
    not_tracked_because = tracker.states[buf] == nil and why or nil,
    counts = vim.deepcopy(predictor.counts),
    in_flight = b and #b.inflight or 0,
    request_scheduled = b ~= nil and b.timer_pending == true,
    prediction = p and {
      request_id = p.request_id, edits = p.edits, shown = p.shown, jump_row = p.jump_row,
    } or nil,
    queued_rejections = #reports.rejections,
    pending_settled = #reports.captures,
    sent = vim.deepcopy(reports.sent),
    last_settled = reports.last_settled,
    last_error = predictor.last_error,
  }
end

--- Handler durations of the last edits (ns), for the keystroke benchmark.
function M.handler_durations()
  local out = {}
  for k, v in ipairs(tracker.handler_ns) do
    out[k] = v
  end
  return out
end

--- `:NextEdit status|enable|disable|log`
function M.command(args)
  local sub = vim.trim(args or "")
  if sub == "" or sub == "status" then
    local s = M.status()
    local lines = {
      ("nextedit %s — %s"):format(s.enabled and "enabled" or "disabled", tostring(s.url)),
      ("this buffer: %s"):format(s.tracked and "tracked" or ("not tracked (" .. tostring(s.not_tracked_because) .. ")")),
      ("requests %d, answers %d, errors %d, shown %d, accepted %d; in flight %d"):format(
        s.counts.requests, s.counts.responses, s.counts.errors, s.counts.shown, s.counts.accepted, s.in_flight),
      ("reports sent: accept %d, reject %d, settled %d; queued rejections %d, pending settled %d"):format(
        s.sent.accept, s.sent.reject, s.sent.settled, s.queued_rejections, s.pending_settled),
    }
    if s.last_error then
      lines[#lines + 1] = "last error: " .. s.last_error
    end
    vim.api.nvim_echo({ { table.concat(lines, "\n") } }, false, {})
  elseif sub == "enable" then
    M.enable()
  elseif sub == "disable" then
    M.disable()
  elseif sub == "log" then
    vim.cmd("new")
    local buf = api.nvim_get_current_buf()
    vim.bo[buf].buftype = "nofile"
    vim.bo[buf].bufhidden = "wipe"
    api.nvim_buf_set_name(buf, "nextedit://log")
    api.nvim_buf_set_lines(buf, 0, -1, false, log.lines)
  else
    local known = table.concat(require("nextedit.command").SUBCOMMANDS, "|")
    vim.notify(("NextEdit: unknown subcommand %q (%s)"):format(sub, known), vim.log.levels.ERROR)
  end
end

return M
