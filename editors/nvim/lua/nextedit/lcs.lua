--- Longest common subsequence of two arrays of strings (comparison units, lines).
---
--- `masks(a, b)` follows §5.3 step 5 (kept rate); `pairs(a, b)` is one alignment (used to turn a
--- diff into edits). Both match the common prefix/suffix first and run an O(n·m) DP on the middle.
local M = {}

local function strip(a, b)
  local n, m = #a, #b
  local p = 0
  while p < n and p < m and a[p + 1] == b[p + 1] do
    p = p + 1
  end
  local s = 0
  while s < n - p and s < m - p and a[n - s] == b[m - s] do
    s = s + 1
  end
  return p, s
end

-- dp[i * w + j] = LCS(a[p+1 .. p+i], b[p+1 .. p+j]) for the middle (na × nb)
local function table_for(a, b, p, na, nb)
  local w = nb + 1
  local dp = {}
  for j = 0, nb do
    dp[j] = 0
  end
  for i = 1, na do
    local row, prev = i * w, (i - 1) * w
    dp[row] = 0
    local x = a[p + i]
    for j = 1, nb do
      if x == b[p + j] then
        dp[row + j] = dp[prev + j - 1] + 1
      else
        local up, left = dp[prev + j], dp[row + j - 1]
        dp[row + j] = up >= left and up or left
      end
    end
  end
  return dp, w
end

--- Per-item "part of the LCS" flags for `a` and `b` (§5.3 step 5): side A moves up on ties, side B
--- moves left on ties.
function M.masks(a, b)
  local n, m = #a, #b
  local ma, mb = {}, {}
  for i = 1, n do
    ma[i] = false
  end
  for j = 1, m do
    mb[j] = false
  end
  local p, s = strip(a, b)
  for k = 1, p do
    ma[k], mb[k] = true, true
  end
  for k = 0, s - 1 do
    ma[n - k], mb[m - k] = true, true
  end
  local na, nb = n - p - s, m - p - s
  if na == 0 or nb == 0 then
    return ma, mb
  end
  local dp, w = table_for(a, b, p, na, nb)
  local i, j = na, nb
  while i > 0 and j > 0 do
    if a[p + i] == b[p + j] then
      ma[p + i] = true
      i, j = i - 1, j - 1
    elseif dp[(i - 1) * w + j] >= dp[i * w + j - 1] then
      i = i - 1
    else
      j = j - 1
    end
  end
  i, j = na, nb
  while i > 0 and j > 0 do
    if a[p + i] == b[p + j] then
      mb[p + j] = true
      i, j = i - 1, j - 1
    elseif dp[i * w + j - 1] >= dp[(i - 1) * w + j] then
      j = j - 1
    else
      i = i - 1
    end
  end
  return ma, mb
end

--- Matched index pairs `{i, j}` (1-based, increasing) of one LCS alignment of `a` and `b`.
function M.pairs(a, b)
  local n, m = #a, #b
  local p, s = strip(a, b)
  local out = {}
  for k = 1, p do
    out[#out + 1] = { k, k }
  end
  local na, nb = n - p - s, m - p - s
  if na > 0 and nb > 0 then
    local dp, w = table_for(a, b, p, na, nb)
    local mid = {}
    local i, j = na, nb
    while i > 0 and j > 0 do
      if a[p + i] == b[p + j] then
        mid[#mid + 1] = { p + i, p + j }
        i, j = i - 1, j - 1
      elseif dp[(i - 1) * w + j] >= dp[i * w + j - 1] then
        i = i - 1
      else
        j = j - 1
      end
    end
    for k = #mid, 1, -1 do
      out[#out + 1] = mid[k]
    end
  end
  for k = s - 1, 0, -1 do
    out[#out + 1] = { n - k, m - k }
  end
  return out
end

return M
