--- `:NextEdit status|enable|disable|log`, defined without loading the plugin until it is used
--- (plugin/nextedit.lua defines it at startup; setup() too, for installs that add the runtimepath late).
local M = {}

M.SUBCOMMANDS = { "status", "enable", "disable", "log" }

function M.create()
  vim.api.nvim_create_user_command("NextEdit", function(opts)
    require("nextedit").command(opts.args)
  end, {
    nargs = "?",
    complete = function()
      return M.SUBCOMMANDS
    end,
    desc = "nextedit: " .. table.concat(M.SUBCOMMANDS, " | "),
  })
end

return M
