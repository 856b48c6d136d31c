--- Tree-sitter ERROR / MISSING node counts of a text (the settled report's `ts_error_count_*`).
---
--- The text is parsed on its own with the filetype's parser; nil when Neovim has no parser for it.
local M = {}

function M.error_count(text, filetype)
  local lang = (vim.treesitter.language.get_lang and vim.treesitter.language.get_lang(filetype)) or filetype
  if lang == nil or lang == "" then
    return nil
  end
  local ok, parser = pcall(vim.treesitter.get_string_parser, text, lang)
  if not ok or parser == nil then
    return nil
  end
  local parsed, trees = pcall(parser.parse, parser)
  if not parsed or trees == nil or trees[1] == nil then
    return nil
  end
  local count, stack = 0, { trees[1]:root() }
  while #stack > 0 do
    local node = table.remove(stack)
    if node:type() == "ERROR" or node:missing() then
      count = count + 1
    end
    if node:has_error() then -- only subtrees holding an error are worth walking
      for child in node:iter_children() do
        stack[#stack + 1] = child
      end
    end
  end
  return count
end

return M
