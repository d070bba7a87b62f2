#!/usr/bin/env bash
# Server CPU per request of the Services demo against another /ping server (HttpPing) under the same wrk load:
# interleaved rounds, server pinned to core 1, wrk to core 0, CPU = utime+stime of the server from /proc/PID/stat.
#   samples/Services/compare-cpu.sh SERVICES_DLL OTHER_DLL [ROUNDS] [SECONDS]
#   e.g. dotnet publish samples/Services -c Release -o /tmp/services
#        dotnet publish samples/HttpPing -c Release -o /tmp/httpping
#        samples/Services/compare-cpu.sh /tmp/services/Services.dll /tmp/httpping/HttpPing.dll 3 5
# Configs: c100 = wrk -t1 -c100; c100p16 = the same with 16 pipelined requests per write; timeline = the
# demo's /timeline/alice with the bearer token (HTTP front + two backend calls, all in the one process).
set -u
services=$1 other=$2 rounds=${3:-3} secs=${4:-5}
tck=$(getconf CLK_TCK)
log=$(mktemp -d)
pipeline=$log/pipeline.lua
cat > "$pipeline" <<'LUA'
init = function(args)
   local r = {}
   for i = 1, tonumber(args[1]) or 16 do r[i] = wrk.format(nil, nil) end
   req = table.concat(r)
end
request = function() return req end
LUA

run_one() { # label dll config
  local label=$1 dll=$2 cfg=$3 port=$((20000 + RANDOM % 20000))
  taskset -c 1 dotnet "$dll" $port > "$log/$label.log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do grep -q listening "$log/$label.log" && break; sleep 0.1; done
  local url=http://127.0.0.1:$port/ping args=()
  case $cfg in
    c100p16) args=(-s "$pipeline") ;;
    timeline) url=http://127.0.0.1:$port/timeline/alice; args=(-H "Authorization: Bearer demo") ;;
  esac
  local tail=(); [ "$cfg" = c100p16 ] && tail=(-- 16)
  taskset -c 0 wrk -t1 -c100 -d2s "${args[@]}" "$url" "${tail[@]}" > /dev/null 2>&1       # warm-up
  local c0; c0=$(awk '{print $14+$15}' /proc/$pid/stat)
  local out; out=$(taskset -c 0 wrk -t1 -c100 -d${secs}s "${args[@]}" "$url" "${tail[@]}" 2>&1)
  local c1; c1=$(awk '{print $14+$15}' /proc/$pid/stat)
  kill -TERM $pid; wait $pid 2> /dev/null
  local requests; requests=$(echo "$out" | awk '/requests in/ {print $1}')
  local rate; rate=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  local errors; errors=$(echo "$out" | awk '/Non-2xx/ {print $5}')
  awk -v n="$label" -v g="$cfg" -v q="$rate" -v c=$((c1 - c0)) -v t="$tck" -v r="$requests" -v s="$secs" -v e="${errors:-0}" \
    'BEGIN { printf "%s\t%s\t%s\t%.2f\t%.0f\t%s\n", n, g, q, c / t * 1e6 / r, c / t / s * 100, e }'
}

printf 'server\tconfig\treq/s\tcpu_us/req\tsrv%%\tnon2xx\n'
for _ in $(seq "$rounds"); do
  for cfg in c100 c100p16; do
    run_one services "$services" $cfg
    run_one other "$other" $cfg
  done
  run_one services "$services" timeline
done
rm -rf "$log"
