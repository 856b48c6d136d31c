--- Outcome reports to the server (zeta.md §1.5, §3.13, §6.2).
---
--- * `accept(p)`            → `POST /predict_edits/accept` at once.
--- * accept and settled posts that fail in transport or with a 5xx are sent again after 1, 5 and 15 s.
--- * `reject(p, reason, was_shown)` → queued; `POST /predict_edits/reject` in batches of ≤ 100 when
---   `reject_flush_count` are queued or `reject_debounce_ms` passed without a new one; a batch that
---   failed in transport or with a 5xx stays queued (a 4xx drops it).
--- * `capture(p)`           → a settled capture for every prediction with edits; once its editable
---   region saw no edit for `settled_quiescence_ms`, `POST /predict_edits/settled` (≤ 32 per body)
---   with the §5.3 kept-rate fields, the region itself only when `can_collect_data`. Dropped after
---   `settled_ttl_ms`, when the buffer goes away or the region grows beyond `settled_max_region_bytes`.
---
--- At most 64 captures are pending (the oldest is dropped), which bounds the per-keystroke check.
--- `p` is a prediction: `request_id`, `model_version`, `e2e_latency_ms`, and for captures `buf`,
--- `region_before`, `region_predicted`, `region_start`, `region_end` (buffer bytes, now).
local http = require("nextedit.http")
local kept_rate = require("nextedit.kept_rate")
local log = require("nextedit.log")
local syntax = require("nextedit.syntax")

local api, uv = vim.api, vim.uv or vim.loop

local M = {
  rejections = {}, -- queued rejection bodies
  captures = {}, -- pending settled captures
  sent = { accept = 0, reject = 0, settled = 0 }, -- items the server acknowledged
  last_settled = nil, -- the last settled item sent (for :NextEdit status and tests)
}

local REJECT_BATCH_MAX = 100
local CAPTURES_MAX = 64 -- pending settled captures kept (the oldest is dropped beyond it)
local SETTLED_BATCH_MAX = 32
local cfg, headers
local reject_timer, settled_timer

local function now_ms()
  return uv.hrtime() / 1e6
end

local function post(path, body, on_ok, on_fail)
  http.post(cfg.url .. path, body, { timeout_ms = cfg.request_timeout_ms, headers = headers },
    function(err, status)
      if err then
        log.add("POST %s failed: %s", path, err)
        if on_fail and not (status and status < 500) then -- a refused body would be refused again
          on_fail()
        end
      elseif on_ok then
        on_ok()
      end
    end)
end

local RETRY_DELAYS_MS = { 1000, 5000, 15000 } -- accept / settled posts that failed are sent again

-- POST that is sent again after a transport failure or a 5xx (the server could not store it).
local function post_retrying(path, body, on_ok, attempt)
  attempt = attempt or 1
  post(path, body, on_ok, function()
    local delay = RETRY_DELAYS_MS[attempt]
    if delay then
      vim.defer_fn(function()
        post_retrying(path, body, on_ok, attempt + 1)
      end, delay)
    else
      log.add("POST %s dropped after %d attempts", path, attempt)
    end
  end)
end

local schedule_worker

--- (Re)configure; pending captures are kept and judged with the new quiescence.
function M.setup(config, request_headers)
  cfg, headers = config, request_headers
  reject_timer = reject_timer or uv.new_timer()
  settled_timer = settled_timer or uv.new_timer()
  schedule_worker()
end

function M.accept(p)
  post_retrying("/predict_edits/accept", {
    request_id = p.request_id,
    model_version = p.model_version,
    e2e_latency_ms = p.e2e_latency_ms,
  }, function()
    M.sent.accept = M.sent.accept + 1
  end)
end

--- Send the queued rejections now (≤ 100 per request).
function M.flush_rejections()
  reject_timer:stop()
  while #M.rejections > 0 do
    local batch = {}
    for k = 1, math.min(REJECT_BATCH_MAX, #M.rejections) do
      batch[k] = M.rejections[k]
    end
    for _ = 1, #batch do
      table.remove(M.rejections, 1)
    end
    post("/predict_edits/reject", { rejections = batch }, function()
      M.sent.reject = M.sent.reject + #batch
    end, function()
      for k = #batch, 1, -1 do
        table.insert(M.rejections, 1, batch[k]) -- failed: stays queued, retried after the debounce
      end
      reject_timer:stop()
      reject_timer:start(cfg.reject_debounce_ms, 0, vim.schedule_wrap(M.flush_rejections))
    end)
  end
end

function M.reject(p, reason, was_shown)
  if p.request_id == nil then
    return
  end
  M.rejections[#M.rejections + 1] = {
    request_id = p.request_id,
    reason = reason,
    was_shown = was_shown and true or false,
    model_version = p.model_version,
    e2e_latency_ms = p.e2e_latency_ms,
  }
  log.add("reject %s %s was_shown=%s", p.request_id, reason, tostring(was_shown))
  if #M.rejections >= cfg.reject_flush_count then
    M.flush_rejections()
  else
    reject_timer:stop()
    reject_timer:start(cfg.reject_debounce_ms, 0, vim.schedule_wrap(M.flush_rejections))
  end
end

-- ------------------------------------------------------------------ settled captures
local function region(c)
  if not api.nvim_buf_is_valid(c.buf) then
    return nil
  end
  local s = api.nvim_buf_get_extmark_by_id(c.buf, c.ns, c.start_mark, {})
  local e = api.nvim_buf_get_extmark_by_id(c.buf, c.ns, c.end_mark, {})
  if s[1] == nil or e[1] == nil then
    return nil
  end
  return s, e
end

local function drop(c)
  if api.nvim_buf_is_valid(c.buf) then
    pcall(api.nvim_buf_del_extmark, c.buf, c.ns, c.start_mark)
    pcall(api.nvim_buf_del_extmark, c.buf, c.ns, c.end_mark)
  end
end

local capture_ns = api.nvim_create_namespace("nextedit_settled")

function schedule_worker()
  settled_timer:stop()
  local wake
  for _, c in ipairs(M.captures) do
    local at = c.last_edit_at + cfg.settled_quiescence_ms
    if wake == nil or at < wake then
      wake = at
    end
  end
  if wake then
    settled_timer:start(math.max(1, math.ceil(wake - now_ms())), 0, vim.schedule_wrap(M.settle_due))
  end
end

local function settled_body(c, text)
  local body = kept_rate.edit_bytes(kept_rate.compute(c.region_before, c.region_predicted, text))
  body.request_id = c.request_id
  body.model_version = c.model_version
  body.e2e_latency = c.e2e_latency_ms
  body.can_collect_data = c.can_collect_data
  body.is_in_open_source_repo = c.in_open_source_repo
  body.ts_error_count_before_prediction = c.ts_errors_before
  body.ts_error_count_after_prediction = c.ts_errors_after
  if c.can_collect_data then
    body.settled_editable_region = text
  end
  return body
end

--- Report every capture whose region is quiet (`now − last_edit_at ≥ quiescence`); drop expired ones.
function M.settle_due()
  local now, keep, due = now_ms(), {}, {}
  for _, c in ipairs(M.captures) do
    local s, e = region(c)
    local text
    if s then
      text = table.concat(api.nvim_buf_get_text(c.buf, s[1], s[2], e[1], e[2], {}), "\n")
    end
    if text == nil or now - c.enqueued_at >= cfg.settled_ttl_ms or #text > cfg.settled_max_region_bytes then
      log.add("settled capture %s dropped", c.request_id)
      drop(c)
    elseif now - c.last_edit_at >= cfg.settled_quiescence_ms then
      due[#due + 1] = settled_body(c, text)
      drop(c)
    else
      keep[#keep + 1] = c
    end
  end
  M.captures = keep
  for first = 1, #due, SETTLED_BATCH_MAX do
    local batch = { unpack(due, first, math.min(#due, first + SETTLED_BATCH_MAX - 1)) }
    post_retrying("/predict_edits/settled", { predictions = batch }, function()
      M.sent.settled = M.sent.settled + #batch
      M.last_settled = batch[#batch]
    end)
  end
  schedule_worker()
end

function M.capture(p)
  local display = require("nextedit.display")
  local sr, sc = display.pos(p.buf, p.region_start)
  local er, ec = display.pos(p.buf, p.region_end)
  local c = {
    buf = p.buf,
    ns = capture_ns,
    request_id = p.request_id,
    model_version = p.model_version,
    e2e_latency_ms = p.e2e_latency_ms,
    region_before = p.region_before,
    region_predicted = p.region_predicted,
    can_collect_data = cfg.can_collect_data,
    in_open_source_repo = cfg.in_open_source_repo,
    start_mark = api.nvim_buf_set_extmark(p.buf, capture_ns, sr, sc, { right_gravity = false }),
    end_mark = api.nvim_buf_set_extmark(p.buf, capture_ns, er, ec, { right_gravity = true }),
    enqueued_at = now_ms(),
    ts_errors_before = syntax.error_count(p.region_before, vim.bo[p.buf].filetype),
    ts_errors_after = syntax.error_count(p.region_predicted, vim.bo[p.buf].filetype),
  }
  c.last_edit_at = c.enqueued_at
  M.captures[#M.captures + 1] = c
  if #M.captures > CAPTURES_MAX then
    local oldest = table.remove(M.captures, 1)
    log.add("settled capture %s dropped (more than %d pending)", oldest.request_id, CAPTURES_MAX)
    drop(oldest)
  end
  schedule_worker()
end

--- Tracker listener: an edit overlapping a capture's region restarts its quiescence.
function M.on_edit(st, edit)
  for _, c in ipairs(M.captures) do
    if c.buf == st.buf then
      local s = api.nvim_buf_get_extmark_by_id(c.buf, c.ns, c.start_mark, {})
      local e = api.nvim_buf_get_extmark_by_id(c.buf, c.ns, c.end_mark, {})
      if s[1] and e[1] then
        local rs = api.nvim_buf_get_offset(c.buf, s[1]) + s[2]
        local re = api.nvim_buf_get_offset(c.buf, e[1]) + e[2]
        if edit.start <= re and edit.new_end >= rs then
          c.last_edit_at = edit.now_ms -- the worker re-arms itself from last_edit_at
        end
      end
    end
  end
end

--- Best effort at exit: send queued rejections synchronously (bounded wait).
function M.flush_at_exit()
  if #M.rejections > 0 then
    http.post_wait(cfg.url .. "/predict_edits/reject", { rejections = { unpack(M.rejections, 1, REJECT_BATCH_MAX) } },
      { timeout_ms = 2000, headers = headers })
    M.rejections = {}
  end
end

return M
