--- Buffer tracking: which buffers take part, and every edit made to them (`nvim_buf_attach` on_lines).
---
--- A tracked buffer keeps a shadow copy of its lines (the text before each edit, which on_lines
--- does not give) so that edit-history events can be diffed, and each change is reduced to one byte
--- edit (the changed rows with their common prefix and suffix trimmed). Each edit is handed, synchronously and
--- in buffer order, to the listeners as `{start, old_end, new_end, typed, row, last_row, predicted,
--- now_ms}` (bytes are 0-based buffer offsets; `typed` is the inserted text). Listeners must be cheap
--- and must not change buffers or extmarks (defer with `vim.schedule`). A buffer whose path matches a
--- disabled glob is never tracked, so nothing of it is ever sent.
local history = require("nextedit.history")
local log = require("nextedit.log")

local api, uv = vim.api, vim.uv or vim.loop

local M = {
  states = {}, -- buf → state
  listeners = {}, -- function(state, edit)
  handler_ns = {}, -- durations (ns) of the on_lines handler, a ring of the last 10000
}

local HANDLER_SAMPLES = 10000
local handler_next = 1

local function glob_matches(glob, rel, abs)
  local pattern = vim.glob.to_lpeg(glob) -- checked by config.resolve
  if pattern:match(rel) or pattern:match(abs) then
    return true
  end
  return not glob:find("/", 1, true) and pattern:match(vim.fs.basename(abs)) ~= nil
end

--- The path sent for `buf` (relative to the working directory when inside it), or nil with the
--- reason when the buffer must not take part (no file, special buffer, filetype, disabled glob).
function M.eligible(buf, cfg)
  if not api.nvim_buf_is_valid(buf) or vim.bo[buf].buftype ~= "" then
    return nil, "not a file buffer"
  end
  local name = api.nvim_buf_get_name(buf)
  if name == "" then
    return nil, "no file name"
  end
  if #cfg.filetypes > 0 and not vim.tbl_contains(cfg.filetypes, vim.bo[buf].filetype) then
    return nil, "filetype " .. vim.bo[buf].filetype .. " not enabled"
  end
  local abs = vim.fs.normalize(vim.fn.fnamemodify(name, ":p"))
  local rel = vim.fn.fnamemodify(abs, ":.")
  for _, glob in ipairs(cfg.disabled_globs) do
    if glob_matches(glob, rel, abs) then
      return nil, "disabled by glob " .. glob
    end
  end
  return rel
end

local function splice(shadow, first, last, rows)
  -- replace shadow[first..last] (inclusive, last < first = none) with rows
  local removed = math.max(0, last - first + 1)
  local added = #rows
  if removed == added then
    for k = 1, added do
      shadow[first + k - 1] = rows[k]
    end
    return
  end
  local tail = {}
  for k = last + 1, #shadow do
    tail[#tail + 1] = shadow[k]
  end
  for k = #shadow, first, -1 do
    shadow[k] = nil
  end
  for k = 1, added do
    shadow[first + k - 1] = rows[k]
  end
  local base = first + added - 1
  for k = 1, #tail do
    shadow[base + k] = tail[k]
  end
end

local function resync(st, why)
  st.shadow = api.nvim_buf_get_lines(st.buf, 0, -1, false)
  st.event = nil
  log.add("buffer %d resynchronised (%s)", st.buf, why)
end

local function joined(rows)
  return #rows > 0 and table.concat(rows, "\n") .. "\n" or ""
end

-- The changed rows [first, old_last) became [first, new_last): read the new rows (the buffer is
-- complete when on_lines runs, unlike during on_bytes), take the old ones from the shadow, and
-- reduce the change to one byte edit (common prefix and suffix trimmed).
local function on_lines(st, buf, first, old_last, new_last)
  local t0 = uv.hrtime()
  if M.states[buf] ~= st then
    return true -- detached (or re-attached with a new state): stop this callback
  end
  local rows = api.nvim_buf_get_lines(buf, first, new_last, false)
  local old_rows = {}
  for r = first + 1, math.min(old_last, #st.shadow) do
    old_rows[#old_rows + 1] = st.shadow[r]
  end
  local old, new = joined(old_rows), joined(rows)
  local p, n_old, n_new = 0, #old, #new
  while p < n_old and p < n_new and old:byte(p + 1) == new:byte(p + 1) do
    p = p + 1
  end
  local q = 0
  while q < n_old - p and q < n_new - p and old:byte(n_old - q) == new:byte(n_new - q) do
    q = q + 1
  end
  local base = api.nvim_buf_get_offset(buf, first) -- rows before `first` did not change
  local edit = {
    start = base + p,
    old_end = base + n_old - q,
    new_end = base + n_new - q,
    typed = new:sub(p + 1, n_new - q),
    row = first,
    last_row = math.max(first, new_last - 1),
    predicted = st.predicting,
    now_ms = t0 / 1e6,
  }
  if p == n_old - q and p == n_new - q then
    return -- no byte changed (e.g. a line rewritten with the same text)
  end
  history.record(st, edit)
  splice(st.shadow, first + 1, old_last, rows)
  if #st.shadow == 0 then
    st.shadow[1] = "" -- an emptied buffer reports 0 rows but keeps one empty line
  end
  if #st.shadow ~= api.nvim_buf_line_count(buf) then
    resync(st, "line count")
  end
  for _, listener in ipairs(M.listeners) do
    listener(st, edit)
  end
  M.handler_ns[handler_next] = uv.hrtime() - t0
  handler_next = handler_next % HANDLER_SAMPLES + 1
end

--- Start tracking `buf` (no-op when tracked or not eligible); returns the state or nil, reason.
function M.attach(buf, cfg)
  if M.states[buf] then
    return M.states[buf]
  end
  local path, why = M.eligible(buf, cfg)
  if path == nil then
    return nil, why
  end
  local st = {
    buf = buf,
    path = path,
    shadow = api.nvim_buf_get_lines(buf, 0, -1, false),
    in_open_source_repo = cfg.in_open_source_repo,
    predicting = false, -- true while the plugin applies an accepted prediction
  }
  M.states[buf] = st
  api.nvim_buf_attach(buf, false, {
    on_lines = function(_, b, _, first, old_last, new_last)
      return on_lines(st, b, first, old_last, new_last)
    end,
    on_reload = function()
      if M.states[buf] then
        resync(M.states[buf], "reload")
      end
    end,
    on_detach = function()
      M.detach(buf)
    end,
  })
  log.add("tracking buffer %d (%s)", buf, path)
  return st
end

--- Stop tracking `buf`; its open event is finalized first.
function M.detach(buf)
  local st = M.states[buf]
  if st then
    history.finalize(st)
    M.states[buf] = nil
  end
end

return M
