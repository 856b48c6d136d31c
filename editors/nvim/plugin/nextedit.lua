-- :NextEdit status|enable|disable|log (the plugin does nothing until require("nextedit").setup()).
if vim.g.loaded_nextedit then
  return
end
vim.g.loaded_nextedit = true
require("nextedit.command").create()
