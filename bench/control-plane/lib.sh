# Helpers shared by etcd-cluster and herd-cluster (sourced). Members are processes started in the
# background with their output in WORKDIR/NAME.log and their pid in WORKDIR/pids/NAME.pid; the pid is
# the process listening on the member's client port, so a launcher script in front of it does not matter.

bench_fail() {
  echo "$(basename "$0"): $*" >&2
  exit 1
}

# The pid of the process listening on 127.0.0.1:PORT, or nothing.
bench_pid_listening_on() {
  { ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2; } || true
}

bench_require_port_free() { # PORT NAME
  if ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; then
    bench_fail "port $1 for member $2 is already in use; stop whatever listens there or choose other ports (see the PORT variables at the top of this script)"
  fi
}

# Waits until a process listens on PORT and records its pid; fails with the end of the member's log.
bench_wait_listening() { # WORKDIR NAME PORT LAUNCHED_PID
  local workdir=$1 name=$2 port=$3 launched=$4 pid deadline=$((SECONDS + 120))
  while [ "$SECONDS" -lt "$deadline" ]; do
    pid=$(bench_pid_listening_on "$port")
    if [ -n "$pid" ]; then
      echo "$pid" >"$workdir/pids/$name.pid"
      return 0
    fi
    if ! kill -0 "$launched" 2>/dev/null; then
      tail -n 20 "$workdir/$name.log" >&2 || true
      bench_fail "member $name exited before it listened on port $port; its log is $workdir/$name.log (end above)"
    fi
    sleep 0.1
  done
  tail -n 20 "$workdir/$name.log" >&2 || true
  bench_fail "member $name did not listen on port $port within 120 s; its log is $workdir/$name.log (end above)"
}

# Stops every member recorded in WORKDIR/pids: SIGTERM, then SIGKILL after 10 s. Only a pid that still
# listens on the member's port is signalled, so a pid reused by another process is left alone.
bench_stop_all() { # WORKDIR PORT_OF_FUNCTION
  local workdir=$1 port_of=$2 file name pid port
  for file in "$workdir"/pids/*.pid; do
    [ -e "$file" ] || continue
    name=$(basename "$file" .pid)
    pid=$(cat "$file")
    port=$("$port_of" "$name")
    if [ "$(bench_pid_listening_on "$port")" = "$pid" ]; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$file"
  done
}

# One run of an alternation (builds-ab, systems-ab), a line per workload of the load generator's
# TSV: "LABEL ROUND WORKLOAD OPS ops/s p50 P50 ms p99 P99 ms".
bench_alternation_line() { # LABEL ROUND TSV
  awk -v label="$1" -v round="$2" -F'\t' '$1 == "workload" {
    printf "%-5s %2s  %-8s %8.0f ops/s  p50 %6.2f ms  p99 %6.2f ms\n", label, round, $2, $3, $4, $5 }' "$3"
}

# Medians of an alternation: RUNS_FILE holds lines of bench_alternation_line; prints, per workload,
# the median rate and p99 of label A and of label B over the rounds, and B's rate over A's.
bench_alternation_medians() { # RUNS_FILE A B
  awk -v a="$2" -v b="$3" '{ key = $3 SUBSEP $1; rate[key] = rate[key] " " $4; p99[key] = p99[key] " " $(NF-1); seen[$3] = 1 }
    function median(list,   n, v, i, j, t) {
      n = split(list, v, " ")
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
      return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }
    END {
      for (w in seen) {
        ra = median(rate[w SUBSEP a]); rb = median(rate[w SUBSEP b])
        printf "%-8s %s %8.0f (%6.2f)  %s %8.0f (%6.2f)  %s/%s %.2f\n", w, a, ra, median(p99[w SUBSEP a]), b, rb, median(p99[w SUBSEP b]), b, a, rb / ra
      }
    }' "$1"
}
