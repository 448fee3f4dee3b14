"""Lua scripts that keep presence consistent in one Valkey round trip each.

Every script receives the same KEYS (see ``PresenceKeys.script_keys``) and, as its
first three ARGV, the per-mitra connections key prefix, the availability channel and
the capacity cap to assume when none is stored. A mitra is

* **online**    when they asked to be (``wants``) and hold at least one live socket
  (a non-empty ZSET ``conns:<mitra>`` of connection ids scored by last heartbeat);
* **available** when online and their active-session counter is below the cap.

The ``available`` SET is maintained incrementally, one mitra at a time, so keeping the
answer current costs the same with 10 or 10 000 online mitras. Whenever its size
changes, the new count is published on the availability channel as ``<version>:<count>``; every
instance keeps an in-process snapshot from those messages (the version orders them).
"""

from __future__ import annotations

# KEYS: 1 wants, 2 online, 3 available, 4 active counts (HASH), 5 capacity,
#       6 last published count, 7 connection index (ZSET "<mitra>|<conn>"), 8 epoch,
#       9 counters-built marker, 10 availability version (increments at each published change)
PRELUDE = """
local P = ARGV[1]
local function cap()
  local c = redis.call('GET', KEYS[5])
  if not c then
    redis.call('SET', KEYS[5], ARGV[3])
    c = ARGV[3]
  end
  return tonumber(c)
end
-- Returns 1 when the mitra has just become available, else 0.
local function recompute(m, c)
  local online = redis.call('ZCARD', P .. m) > 0 and redis.call('SISMEMBER', KEYS[1], m) == 1
  if online then
    redis.call('SADD', KEYS[2], m)
    local n = tonumber(redis.call('HGET', KEYS[4], m) or '0')
    if n < c then
      return redis.call('SADD', KEYS[3], m)
    end
  else
    redis.call('SREM', KEYS[2], m)
  end
  redis.call('SREM', KEYS[3], m)
  return 0
end
-- Publishes "<version>:<count>" when the count changed; returns the current "<version>:<count>".
local function publish()
  local count = redis.call('SCARD', KEYS[3])
  if redis.call('GET', KEYS[6]) ~= tostring(count) then
    redis.call('SET', KEYS[6], count)
    local v = redis.call('INCR', KEYS[10])
    redis.call('PUBLISH', ARGV[2], v .. ':' .. count)
    return v .. ':' .. count
  end
  return (redis.call('GET', KEYS[10]) or '0') .. ':' .. count
end
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end
-- The last socket of a mitra is gone: the wish to be online goes with it.
local function drop_if_unplugged(m)
  if redis.call('ZCARD', P .. m) == 0 then
    redis.call('SREM', KEYS[1], m)
  end
end
"""

# ARGV 4 mitra, 5 connection id → {newly_available, count}
CONNECT = (
    PRELUDE
    + """
local m, conn = ARGV[4], ARGV[5]
local t = now()
redis.call('ZADD', P .. m, t, conn)
redis.call('ZADD', KEYS[7], t, m .. '|' .. conn)
local r = recompute(m, cap())
return {r, publish()}
"""
)

# ARGV 4 mitra, 5 connection id → {0, count}
DISCONNECT = (
    PRELUDE
    + """
local m, conn = ARGV[4], ARGV[5]
redis.call('ZREM', P .. m, conn)
redis.call('ZREM', KEYS[7], m .. '|' .. conn)
drop_if_unplugged(m)
recompute(m, cap())
return {0, publish()}
"""
)

# ARGV 4 mitra, 5 "1" (go online) | "0" → {newly_available (-1: no live socket), count}
SET_WANTS = (
    PRELUDE
    + """
local m = ARGV[4]
if ARGV[5] == '1' then
  if redis.call('ZCARD', P .. m) == 0 then
    return {-1, publish()}
  end
  redis.call('SADD', KEYS[1], m)
else
  redis.call('SREM', KEYS[1], m)
end
local r = recompute(m, cap())
return {r, publish()}
"""
)

# ARGV 4 mitra, 5 absolute count → {newly_available, count}
SET_ACTIVE = (
    PRELUDE
    + """
local m, n = ARGV[4], tonumber(ARGV[5])
if n > 0 then
  redis.call('HSET', KEYS[4], m, n)
else
  redis.call('HDEL', KEYS[4], m)
end
local r = recompute(m, cap())
return {r, publish()}
"""
)

# ARGV 4 new cap → {count, newly available mitras...}; a no-op when the cap is already stored.
SET_CAPACITY = (
    PRELUDE
    + """
if redis.call('GET', KEYS[5]) == ARGV[4] then
  return {publish()}
end
redis.call('SET', KEYS[5], ARGV[4])
local c = tonumber(ARGV[4])
local out = {0}
for _, m in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if recompute(m, c) == 1 then
    table.insert(out, m)
  end
end
out[1] = publish()
return out
"""
)

# ARGV 4.. pairs (mitra, count): replaces every counter → {count, newly available mitras...}
REBUILD_COUNTERS = (
    PRELUDE
    + """
redis.call('DEL', KEYS[4])
for i = 4, #ARGV, 2 do
  redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 1])
end
redis.call('SET', KEYS[9], '1')
local c = cap()
local out = {0}
for _, m in ipairs(redis.call('SUNION', KEYS[1], KEYS[2])) do
  if recompute(m, c) == 1 then
    table.insert(out, m)
  end
end
out[1] = publish()
return out
"""
)

# Recompute every mitra that wants to be or is online → {count, newly available mitras...}
RECOMPUTE_ALL = (
    PRELUDE
    + """
local c = cap()
local out = {0}
for _, m in ipairs(redis.call('SUNION', KEYS[1], KEYS[2])) do
  if recompute(m, c) == 1 then
    table.insert(out, m)
  end
end
for _, m in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  if redis.call('SISMEMBER', KEYS[2], m) == 0 then
    redis.call('SREM', KEYS[3], m)
  end
end
out[1] = publish()
return out
"""
)

# ARGV 4 stale-after seconds, 5 batch limit → number of connections reaped
REAP = (
    PRELUDE
    + """
local cutoff = now() - tonumber(ARGV[4])
local stale = redis.call('ZRANGEBYSCORE', KEYS[7], '-inf', cutoff, 'LIMIT', 0, tonumber(ARGV[5]))
if #stale == 0 then
  return 0
end
local touched = {}
for _, member in ipairs(stale) do
  local sep = string.find(member, '|', 1, true)
  local m = string.sub(member, 1, sep - 1)
  redis.call('ZREM', P .. m, string.sub(member, sep + 1))
  redis.call('ZREM', KEYS[7], member)
  touched[m] = true
end
local c = cap()
for m, _ in pairs(touched) do
  drop_if_unplugged(m)
  recompute(m, c)
end
publish()
return #stale
"""
)

# Heartbeat of this instance's sockets.
# ARGV 4 epoch to create if none, 5 the epoch this instance saw last, 6.. triples
# (mitra, connection, "1" if this instance believes the mitra wants to be online).
# When the epoch changed, Valkey lost its data: the wishes the instance remembers are restored.
# → {epoch, {mitra, wants, ...}, {newly available mitras...}, count}
REFRESH = (
    PRELUDE
    + """
local e = redis.call('GET', KEYS[8])
if not e then
  e = ARGV[4]
  redis.call('SET', KEYS[8], e)
end
local restore = e ~= ARGV[5]
local t = now()
local seen, order, dirty = {}, {}, {}
for i = 6, #ARGV, 3 do
  local m, conn = ARGV[i], ARGV[i + 1]
  local added = redis.call('ZADD', P .. m, t, conn)
  redis.call('ZADD', KEYS[7], t, m .. '|' .. conn)
  if restore and ARGV[i + 2] == '1' then
    redis.call('SADD', KEYS[1], m)
    dirty[m] = true
  end
  if added == 1 then
    dirty[m] = true
  end
  if not seen[m] then
    seen[m] = true
    table.insert(order, m)
  end
end
local c = cap()
local wants, newly = {}, {}
for _, m in ipairs(order) do
  if dirty[m] and recompute(m, c) == 1 then
    table.insert(newly, m)
  end
  table.insert(wants, m)
  table.insert(wants, redis.call('SISMEMBER', KEYS[1], m))
end
return {e, wants, newly, publish()}
"""
)
