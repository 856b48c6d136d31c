--- Asynchronous JSON POST that never blocks the editor.
---
--- `http://` URLs go over a `vim.uv` TCP socket (HTTP/1.1, `Connection: close`): no process is
--- spawned, so a request costs the main loop only the time to encode it. `https://` URLs go through
--- `curl` (`vim.system`; the request, headers included, is handed over on stdin so the API key never
--- appears in a process list).
---
--- `post(url, body, opts, on_done)` returns a handle with `abort()`; `opts`: `timeout_ms`, `headers`
--- (name → value). `on_done(err, status, decoded_json)` runs on the main loop unless aborted; `err` is
--- a one-line string (transport failure or HTTP status ≥ 400) or nil.
local M = {}

local uv = vim.uv or vim.loop

local function decode(text)
  if text == nil or text == "" then
    return nil
  end
  local ok, value = pcall(vim.json.decode, text, { luanil = { object = true, array = true } })
  return ok and value or nil
end

local function finish(on_done, handle, err, status, text)
  vim.schedule(function()
    if handle.aborted then
      return
    end
    if err then
      on_done(err, status, nil)
    elseif status >= 400 then
      on_done(("HTTP %d: %s"):format(status, vim.trim(text or ""):sub(1, 200)), status, decode(text))
    else
      on_done(nil, status, decode(text))
    end
  end)
end

--- `{scheme, host, port, path}` of an http(s) URL, or nil.
function M.parse_url(url)
  local scheme, rest = url:match("^(https?)://(.+)$")
  if not scheme then
    return nil
  end
  local authority, path = rest:match("^([^/]+)(/.*)$")
  authority, path = authority or rest, path or "/"
  local host, port = authority:match("^%[(.+)%]:?(%d*)$") -- [v6]:port
  if not host then
    host, port = authority:match("^([^:]+):?(%d*)$")
  end
  port = tonumber(port) or (scheme == "https" and 443 or 80)
  return { scheme = scheme, host = host, port = port, path = path }
end

local function dechunk(body)
  local out, pos = {}, 1
  while true do
    local size_hex, after = body:match("^(%x+)[^\r\n]*\r\n()", pos)
    local size = size_hex and tonumber(size_hex, 16)
    if not size or size == 0 then
      return table.concat(out)
    end
    out[#out + 1] = body:sub(after, after + size - 1)
    pos = after + size + 2
  end
end

--- Status and body of a raw HTTP/1.x response, or nil.
function M.parse_response(raw)
  local head, body = raw:match("^(.-)\r\n\r\n(.*)$")
  if not head then
    return nil
  end
  local status = tonumber(head:match("^HTTP/%d[%.%d]* (%d%d%d)"))
  local lower = head:lower()
  if lower:find("\r\ntransfer%-encoding:%s*chunked") then
    body = dechunk(body)
  else
    local length = tonumber(lower:match("\r\ncontent%-length:%s*(%d+)"))
    if length then
      body = body:sub(1, length)
    end
  end
  return status, body
end

local function post_tcp(u, payload, opts, on_done)
  local handle = { aborted = false }
  local tcp, timer = uv.new_tcp(), uv.new_timer()
  local chunks, closed = {}, false
  local function close(err, status, text)
    if closed then
      return
    end
    closed = true
    timer:stop()
    timer:close()
    if not tcp:is_closing() then
      tcp:close()
    end
    finish(on_done, handle, err, status, text)
  end
  local lines = {
    ("POST %s HTTP/1.1"):format(u.path),
    ("Host: %s:%d"):format(u.host, u.port),
    "Content-Type: application/json",
    ("Content-Length: %d"):format(#payload),
    "Connection: close",
  }
  for name, value in pairs(opts.headers or {}) do
    lines[#lines + 1] = name .. ": " .. value
  end
  local request = table.concat(lines, "\r\n") .. "\r\n\r\n" .. payload
  local where = ("%s:%d"):format(u.host, u.port)
  timer:start(opts.timeout_ms or 10000, 0, function()
    close(("no answer from %s within %d ms"):format(where, opts.timeout_ms or 10000))
  end)
  uv.getaddrinfo(u.host, tostring(u.port), { socktype = "stream" }, function(gerr, addrs)
    if closed then
      return
    end
    if gerr or not addrs or not addrs[1] then
      return close(("cannot resolve %s: %s"):format(u.host, tostring(gerr)))
    end
    tcp:connect(addrs[1].addr, addrs[1].port or u.port, function(cerr)
      if cerr then
        return close(("cannot connect to %s: %s"):format(where, cerr))
      end
      tcp:write(request)
      tcp:read_start(function(rerr, data)
        if rerr then
          return close(("reading from %s: %s"):format(where, rerr))
        end
        if data then
          chunks[#chunks + 1] = data
          return
        end
        local status, body = M.parse_response(table.concat(chunks))
        if not status then
          return close(("unreadable answer from %s"):format(where))
        end
        close(nil, status, body)
      end)
    end)
  end)
  function handle.abort()
    handle.aborted = true
    close("aborted")
  end
  return handle
end

local function curl_quote(s)
  return '"' .. s:gsub('[\\"]', "\\%0"):gsub("\n", "\\n"):gsub("\r", "\\r"):gsub("\t", "\\t") .. '"'
end

local function post_curl(url, payload, opts, on_done)
  local handle = { aborted = false }
  local config = {
    "url = " .. curl_quote(url),
    'header = "Content-Type: application/json"',
    "data-binary = " .. curl_quote(payload),
  }
  for name, value in pairs(opts.headers or {}) do
    config[#config + 1] = "header = " .. curl_quote(name .. ": " .. value)
  end
  local seconds = tostring(math.max(1, math.ceil((opts.timeout_ms or 10000) / 1000)))
  local args = { "curl", "-sS", "--max-time", seconds, "-w", "\n%{http_code}", "-K", "-" }
  local ok, proc = pcall(vim.system, args, { stdin = table.concat(config, "\n") .. "\n", text = true },
    function(res)
      if res.code ~= 0 then
        return finish(on_done, handle, ("curl exit %d: %s"):format(res.code, vim.trim(res.stderr or "")))
      end
      local text, status = (res.stdout or ""):match("^(.*)\n(%d+)$")
      if not status then
        return finish(on_done, handle, "unreadable curl output")
      end
      finish(on_done, handle, nil, tonumber(status), text)
    end)
  if not ok then
    finish(on_done, handle, "cannot run curl: " .. tostring(proc))
    return handle
  end
  function handle.abort()
    handle.aborted = true
    pcall(proc.kill, proc, "sigterm")
  end
  return handle
end

function M.post(url, body, opts, on_done)
  local u = M.parse_url(url)
  local payload = vim.json.encode(body)
  if u == nil then
    local handle = { aborted = false, abort = function() end }
    finish(on_done, handle, "not an http(s) URL: " .. url)
    return handle
  end
  if u.scheme == "https" then
    return post_curl(url, payload, opts, on_done)
  end
  return post_tcp(u, payload, opts, on_done)
end

--- POST and wait for the answer (at most `opts.timeout_ms`), for VimLeavePre. True on a 2xx answer.
function M.post_wait(url, body, opts)
  local result
  M.post(url, body, opts, function(err)
    result = err == nil
  end)
  vim.wait((opts.timeout_ms or 2000) + 100, function()
    return result ~= nil
  end, 10)
  return result == true
end

return M
