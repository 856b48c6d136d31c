--- Edit history (§1.9): buffer edits grouped into `BufferChange` events for the request.
---
--- An edit extends the open event of its buffer when it has the same `predicted` flag, lies within
--- `GROUPING_LINE_SPAN` rows of the previous edit and comes less than `PAUSE_SPLIT_MS` after it;
--- otherwise the open event is finalized (a hunk diff of its region ±3 lines, real 1-based line
--- numbers, no ---/+++ headers; dropped when either side exceeds `DIFF_SIZE_LIMIT` bytes) and a new
--- one starts. At most `EVENT_COUNT_MAX` finalized events are kept, oldest first, across buffers.
local M = {}

M.EVENT_COUNT_MAX = 10
M.GROUPING_LINE_SPAN = 8
M.PAUSE_SPLIT_MS = 1000
M.DIFF_SIZE_LIMIT = 6144
M.CONTEXT_LINES = 3

local diff = (vim.text and vim.text.diff) or vim.diff

M.finalized = {} -- oldest → newest, Zeta2 `Event` tables

local function copy(lines)
  local out = {}
  for i = 1, #lines do
    out[i] = lines[i]
  end
  return out
end

local function region_text(lines, first, last)
  -- lines[first..last] joined, each followed by "\n" (first > last = empty)
  if first > last then
    return ""
  end
  return table.concat(lines, "\n", first, last) .. "\n"
end

--- The hunk diff of `old_lines → new_lines` restricted to their changed rows ±3, or nil when equal
--- or too large.
function M.hunks(old_lines, new_lines)
  local n, m = #old_lines, #new_lines
  local p = 0
  while p < n and p < m and old_lines[p + 1] == new_lines[p + 1] do
    p = p + 1
  end
  if p == n and p == m then
    return nil
  end
  local s = 0
  while s < n - p and s < m - p and old_lines[n - s] == new_lines[m - s] do
    s = s + 1
  end
  local first = math.max(1, p + 1 - M.CONTEXT_LINES)
  local old = region_text(old_lines, first, math.min(n, n - s + M.CONTEXT_LINES))
  local new = region_text(new_lines, first, math.min(m, m - s + M.CONTEXT_LINES))
  if #old > M.DIFF_SIZE_LIMIT or #new > M.DIFF_SIZE_LIMIT then
    return nil
  end
  local text = diff(old, new, { ctxlen = M.CONTEXT_LINES, algorithm = "histogram" })
  if text == nil or text == "" then
    return nil
  end
  local offset = first - 1
  return (text:gsub("@@ %-(%d+)(,?%d*) %+(%d+)(,?%d*) @@", function(a, ac, b, bc)
    return ("@@ -%d%s +%d%s @@"):format(tonumber(a) + offset, ac, tonumber(b) + offset, bc)
  end))
end

local function to_event(ev, new_lines)
  local text = M.hunks(ev.old_lines, new_lines)
  if text == nil then
    return nil
  end
  return {
    event = "BufferChange",
    path = ev.path,
    old_path = ev.path,
    diff = text,
    old_range = { start = ev.old_start, ["end"] = ev.old_end },
    new_range = { start = ev.new_start, ["end"] = ev.new_end },
    predicted = ev.predicted,
    in_open_source_repo = ev.in_open_source_repo,
  }
end

--- Close `st.event` (text now `st.shadow`) into `M.finalized`.
function M.finalize(st)
  local ev = st.event
  st.event = nil
  if ev == nil then
    return
  end
  local event = to_event(ev, st.shadow)
  if event then
    M.finalized[#M.finalized + 1] = event
    while #M.finalized > M.EVENT_COUNT_MAX do
      table.remove(M.finalized, 1)
    end
  end
end

--- Record one edit of tracked buffer `st` **before** `st.shadow` takes it. `edit`: `{start, old_end,
--- new_end}` bytes, `row`, `last_row` (rows of the new text), `predicted`, `now_ms`.
function M.record(st, edit)
  local ev = st.event
  if ev and (ev.predicted ~= edit.predicted
      or edit.now_ms - ev.last_ms >= M.PAUSE_SPLIT_MS
      or edit.row > ev.last_row_end + M.GROUPING_LINE_SPAN
      or edit.last_row < ev.last_row_start - M.GROUPING_LINE_SPAN) then
    M.finalize(st)
    ev = nil
  end
  if ev == nil then
    ev = {
      old_lines = copy(st.shadow),
      path = st.path,
      predicted = edit.predicted,
      in_open_source_repo = st.in_open_source_repo,
      old_start = edit.start, old_end = edit.old_end,
      new_start = edit.start, new_end = edit.new_end,
    }
    st.event = ev
  else
    -- union of the event's range and this edit, in old and in current coordinates
    local us, ue = math.min(ev.new_start, edit.start), math.max(ev.new_end, edit.old_end)
    ev.old_start = ev.old_start - (ev.new_start - us)
    ev.old_end = ev.old_end + (ue - ev.new_end)
    ev.new_start, ev.new_end = us, ue + (edit.new_end - edit.old_end)
  end
  ev.last_ms = edit.now_ms
  ev.last_row_start, ev.last_row_end = edit.row, edit.last_row
end

--- Events for a request: the finalized ones plus each tracked buffer's open event (not closed),
--- oldest first, at most `EVENT_COUNT_MAX`.
function M.events(states)
  local out = vim.list_extend({}, M.finalized)
  for _, st in pairs(states) do
    if st.event then
      local event = to_event(st.event, st.shadow)
      if event then
        out[#out + 1] = event
      end
    end
  end
  while #out > M.EVENT_COUNT_MAX do
    table.remove(out, 1)
  end
  return out
end

return M
