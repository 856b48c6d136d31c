--- Options of `require("nextedit").setup(opts)`: defaults, merge and validation.
---
--- Times are milliseconds; sizes are bytes. A bad option raises one error naming it.
local M = {}

M.defaults = {
  url = "http://127.0.0.1:8000", -- the `nextedit serve` base URL
  api_key_env = "NEXTEDIT_API_KEY", -- name of the env var holding the bearer token (unset: no header)
  filetypes = {}, -- enabled filetypes; empty = every filetype with a file name
  disabled_globs = { "*.env", ".env*", "**/.env*", "*.pem", "*.key", "**/secrets/**" }, -- never sent
  can_collect_data = false, -- opt-in: the server may keep the input, output and settled region
  in_open_source_repo = false, -- reported with events and settled captures
  throttle_ms = 300, -- §1.8: 300 ms after the last sent request, per buffer
  max_in_flight = 2, -- §1.8: older in-flight requests beyond this are aborted
  request_timeout_ms = 10000,
  excerpt_token_budget = 8192, -- §1.10 (token = bytes/3, at least 1 per line)
  jump_hint_rows = 20, -- a prediction whose nearest edit is farther than this from the cursor is a jump hint
  reject_debounce_ms = 15000, -- §1.5: reject batch flushed after this without a new item ...
  reject_flush_count = 50, -- ... or once this many are queued (at most 100 per request)
  settled_quiescence_ms = 10000, -- §3.13: a region without edits for this long has settled
  settled_ttl_ms = 300000, -- §3.13: captures older than this are dropped
  settled_max_region_bytes = 4096, -- §3.13: captures whose region grew beyond this are dropped
  keys = {
    accept = "<Tab>", -- falls back to the key's normal action when nothing is shown
    accept_word = "<M-Right>",
    accept_line = "<M-Down>",
    dismiss = { "<Esc>", "<C-]>" }, -- <Esc> also does what <Esc> does
  },
  log_max_lines = 500,
}

local types = {
  url = "string", api_key_env = "string", filetypes = "table", disabled_globs = "table",
  can_collect_data = "boolean", in_open_source_repo = "boolean", throttle_ms = "number",
  max_in_flight = "number", request_timeout_ms = "number", excerpt_token_budget = "number",
  jump_hint_rows = "number", reject_debounce_ms = "number", reject_flush_count = "number",
  settled_quiescence_ms = "number", settled_ttl_ms = "number", settled_max_region_bytes = "number",
  keys = "table", log_max_lines = "number",
}

--- `defaults` deep-merged with `opts`; error("nextedit.setup: <field> ...") on an unknown or mistyped field.
function M.resolve(opts)
  opts = opts or {}
  for k, v in pairs(opts) do
    if types[k] == nil then
      error(("nextedit.setup: unknown option %q"):format(k), 0)
    end
    if type(v) ~= types[k] then
      error(("nextedit.setup: option %q must be a %s, got %s"):format(k, types[k], type(v)), 0)
    end
  end
  local cfg = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts)
  if opts.disabled_globs then
    cfg.disabled_globs = opts.disabled_globs -- a list replaces, it does not merge by index
  end
  if opts.filetypes then
    cfg.filetypes = opts.filetypes
  end
  for i, glob in ipairs(cfg.disabled_globs) do
    -- a glob that does not compile would silently let the files it meant to protect through
    local ok = type(glob) == "string" and pcall(vim.glob.to_lpeg, glob)
    if not ok then
      error(("nextedit.setup: disabled_globs[%d] is not a valid glob: %s"):format(i, vim.inspect(glob)), 0)
    end
  end
  if not cfg.url:match("^https?://") then
    error(("nextedit.setup: option \"url\" must start with http:// or https://, got %q"):format(cfg.url), 0)
  end
  cfg.url = cfg.url:gsub("/+$", "")
  return cfg
end

return M
