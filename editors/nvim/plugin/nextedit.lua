-- :NextEdit status|enable|disable|log (the plugin does nothing until require("nextedit").setup()).
if vim.g.loaded_nextedit then
  return
end
vim.g.loaded_nextedit = true

vim.api.nvim_create_user_command("NextEdit", function(opts)
  require("nextedit").command(opts.args)
end, {
  nargs = "?",
  complete = function()
    return { "status", "enable", "disable", "log" }
  end,
  desc = "nextedit: status | enable | disable | log",
})
