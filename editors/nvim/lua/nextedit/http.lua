--- Asynchronous JSON POST through `curl` (`vim.system`): never blocks the editor.
---
--- `post(url, body, opts, on_done)` returns a handle with `:abort()`. `on_done(err, status, decoded)`
--- runs on the main loop (`vim.schedule`) unless aborted; `err` is a one-line string or nil.
local M = {}

local function decode(text)
  if text == nil or text == "" then
    return nil
  end
  local ok, value = pcall(vim.json.decode, text, { luanil = { object = true, array = true } })
  return ok and value or nil
end

--- `opts`: `timeout_ms`, `curl_config` (path of a curl config file holding headers, e.g. the API key).
function M.post(url, body, opts, on_done)
  local handle = { aborted = false }
  local args = {
    "curl", "-sS", "--max-time", tostring(math.max(1, math.ceil((opts.timeout_ms or 10000) / 1000))),
    "-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "@-",
    "-w", "\n%{http_code}",
  }
  if opts.curl_config then
    vim.list_extend(args, { "-K", opts.curl_config })
  end
  args[#args + 1] = url
  local ok, proc = pcall(vim.system, args, { stdin = vim.json.encode(body), text = true }, function(res)
    vim.schedule(function()
      if handle.aborted then
        return
      end
      if res.code ~= 0 then
        on_done(("curl exit %d: %s"):format(res.code, vim.trim(res.stderr or "")), nil, nil)
        return
      end
      local out = res.stdout or ""
      local text, status = out:match("^(.*)\n(%d+)$")
      status = tonumber(status)
      if status == nil then
        on_done("unreadable curl output", nil, nil)
      elseif status >= 400 then
        on_done(("HTTP %d: %s"):format(status, vim.trim(text or "")), status, decode(text))
      else
        on_done(nil, status, decode(text))
      end
    end)
  end)
  if not ok then
    vim.schedule(function()
      on_done("cannot run curl: " .. tostring(proc), nil, nil)
    end)
    return handle
  end
  handle.proc = proc
  function handle.abort()
    handle.aborted = true
    pcall(proc.kill, proc, "sigterm")
  end
  return handle
end

--- Blocking POST for VimLeavePre (bounded by `timeout_ms`); returns true on a 2xx answer.
function M.post_sync(url, body, opts)
  local args = {
    "curl", "-sS", "--max-time", tostring(math.max(1, math.ceil((opts.timeout_ms or 2000) / 1000))),
    "-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "@-", "-o", "/dev/null",
    "-w", "%{http_code}",
  }
  if opts.curl_config then
    vim.list_extend(args, { "-K", opts.curl_config })
  end
  args[#args + 1] = url
  local ok, proc = pcall(vim.system, args, { stdin = vim.json.encode(body), text = true })
  if not ok then
    return false
  end
  local res = proc:wait((opts.timeout_ms or 2000) + 500)
  local status = tonumber(res.stdout or "")
  return res.code == 0 and status ~= nil and status < 300
end

return M
