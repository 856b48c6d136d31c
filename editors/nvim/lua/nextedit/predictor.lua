--- The prediction lifecycle per buffer (zeta.md §1.8): throttled requests, the current prediction,
--- its interpolation through the user's typing, replacement, accept and dismiss.
---
--- * An edit schedules a request `throttle_ms` after the last one sent for the buffer (at once when
---   none was sent lately); the request is built when the timer fires, from the buffer as it is then.
--- * Sending marks every older in-flight request of the buffer canceled (its answer is reported as
---   `Canceled`, never shown); beyond `max_in_flight` the oldest is aborted outright.
--- * An answer is carried through the edits made since it was asked (`edits.interpolate`); then the
---   §1.8 replacement rule decides between it and the current prediction (`Replaced` /
---   `CurrentPreferred`).
--- * Typing along with the current prediction shrinks it and sends no request; any other overlapping
---   edit drops it (`Discarded`, or `InterpolatedEmpty` when the typing consumed it).
local display = require("nextedit.display")
local edits = require("nextedit.edits")
local http = require("nextedit.http")
local log = require("nextedit.log")
local reports = require("nextedit.reports")
local request = require("nextedit.request")
local tracker = require("nextedit.tracker")

local api, uv = vim.api, vim.uv or vim.loop

local M = {
  bufs = {}, -- buf → {timer, last_sent_ms, inflight = {req}, current = prediction | nil}
  counts = { requests = 0, responses = 0, errors = 0, shown = 0, accepted = 0 },
  build_ns = {}, -- main-loop time (ns) spent building and sending each request, the last 1000
  last_error = nil,
}

local cfg, headers
local seq = 0

local function now_ms()
  return uv.hrtime() / 1e6
end

function M.setup(config, request_headers)
  cfg, headers = config, request_headers
end

local function state(buf)
  local b = M.bufs[buf]
  if b == nil then
    b = { last_sent_ms = -math.huge, inflight = {} }
    M.bufs[buf] = b
  end
  return b
end

-- a point of the buffer moved by the edit [ub, ue) → `len` bytes
local function shift(p, ub, ue, len)
  if p >= ue then
    return p + len - (ue - ub)
  elseif p > ub then
    return ub + len
  end
  return p
end

-- ------------------------------------------------------------------ display
local function window_of(buf)
  if api.nvim_get_current_buf() == buf then
    return api.nvim_get_current_win()
  end
  return nil
end

--- Redraw the current prediction of `buf` (or clear it when there is none / the buffer is not in
--- the current window). The first full display marks it shown (`was_shown`).
function M.redraw(buf)
  local b = M.bufs[buf]
  if b then
    b.redraw_pending = false
  end
  if not api.nvim_buf_is_valid(buf) then
    return
  end
  local p = b and b.current
  local win = window_of(buf)
  if p == nil or win == nil then
    display.clear(buf)
    return
  end
  local cursor_row = api.nvim_win_get_cursor(win)[1] - 1
  local nearest = display.nearest_row(buf, p.edits, cursor_row)
  if nearest and math.abs(nearest - cursor_row) > cfg.jump_hint_rows and not p.jumped then
    p.jump_row = nearest
    display.show(buf, p.edits, cursor_row, nearest)
  else
    p.jump_row = nil
    display.show(buf, p.edits, cursor_row, nil)
    if not p.shown then
      p.shown = true
      M.counts.shown = M.counts.shown + 1
    end
  end
end

local function redraw_soon(buf)
  local b = state(buf)
  if not b.redraw_pending then
    b.redraw_pending = true
    vim.schedule(function()
      M.redraw(buf)
    end)
  end
end

local function drop_current(buf, reason)
  local b = M.bufs[buf]
  local p = b and b.current
  if p then
    b.current = nil
    reports.reject(p, reason, p.shown)
    redraw_soon(buf)
  end
end

-- ------------------------------------------------------------------ requests
local function finish(req)
  local b = state(req.buf)
  for k, r in ipairs(b.inflight) do
    if r == req then
      table.remove(b.inflight, k)
      break
    end
  end
end

local function on_response(req, err, resp)
  finish(req)
  if err or type(resp) ~= "table" then
    M.counts.errors = M.counts.errors + 1
    M.last_error = err or "unreadable answer"
    log.add("request %d: %s", req.id, M.last_error)
    return
  end
  M.counts.responses = M.counts.responses + 1
  local p = {
    buf = req.buf,
    request_id = resp.request_id,
    model_version = resp.model_version,
    e2e_latency_ms = (uv.hrtime() - req.t0) / 1e6,
  }
  log.add("response %s (%.1f ms)%s", tostring(p.request_id), p.e2e_latency_ms, req.canceled and " canceled" or "")
  if req.canceled or not api.nvim_buf_is_valid(req.buf) or not tracker.states[req.buf] then
    reports.reject(p, "Canceled", false)
    return
  end
  local range = resp.editable_range or {}
  local s, e = tonumber(range.start) or 0, tonumber(range["end"]) or 0
  local output = type(resp.output) == "string" and resp.output or ""
  local excerpt = req.meta.excerpt
  if (output == "" and s == 0 and e == 0) or s < 0 or e < s or e > #excerpt then
    reports.reject(p, "Empty", false)
    return
  end
  local old = excerpt:sub(s + 1, e)
  local padded_old, padded_new = old, output
  if padded_new ~= "" and padded_new:sub(-1) ~= "\n" then
    padded_new = padded_new .. "\n"
  end
  if padded_old ~= "" and padded_old:sub(-1) ~= "\n" then
    padded_old = padded_old .. "\n"
  end
  local base = req.meta.excerpt_start + s
  local predicted = edits.compute(padded_old, padded_new, base)
  if #predicted == 0 then
    reports.reject(p, "Empty", false)
    return
  end
  local region_start, region_end = base, base + #old
  local cur = predicted
  for _, u in ipairs(req.log) do
    if cur then
      cur = edits.interpolate(cur, u[1], u[2], u[3])
    end
    region_start = shift(region_start, u[1], u[2], #u[3])
    region_end = shift(region_end, u[1], u[2], #u[3])
  end
  p.region_start = region_start
  p.cursor_in_region = tonumber(resp.cursor_offset)
  reports.capture({
    buf = req.buf,
    request_id = p.request_id,
    model_version = p.model_version,
    e2e_latency_ms = p.e2e_latency_ms,
    region_before = old,
    region_predicted = output,
    region_start = region_start,
    region_end = region_end,
  })
  if cur == nil then
    reports.reject(p, "InterpolatedEmpty", false)
    return
  end
  local b = state(req.buf)
  if b.current then
    if edits.should_replace(b.current.edits, cur) then
      reports.reject(b.current, "Replaced", b.current.shown)
      b.current = nil
    else
      reports.reject(p, "CurrentPreferred", false)
      return
    end
  end
  p.edits = cur
  p.shown = false
  b.current = p
  M.redraw(req.buf)
end

--- Send a request for `buf` now (from the cursor of the current window showing it).
function M.send(buf)
  local st = tracker.states[buf]
  local win = window_of(buf)
  if st == nil or win == nil then
    return
  end
  local b = state(buf)
  local t0 = uv.hrtime()
  local cursor = api.nvim_win_get_cursor(win)
  local body, meta = request.build(st, cursor[1] - 1, cursor[2], cfg)
  seq = seq + 1
  local req = { id = seq, buf = buf, t0 = t0, meta = meta, log = {} }
  for _, old in ipairs(b.inflight) do
    old.canceled = true
  end
  while #b.inflight >= cfg.max_in_flight do
    local oldest = table.remove(b.inflight, 1)
    oldest.handle.abort()
    log.add("request %d aborted (more than %d in flight)", oldest.id, cfg.max_in_flight)
  end
  b.inflight[#b.inflight + 1] = req
  b.last_sent_ms = now_ms()
  M.counts.requests = M.counts.requests + 1
  req.handle = http.post(cfg.url .. "/predict_edits/v3", body,
    { timeout_ms = cfg.request_timeout_ms, headers = headers }, function(err, _, resp)
      on_response(req, err, resp)
    end)
  M.build_ns[(M.counts.requests - 1) % 1000 + 1] = uv.hrtime() - t0
end

--- Request a prediction for `buf` within the throttle (§1.8); cheap, safe inside on_lines.
function M.schedule(buf)
  local b = state(buf)
  if b.timer_pending then
    return
  end
  b.timer_pending = true
  b.timer = b.timer or uv.new_timer()
  local delay = math.max(0, math.ceil(b.last_sent_ms + cfg.throttle_ms - now_ms()))
  b.timer:start(delay, 0, vim.schedule_wrap(function()
    b.timer_pending = false
    if cfg.enabled then
      M.send(buf)
    end
  end))
end

--- Tracker listener: log the edit for in-flight requests, carry the current prediction through it,
--- and schedule a request unless the user is typing along with the prediction.
function M.on_edit(st, edit)
  local b = M.bufs[st.buf]
  if b == nil then
    b = state(st.buf)
  end
  for _, req in ipairs(b.inflight) do
    req.log[#req.log + 1] = { edit.start, edit.old_end, edit.typed }
  end
  local along = false
  local p = b.current
  if p then
    local moved, consumed = edits.interpolate(p.edits, edit.start, edit.old_end, edit.typed)
    p.region_start = shift(p.region_start, edit.start, edit.old_end, #edit.typed)
    if moved then
      p.edits = moved
      along = consumed
    else
      b.current = nil
      if consumed and st.predicting then
        M.counts.accepted = M.counts.accepted + 1
        reports.accept(p) -- the last piece of a partial accept
      else
        reports.reject(p, consumed and "InterpolatedEmpty" or "Discarded", p.shown)
      end
    end
    redraw_soon(st.buf)
  end
  if st.predicting or along then
    return
  end
  if cfg.enabled then
    M.schedule(st.buf)
  end
end

-- ------------------------------------------------------------------ keys
function M.has_prediction(buf)
  local b = M.bufs[buf]
  return b ~= nil and b.current ~= nil and window_of(buf) ~= nil
end

local function set_text(buf, s, e, text)
  local sr, sc = display.pos(buf, s)
  local er, ec = display.pos(buf, e)
  api.nvim_buf_set_text(buf, sr, sc, er, ec, vim.split(text, "\n", { plain = true }))
end

local function move_cursor(buf, offset)
  local win = window_of(buf)
  if win then
    local r, c = display.pos(buf, offset)
    api.nvim_win_set_cursor(win, { r + 1, c })
  end
end

--- Accept the whole prediction of `buf` (one undo step) and put the cursor where it predicts; a
--- jump hint first jumps to the edit. Returns false when nothing is shown.
function M.accept(buf)
  local b = M.bufs[buf]
  local p = b and b.current
  local st = tracker.states[buf]
  if p == nil or st == nil then
    return false
  end
  if p.jump_row then
    p.jumped = true
    api.nvim_win_set_cursor(0, { p.jump_row + 1, 0 })
    M.redraw(buf)
    return true
  end
  b.current = nil
  display.clear(buf)
  local delta_before_last = 0
  for k = 1, #p.edits - 1 do
    delta_before_last = delta_before_last + #p.edits[k].text - (p.edits[k].e - p.edits[k].s)
  end
  st.predicting = true
  local ok, err = pcall(function()
    for k = #p.edits, 1, -1 do
      local m = p.edits[k]
      set_text(buf, m.s, m.e, m.text)
    end
  end)
  st.predicting = false
  if not ok then
    log.add("accept failed: %s", tostring(err))
    return true
  end
  local last = p.edits[#p.edits]
  local target = last.s + #last.text + delta_before_last
  if p.cursor_in_region and p.region_start then
    target = p.region_start + p.cursor_in_region
  end
  move_cursor(buf, target)
  M.counts.accepted = M.counts.accepted + 1
  reports.accept(p)
  log.add("accepted %s (%d edits)", tostring(p.request_id), #p.edits)
  M.schedule(buf)
  return true
end

--- Accept the next word (`unit = "word"`) or line (`"line"`) of the edit nearest after the cursor.
function M.accept_part(buf, unit)
  local b = M.bufs[buf]
  local p = b and b.current
  local st = tracker.states[buf]
  if p == nil or st == nil or p.jump_row then
    return M.accept(buf)
  end
  local cursor = api.nvim_win_get_cursor(0)
  local at = api.nvim_buf_get_offset(buf, cursor[1] - 1) + cursor[2]
  local m = p.edits[#p.edits]
  for _, cand in ipairs(p.edits) do
    if cand.e >= at then
      m = cand
      break
    end
  end
  local piece
  if unit == "line" then
    piece = m.text:match("^[^\n]*\n") or m.text
  else
    piece = m.text:match("^%s*[%w_\128-\255]+") or m.text:match("^%s*[^%w_%s\128-\255]+") or m.text
  end
  local s = m.s
  st.predicting = true
  pcall(set_text, buf, m.s, m.e, piece)
  st.predicting = false
  move_cursor(buf, s + #piece)
  return true
end

--- Dismiss the prediction of `buf` (`Discarded`, `was_shown` as displayed). False when none.
function M.dismiss(buf)
  if not M.has_prediction(buf) then
    return false
  end
  drop_current(buf, "Discarded")
  display.clear(buf)
  return true
end

--- Forget `buf` (wiped or tracking stopped): its prediction is discarded, in-flight answers ignored.
function M.forget(buf)
  local b = M.bufs[buf]
  if b then
    drop_current(buf, "Discarded")
    for _, req in ipairs(b.inflight) do
      req.canceled = true
    end
    if b.timer then
      b.timer:stop()
      b.timer_pending = false
    end
  end
end

return M
