--- Buffer tracking: which buffers take part, and every edit made to them (`nvim_buf_attach` on_bytes).
---
--- A tracked buffer keeps a shadow copy of its lines (the text before each edit, which on_bytes
--- does not give) so that edit-history events can be diffed. Each edit is handed, synchronously and
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
  handler_ns = {}, -- durations (ns) of the on_bytes handler, a ring of the last 10000
}

local HANDLER_SAMPLES = 10000
local handler_next = 1

local function glob_matches(glob, rel, abs)
  local ok, pattern = pcall(vim.glob.to_lpeg, glob)
  if not ok then
    return false
  end
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

local function extract(rows, sc, ner, nec)
  if ner == 0 then
    return (rows[1] or ""):sub(sc + 1, sc + nec)
  end
  local parts = { (rows[1] or ""):sub(sc + 1) }
  for r = 2, ner do
    parts[#parts + 1] = rows[r] or ""
  end
  parts[#parts + 1] = (rows[ner + 1] or ""):sub(1, nec)
  return table.concat(parts, "\n")
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

local function on_bytes(st, buf, sr, sc, off, oer, oeb, ner, nec, neb)
  local t0 = uv.hrtime()
  if M.states[buf] ~= st then
    return true -- detached (or re-attached with a new state): stop this callback
  end
  local nlines = api.nvim_buf_line_count(buf)
  local rows = api.nvim_buf_get_lines(buf, sr, math.min(sr + ner, nlines - 1) + 1, false)
  local edit = {
    start = off,
    old_end = off + oeb,
    new_end = off + neb,
    typed = extract(rows, sc, ner, nec),
    row = sr,
    last_row = sr + ner,
    predicted = st.predicting,
    now_ms = t0 / 1e6,
  }
  history.record(st, edit)
  splice(st.shadow, sr + 1, math.min(sr + oer, #st.shadow - 1) + 1, rows)
  if #st.shadow ~= nlines then
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
    on_bytes = function(_, b, _, sr, sc, off, oer, _, oeb, ner, nec, neb)
      return on_bytes(st, b, sr, sc, off, oer, oeb, ner, nec, neb)
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
