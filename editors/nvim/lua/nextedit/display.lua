--- Showing a prediction as extmarks (namespace `nextedit`).
---
--- Deleted bytes get `NextEditDelete`; inserted text is inline virtual text (`NextEditInsert`) at
--- the end of the replaced range, its further lines are virtual lines below; a prediction whose
--- nearest edit is far from the cursor is only a jump hint at the cursor line (`NextEditJump`).
local api = vim.api

local M = {}

M.ns = api.nvim_create_namespace("nextedit")

function M.define_highlights()
  api.nvim_set_hl(0, "NextEditDelete", { link = "DiffDelete", default = true })
  api.nvim_set_hl(0, "NextEditInsert", { link = "DiffAdd", default = true })
  api.nvim_set_hl(0, "NextEditJump", { link = "Comment", default = true })
end

--- (row, col) of buffer byte `offset` (0-based), clamped to the buffer.
function M.pos(buf, offset)
  local count = api.nvim_buf_line_count(buf)
  local lo, hi = 0, count - 1
  while lo < hi do -- last row whose start offset is <= offset
    local mid = math.floor((lo + hi + 1) / 2)
    if api.nvim_buf_get_offset(buf, mid) <= offset then
      lo = mid
    else
      hi = mid - 1
    end
  end
  local line = api.nvim_buf_get_lines(buf, lo, lo + 1, false)[1] or ""
  local col = offset - api.nvim_buf_get_offset(buf, lo)
  if col > #line then
    if lo + 1 < count then
      return lo + 1, 0
    end
    col = #line
  end
  return lo, col
end

function M.clear(buf)
  if api.nvim_buf_is_valid(buf) then
    api.nvim_buf_clear_namespace(buf, M.ns, 0, -1)
  end
end

--- Row of the edit nearest to `cursor_row` (by rows).
function M.nearest_row(buf, edits, cursor_row)
  local best
  for _, m in ipairs(edits) do
    local r = M.pos(buf, m.s)
    if best == nil or math.abs(r - cursor_row) < math.abs(best - cursor_row) then
      best = r
    end
  end
  return best
end

--- Draw `edits`: the whole prediction, or (`jump_row` given) only the jump hint at `cursor_row`.
function M.show(buf, edits, cursor_row, jump_row)
  M.clear(buf)
  if jump_row then
    api.nvim_buf_set_extmark(buf, M.ns, cursor_row, 0, {
      virt_text = { { ("  ⇥ next edit at line %d (accept to jump)"):format(jump_row + 1), "NextEditJump" } },
      virt_text_pos = "eol",
    })
    return
  end
  for _, m in ipairs(edits) do
    local sr, sc = M.pos(buf, m.s)
    local er, ec = M.pos(buf, m.e)
    if m.e > m.s then
      api.nvim_buf_set_extmark(buf, M.ns, sr, sc, { end_row = er, end_col = ec, hl_group = "NextEditDelete" })
    end
    if m.text ~= "" then
      local parts = vim.split(m.text, "\n", { plain = true })
      if parts[1] ~= "" then
        api.nvim_buf_set_extmark(buf, M.ns, er, ec, {
          virt_text = { { parts[1], "NextEditInsert" } },
          virt_text_pos = "inline",
          right_gravity = false,
        })
      end
      if #parts > 1 then
        local virt_lines = {}
        for k = 2, #parts do
          virt_lines[#virt_lines + 1] = { { parts[k], "NextEditInsert" } }
        end
        api.nvim_buf_set_extmark(buf, M.ns, er, 0, { virt_lines = virt_lines })
      end
    end
  end
end

return M
