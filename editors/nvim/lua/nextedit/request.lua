--- The `/predict_edits/v3` body (`Zeta2PromptInput`, zeta.md §1.3) for a tracked buffer.
---
--- Offsets are UTF-8 bytes; rows 0-based. `excerpt_ranges` are left to the server (it computes
--- them from the excerpt and the cursor when absent, as it does for any client).
local history = require("nextedit.history")
local tracker = require("nextedit.tracker")

local api = vim.api

local M = {}

M.DIAGNOSTIC_ROWS = 20 -- §1.10: diagnostics within ±20 rows of the cursor ...
M.DIAGNOSTIC_MAX = 20 -- ... at most 20, nearest first
M.DIAGNOSTIC_TEXT_BYTES = 512 * 3 -- message and snippet clamped to 512 tokens (bytes/3)
M.SNIPPET_CONTEXT_ROWS = 2

local function cost(line)
  return math.max(1, math.floor((#line + 1) / 3))
end

--- Whole lines around `row` (0-based) within `budget` tokens, growing down then up (§1.10).
--- Returns first and last row (inclusive).
function M.excerpt_rows(lines, row, budget)
  local first, last = row, row
  local used = cost(lines[row + 1] or "")
  local grew = true
  while grew do
    grew = false
    if last + 1 < #lines and used + cost(lines[last + 2]) <= budget then
      last = last + 1
      used = used + cost(lines[last + 1])
      grew = true
    end
    if first > 0 and used + cost(lines[first]) <= budget then
      first = first - 1
      used = used + cost(lines[first + 1])
      grew = true
    end
  end
  return first, last
end

local function clamp(text, limit)
  if #text <= limit then
    return text
  end
  local cut = limit
  while cut > 0 and bit.band(text:byte(cut + 1) or 0, 0xC0) == 0x80 do
    cut = cut - 1 -- never split a UTF-8 character
  end
  return text:sub(1, cut)
end

--- `active_buffer_diagnostics` near `row`, nearest first.
function M.diagnostics(buf, lines, row)
  local near = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if math.abs(d.lnum - row) <= M.DIAGNOSTIC_ROWS then
      near[#near + 1] = d
    end
  end
  table.sort(near, function(a, b)
    local da, db = math.abs(a.lnum - row), math.abs(b.lnum - row)
    if da ~= db then
      return da < db
    end
    return a.lnum < b.lnum
  end)
  local out = {}
  for k = 1, math.min(#near, M.DIAGNOSTIC_MAX) do
    local d = near[k]
    local end_lnum = d.end_lnum or d.lnum
    local first = math.max(0, d.lnum - M.SNIPPET_CONTEXT_ROWS)
    local last = math.min(#lines - 1, end_lnum + M.SNIPPET_CONTEXT_ROWS)
    local snippet = table.concat(lines, "\n", first + 1, last + 1)
    local lead = 0 -- bytes of the snippet before row d.lnum
    for r = first, d.lnum - 1 do
      lead = lead + #lines[r + 1] + 1
    end
    local lead_end = 0
    for r = first, end_lnum - 1 do
      lead_end = lead_end + #(lines[r + 1] or "") + 1
    end
    snippet = clamp(snippet, M.DIAGNOSTIC_TEXT_BYTES)
    local s = math.min(lead + (d.col or 0), #snippet)
    local e = math.max(s, math.min(lead_end + (d.end_col or d.col or 0), #snippet))
    out[#out + 1] = {
      severity = d.severity or 1,
      message = clamp(d.message or "", M.DIAGNOSTIC_TEXT_BYTES),
      snippet = snippet,
      snippet_buffer_row_range = { start = first, ["end"] = last },
      diagnostic_range_in_snippet = { start = s, ["end"] = e },
    }
  end
  return out
end

--- `(body, meta)` for tracked buffer state `st` with the cursor at (`row` 0-based, `col` byte).
--- `meta`: `excerpt`, `excerpt_start` (buffer byte offset of the excerpt) used to read the answer.
function M.build(st, row, col, cfg)
  local lines = st.shadow
  local first, last = M.excerpt_rows(lines, row, cfg.excerpt_token_budget)
  local excerpt = table.concat(lines, "\n", first + 1, last + 1)
  local offset = 0
  for r = first, row - 1 do
    offset = offset + #lines[r + 1] + 1
  end
  offset = offset + math.min(col, #(lines[row + 1] or ""))
  local body = {
    cursor_path = st.path,
    cursor_excerpt = excerpt,
    cursor_offset_in_excerpt = offset,
    excerpt_start_row = first,
    events = history.events(tracker.states),
    related_files = vim.NIL,
    in_open_source_repo = cfg.in_open_source_repo,
    can_collect_data = cfg.can_collect_data,
  }
  local diagnostics = M.diagnostics(st.buf, lines, row)
  if #diagnostics > 0 then
    body.active_buffer_diagnostics = diagnostics
  end
  return body, { excerpt = excerpt, excerpt_start = api.nvim_buf_get_offset(st.buf, first) }
end

return M
