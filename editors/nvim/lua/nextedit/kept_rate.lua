--- §5.3 kept rate / recall rate of a prediction, as the settled report carries it (§6.2).
---
--- `compute(base, candidate, reference)`: online `(region before the prediction, predicted region,
--- settled region)`. Every size is in UTF-8 **bytes**. Texts are split into comparison units
--- (identifier runs whole, newline runs, other whitespace runs, the longest §5.3 operator or one
--- punctuation byte) and compared with LCS masks using the §5.3 tie-breaking (`nextedit.lcs`). This is the same
--- computation as the server's `nextedit.metrics.kept_rate.compute_kept_rate`; one deliberate
--- approximation: every non-ASCII byte counts as an identifier character (Python's `isalnum`
--- would say no for non-ASCII punctuation and spaces).
local M = {}

M.DIRTY_FINAL_LIMIT = 512

local OPERATORS = {
  ">>>=", "<<=", ">>=", "...", "..=", "??=", "**=", ">>>", "::", "->", "=>", "==", "!=", "<=", ">=",
  "&&", "||", "<<", ">>", "..", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "++", "--", "**",
  "??", "?.", ":=", "<-", "//", "/*", "*/",
}
local OPS = { {}, {}, {}, {} } -- by length
for _, op in ipairs(OPERATORS) do
  OPS[#op][op] = true
end

local lcs = require("nextedit.lcs")
local byte = string.byte

local function is_ident(b)
  return (b >= 48 and b <= 57) or (b >= 65 and b <= 90) or (b >= 97 and b <= 122) or b == 95 or b >= 128
end

local function is_newline(b)
  return b == 10 or b == 13
end

local function is_space(b)
  return b == 32 or b == 9 or b == 11 or b == 12 or (b >= 28 and b <= 31)
end

--- Comparison units of `text` (§5.3 step 4); their concatenation is `text`.
function M.units(text)
  local out, i, n = {}, 1, #text
  while i <= n do
    local b = byte(text, i)
    local j = i + 1
    if is_ident(b) then
      while j <= n and is_ident(byte(text, j)) do
        j = j + 1
      end
    elseif is_newline(b) then
      while j <= n and is_newline(byte(text, j)) do
        j = j + 1
      end
    elseif is_space(b) then
      while j <= n and is_space(byte(text, j)) do
        j = j + 1
      end
    else
      for len = 4, 2, -1 do
        if OPS[len][text:sub(i, i + len - 1)] then
          j = i + len
          break
        end
      end
    end
    out[#out + 1] = text:sub(i, j - 1)
    i = j
  end
  return out
end

local function nbytes(units, mask, want)
  local total = 0
  for k, u in ipairs(units) do
    if mask[k] == want then
      total = total + #u
    end
  end
  return total
end

local function zero()
  return {
    candidate_new = 0, reference_new = 0, candidate_deleted = 0, reference_deleted = 0, kept = 0,
    correctly_deleted = 0, discarded = 0, context = 0, kept_rate = 0.0, recall_rate = 0.0,
  }
end

--- All §5.3 counts (bytes) and both rates (0–1) for `base → candidate` judged against `base → reference`.
function M.compute(base, candidate, reference)
  local r = zero()
  if base == candidate and candidate == reference then
    r.context, r.kept_rate, r.recall_rate = #candidate, 1.0, 1.0
    return r
  end
  local lb, lc, lr = #base, #candidate, #reference
  if math.abs(math.abs(lc - lb) - math.abs(lr - lb)) > M.DIRTY_FINAL_LIMIT then
    r.candidate_new, r.reference_new, r.discarded = math.abs(lc - lb), math.abs(lr - lb), math.abs(lc - lb)
    return r
  end
  local bu, cu, ru = M.units(base), M.units(candidate), M.units(reference)
  local cand_vs_base, base_vs_cand = lcs.masks(cu, bu)
  local ref_vs_base, base_vs_ref = lcs.masks(ru, bu)
  r.candidate_new = nbytes(cu, cand_vs_base, false)
  r.context = nbytes(cu, cand_vs_base, true)
  r.reference_new = nbytes(ru, ref_vs_base, false)
  local cand_new, ref_new = {}, {}
  for k, u in ipairs(cu) do
    if not cand_vs_base[k] then
      cand_new[#cand_new + 1] = u
    end
  end
  for k, u in ipairs(ru) do
    if not ref_vs_base[k] then
      ref_new[#ref_new + 1] = u
    end
  end
  local kept_mask = lcs.masks(cand_new, ref_new)
  r.kept = nbytes(cand_new, kept_mask, true)
  r.candidate_deleted = nbytes(bu, base_vs_cand, false)
  r.reference_deleted = nbytes(bu, base_vs_ref, false)
  for k, u in ipairs(bu) do
    if not base_vs_cand[k] and not base_vs_ref[k] then
      r.correctly_deleted = r.correctly_deleted + #u
    end
  end
  r.discarded = r.candidate_new - r.kept
  local cand_total = r.candidate_new + r.candidate_deleted
  local ref_total = r.reference_new + r.reference_deleted
  if cand_total > 0 then
    r.kept_rate = (r.kept + r.correctly_deleted) / cand_total
  else
    r.kept_rate = ref_total == 0 and 1.0 or 0.0
  end
  if ref_total > 0 then
    r.recall_rate = (r.kept + r.correctly_deleted) / ref_total
  else
    r.recall_rate = cand_total == 0 and 1.0 or 0.0
  end
  return r
end

--- The flattened `edit_bytes_*` fields of §6.2 `SettledEditPrediction`.
function M.edit_bytes(r)
  return {
    edit_bytes_candidate_new = r.candidate_new,
    edit_bytes_reference_new = r.reference_new,
    edit_bytes_candidate_deleted = r.candidate_deleted,
    edit_bytes_reference_deleted = r.reference_deleted,
    edit_bytes_kept = r.kept,
    edit_bytes_correctly_deleted = r.correctly_deleted,
    edit_bytes_discarded = r.discarded,
    edit_bytes_context = r.context,
    edit_bytes_kept_rate = r.kept_rate,
    edit_bytes_recall_rate = r.recall_rate,
  }
end

return M
