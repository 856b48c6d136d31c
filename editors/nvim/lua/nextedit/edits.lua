--- Predicted edits: computed from a response, carried through the user's typing, compared.
---
--- An edit is `{s = byte, e = byte, text = string}`: replace buffer bytes `[s, e)` (0-based, end
--- exclusive) with `text`. Lists are sorted by `s` and do not overlap. Pure functions, no editor state.
local lcs = require("nextedit.lcs")
local kept_rate = require("nextedit.kept_rate")

local M = {}

local diff = (vim.text and vim.text.diff) or vim.diff

local TOKEN_REDIFF_BYTES = 512 -- §2.10: hunks this small (and ≤ 8 lines) are re-diffed per token
local TOKEN_REDIFF_LINES = 8

local function trimmed(old, new, s)
  -- common prefix / suffix bytes of an op are not part of the edit (§2.10)
  local p, n_old, n_new = 0, #old, #new
  while p < n_old and p < n_new and old:byte(p + 1) == new:byte(p + 1) do
    p = p + 1
  end
  local q = 0
  while q < n_old - p and q < n_new - p and old:byte(n_old - q) == new:byte(n_new - q) do
    q = q + 1
  end
  if p == n_old - q and p == n_new - q then
    return nil
  end
  return { s = s + p, e = s + n_old - q, text = new:sub(p + 1, n_new - q) }
end

-- Edits turning `old` into `new` at token granularity; offsets relative to `old`, shifted by `base`.
local function token_edits(old, new, base, out)
  local a, b = kept_rate.units(old), kept_rate.units(new)
  local ai, bi = { 0 }, { 0 } -- byte offset before unit k+1
  for k, u in ipairs(a) do
    ai[k + 1] = ai[k] + #u
  end
  for k, u in ipairs(b) do
    bi[k + 1] = bi[k] + #u
  end
  local prev_i, prev_j = 0, 0
  local matches = lcs.pairs(a, b)
  matches[#matches + 1] = { #a + 1, #b + 1 }
  for _, pair in ipairs(matches) do
    local i, j = pair[1], pair[2]
    if i > prev_i + 1 or j > prev_j + 1 then
      local os, oe = ai[prev_i + 1], ai[i]
      local ns, ne = bi[prev_j + 1], bi[j]
      local edit = trimmed(old:sub(os + 1, oe), new:sub(ns + 1, ne), base + os)
      if edit then
        out[#out + 1] = edit
      end
    end
    prev_i, prev_j = i, j
  end
end

local function line_starts(text)
  local starts = { 0 }
  for pos in text:gmatch("()\n") do
    starts[#starts + 1] = pos -- byte offset after the newline
  end
  return starts
end

--- Edits turning region text `old` into `new`, at offset `base` (§2.10: a line-level histogram diff,
--- small hunks re-diffed per token, every op trimmed of its common prefix/suffix).
function M.compute(old, new, base)
  local out = {}
  if old == new then
    return out
  end
  local hunks = diff(old, new, { result_type = "indices", algorithm = "histogram" })
  local os_, ns_ = line_starts(old), line_starts(new)
  local function span(starts, text, first, count)
    -- byte range of lines [first, first + count) (1-based first; count 0 = empty at line first+1)
    if count == 0 then
      local at = starts[first + 1] or #text
      return at, at
    end
    return starts[first] or #text, starts[first + count] or #text
  end
  for _, h in ipairs(hunks) do
    local a0, a1 = span(os_, old, h[1], h[2])
    local b0, b1 = span(ns_, new, h[3], h[4])
    local o, n = old:sub(a0 + 1, a1), new:sub(b0 + 1, b1)
    if h[2] > 0 and h[4] > 0 and #o <= TOKEN_REDIFF_BYTES and #n <= TOKEN_REDIFF_BYTES
      and h[2] <= TOKEN_REDIFF_LINES and h[4] <= TOKEN_REDIFF_LINES then
      token_edits(o, n, base + a0, out)
    else
      local edit = trimmed(o, n, base + a0)
      if edit then
        out[#out + 1] = edit
      end
    end
  end
  return out
end

--- Zed's `interpolate_edits` for one user edit (bytes `[ub, ue)` replaced by `typed`).
--- Returns `(edits, consumed)`: the edits in the new coordinates (nil when the prediction no longer
--- applies or nothing is left) and whether the user typed along with the prediction.
function M.interpolate(edits, ub, ue, typed)
  local delta = #typed - (ue - ub)
  local out, consumed = {}, false
  for _, m in ipairs(edits) do
    if m.s == ub and m.e == ue and m.text:sub(1, #typed) == typed then
      consumed = true
      local at = ub + #typed
      if #m.text > #typed then
        out[#out + 1] = { s = at, e = at, text = m.text:sub(#typed + 1) }
      end
    elseif m.e <= ub and not (m.s == m.e and m.e == ub and ue == ub) then
      out[#out + 1] = m
    elseif m.s >= ue and not (m.s == m.e and m.s == ub) then
      out[#out + 1] = { s = m.s + delta, e = m.e + delta, text = m.text }
    else
      return nil, false
    end
  end
  if #out == 0 then
    return nil, consumed
  end
  return out, consumed
end

--- §1.8 `should_replace_prediction` for two valid predictions in the same buffer: single-edit ones
--- are replaced only by an extension (same range, text starting with the current text).
function M.should_replace(current, new)
  if #current == 1 and #new == 1 then
    local c, n = current[1], new[1]
    return c.s == n.s and c.e == n.e and n.text:sub(1, #c.text) == c.text
  end
  return true
end

--- `text` with `edits` (offsets relative to `base`) applied.
function M.apply_to_text(text, edits, base)
  base = base or 0
  local parts, pos = {}, 0
  for _, m in ipairs(edits) do
    parts[#parts + 1] = text:sub(pos + 1, m.s - base)
    parts[#parts + 1] = m.text
    pos = m.e - base
  end
  parts[#parts + 1] = text:sub(pos + 1)
  return table.concat(parts)
end

return M
