#!/usr/bin/env bash
# queue_manager.sh: start, stop and inspect jobsmith workers.
#
# With supervisor installed and its program group configured (examples/supervisor), the
# actions drive supervisorctl. Otherwise the workers run in the background with nohup, one PID
# file each under storage/pids, and stop with SIGTERM: each finishes its running jobs within
# its --grace before it exits.
#
# Settings come from the environment (defaults in brackets); see `queue_manager.sh help`.
set -euo pipefail
# PID files, the worker log and the folders made for them are the operator's alone (0600 files
# in 0700 folders), as jobsmith's own files are; the workers started from here inherit it.
umask 077

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

APP_DIR="${APP_DIR:-$PWD}"
if [[ -z "${RUN:-}" ]]; then
  # Installed in an app: node_modules/.bin/run. In a jobsmith checkout: bin/run.
  if [[ -x "$SCRIPT_DIR/node_modules/.bin/run" ]]; then
    RUN="$SCRIPT_DIR/node_modules/.bin/run"
  else
    RUN="$SCRIPT_DIR/bin/run"
  fi
fi
QUEUES="${QUEUES:-default}"
WORKERS="${WORKERS:-1}"
GRACE="${GRACE:-30}"
WORKER_ARGS="${WORKER_ARGS:-}"
STORAGE_DIR="${STORAGE_DIR:-$APP_DIR/storage}"
PID_DIR="${PID_DIR:-$STORAGE_DIR/pids}"
LOG="${LOG:-$STORAGE_DIR/logs/worker.log}"
STOP_TIMEOUT="${STOP_TIMEOUT:-$((${GRACE//[!0-9]/} + 15))}"
START_WAIT="${START_WAIT:-10}"
TEST_TIMEOUT="${TEST_TIMEOUT:-30}"
TEST_QUEUE="${TEST_QUEUE:-${QUEUES%%,*}}"
SUPERVISOR="${SUPERVISOR:-auto}"
SUPERVISOR_GROUP="${SUPERVISOR_GROUP:-jobsmith}"
SUPERVISORCTL="${SUPERVISORCTL:-supervisorctl}"
SUPERVISOR_CONF="${SUPERVISOR_CONF:-}"

usage() {
  cat <<EOF
Usage: queue_manager.sh ACTION [ARGS]

Actions:
  start            start the workers (supervisorctl start, or WORKERS background processes)
  stop             stop them: SIGTERM, then wait while they finish their jobs
  restart          stop, then start
  status           show each worker; exit 0 when all run, 3 when some do not
  list [QUEUE...]  queue sizes (run queue:size)
  logs [-f]        the last lines of the worker log (-f follows it)
  test [--email A] with mail configured (MAIL_URL or MAIL_HOST): send the test emails through
                   the mail queue and wait until a worker sent them (run test:email; the
                   address is asked on a terminal); else dispatch the built-in jobsmith.ping
                   job and wait until a worker ran it
  help             this text

Environment:
  APP_DIR           folder with jobsmith.config.ts and .env      [current folder]
  RUN               the run executable          [node_modules/.bin/run or bin/run]
  QUEUES            queues in priority order, comma-separated    [default]
  WORKERS           background workers to start                  [1]
  GRACE             seconds a stopping worker gets for its jobs  [30]
  WORKER_ARGS       more queue:work flags, e.g. "--concurrency 4"
  STORAGE_DIR       PID files go to STORAGE_DIR/pids             [APP_DIR/storage]
  LOG               worker output (background mode)              [STORAGE_DIR/logs/worker.log]
  STOP_TIMEOUT      seconds stop waits before SIGKILL            [GRACE + 15]
  START_WAIT        seconds start waits for workers to come up   [10]
  TEST_QUEUE        queue the test ping goes to                  [first of QUEUES]
  TEST_TIMEOUT      seconds test waits for the ping or the mail  [30]
  SUPERVISOR        auto, yes or no: drive supervisorctl         [auto]
  SUPERVISOR_GROUP  supervisor program group                     [jobsmith]
  SUPERVISOR_CONF   supervisord conf for supervisorctl -c        [supervisor's default]

Exit codes: 0 success, 1 failure, 2 usage error, 3 (status) workers not running.
EOF
}

die() {
  printf 'Error: %s\n' "$1" >&2
  exit "${2:-1}"
}

# Checks that a setting is a whole number (exit 2 otherwise).
whole_number() {
  local name="$1" value="$2" min="$3"
  if ! [[ "$value" =~ ^[0-9]+$ ]] || ((value < min)); then
    die "$name must be a whole number >= $min, got \"$value\"." 2
  fi
}

run() {
  (cd "$APP_DIR" && "$RUN" "$@")
}

sctl() {
  if [[ -n "$SUPERVISOR_CONF" ]]; then
    "$SUPERVISORCTL" -c "$SUPERVISOR_CONF" "$@"
  else
    "$SUPERVISORCTL" "$@"
  fi
}

# True when supervisor should be used: SUPERVISOR=yes, or auto and supervisord knows the group.
use_supervisor() {
  case "$SUPERVISOR" in
    yes) return 0 ;;
    no) return 1 ;;
    auto)
      command -v "$SUPERVISORCTL" >/dev/null 2>&1 || return 1
      # Into a variable first: `grep -q` closing the pipe early would fail supervisorctl's
      # write, and with pipefail the whole check, at random.
      local available
      available="$(sctl avail 2>/dev/null)" || return 1
      grep -q "^${SUPERVISOR_GROUP}:" <<<"$available"
      ;;
    *) die "SUPERVISOR must be auto, yes or no, got \"$SUPERVISOR\"." 2 ;;
  esac
}

pid_file() {
  printf '%s/worker-%s.pid' "$PID_DIR" "$1"
}

# Prints the PID of worker N when it is running (and really is a queue:work process).
live_pid() {
  local file pid
  file="$(pid_file "$1")"
  [[ -f "$file" ]] || return 1
  pid="$(<"$file")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # A PID file outlives a reboot; a recycled PID that is not a worker does not count.
  local args
  args="$(command_line "$pid")" || return 1
  [[ "$args" == *queue:work* ]] || return 1
  printf '%s' "$pid"
}

# The command line of a process (/proc where there is one: slim images have no ps).
command_line() {
  if [[ -r "/proc/$1/cmdline" ]]; then
    tr '\0' ' ' <"/proc/$1/cmdline"
  else
    ps -p "$1" -o args= 2>/dev/null
  fi
}

# Numbers of the workers that have a PID file.
known_workers() {
  local file
  for file in "$PID_DIR"/worker-*.pid; do
    [[ -e "$file" ]] || continue
    file="${file##*/worker-}"
    printf '%s\n' "${file%.pid}"
  done | sort -n
}

start_background() {
  local extra=() i pid started=() dead=() host="${HOSTNAME:-$(hostname)}" offset=0
  read -r -a extra <<<"$WORKER_ARGS"
  mkdir -p "$PID_DIR" "$(dirname "$LOG")"
  # Only what the log gets from now on tells whether the new workers came up.
  if [[ -f "$LOG" ]]; then offset="$(wc -c <"$LOG")"; fi
  for ((i = 1; i <= WORKERS; i++)); do
    if pid="$(live_pid "$i")"; then
      echo "Worker $i is already running (pid $pid)."
      continue
    fi
    (
      cd "$APP_DIR"
      exec nohup "$RUN" queue:work --queue "$QUEUES" --grace "${GRACE}s" \
        --name "$host:worker-$i" "${extra[@]}" >>"$LOG" 2>&1 </dev/null
    ) &
    echo "$!" >"$(pid_file "$i")"
    started+=("$i")
  done
  ((${#started[@]} > 0)) || return 0
  # Wait until each new worker has logged its start line, or has exited (a broken config, a
  # bad flag), for up to START_WAIT seconds.
  local deadline=$((SECONDS + START_WAIT)) pending=("${started[@]}") output still
  while ((${#pending[@]} > 0 && SECONDS < deadline)); do
    sleep 0.2
    output="$(tail -c +"$((offset + 1))" "$LOG" 2>/dev/null)" || output=""
    still=()
    for i in "${pending[@]}"; do
      if ! live_pid "$i" >/dev/null; then
        dead+=("$i")
      elif [[ "$output" != *"Worker $host:worker-$i processing"* &&
        "$output" != *"\"name\":\"$host:worker-$i\""* ]]; then
        still+=("$i")
      fi
    done
    pending=("${still[@]}")
    ((${#dead[@]} == 0)) || break
  done
  if ((${#dead[@]} > 0)); then
    for i in "${dead[@]}"; do rm -f "$(pid_file "$i")"; done
    echo "Worker(s) ${dead[*]} exited right after starting. The end of $LOG:" >&2
    tail -n 15 "$LOG" >&2 || true
    exit 1
  fi
  for i in "${started[@]}"; do
    echo "Started worker $i (pid $(<"$(pid_file "$i")")), queues $QUEUES; output in $LOG."
  done
  if ((${#pending[@]} > 0)); then
    echo "Worker(s) ${pending[*]} still starting after ${START_WAIT}s; see queue_manager.sh logs." >&2
  fi
}

stop_background() {
  local i pid pids=() names=() workers
  workers="$(known_workers)"
  if [[ -z "$workers" ]]; then
    echo "No workers to stop (no PID files in $PID_DIR)."
    return 0
  fi
  for i in $workers; do
    if pid="$(live_pid "$i")"; then
      kill -TERM "$pid"
      pids+=("$pid")
      names+=("$i")
      echo "Stopping worker $i (pid $pid): finishing its jobs (up to ${GRACE}s)..."
    else
      rm -f "$(pid_file "$i")"
    fi
  done
  local deadline=$((SECONDS + STOP_TIMEOUT)) alive=("${pids[@]}")
  while ((${#alive[@]} > 0 && SECONDS < deadline)); do
    sleep 0.2
    local still=()
    for pid in "${alive[@]}"; do
      if kill -0 "$pid" 2>/dev/null; then still+=("$pid"); fi
    done
    alive=("${still[@]}")
  done
  for i in "${names[@]}"; do rm -f "$(pid_file "$i")"; done
  if ((${#alive[@]} > 0)); then
    kill -KILL "${alive[@]}" 2>/dev/null || true
    die "pid(s) ${alive[*]} did not stop within ${STOP_TIMEOUT}s and were killed; their jobs come back when their leases end."
  fi
  ((${#pids[@]} == 0)) || echo "Stopped ${#pids[@]} worker(s)."
}

status_background() {
  local i pid workers running=0 total=0
  workers="$(known_workers)"
  if [[ -z "$workers" ]]; then
    echo "No workers (no PID files in $PID_DIR)."
    return 3
  fi
  for i in $workers; do
    total=$((total + 1))
    if pid="$(live_pid "$i")"; then
      running=$((running + 1))
      echo "worker $i: RUNNING (pid $pid)"
    else
      echo "worker $i: STOPPED (stale PID file $(pid_file "$i"))"
    fi
  done
  ((running == total)) || return 3
}

# Dispatches jobsmith.ping with the highest priority and waits until it has left the queue;
# it passed unless it is then in the failed jobs.
ping_test() {
  local out id listed
  out="$(run queue:dispatch jobsmith.ping --payload '{"from":"queue_manager.sh"}' \
    --queue "$TEST_QUEUE" --priority 1000000 --json)" || die "could not dispatch the ping job."
  local pattern='"id": *"?([^",]+)'
  id=""
  if [[ "$out" =~ $pattern ]]; then id="${BASH_REMATCH[1]}"; fi
  [[ -n "$id" ]] || die "could not read the ping job's id from: $out"
  echo "Dispatched jobsmith.ping #$id on queue $TEST_QUEUE; waiting up to ${TEST_TIMEOUT}s for a worker..."
  local deadline=$((SECONDS + TEST_TIMEOUT))
  while ((SECONDS < deadline)); do
    # Only a successful listing that lacks the job means it left the queue.
    if listed="$(run queue:list "$TEST_QUEUE" --json --per-page 1000)" &&
      ! grep -Eq "\"id\": \"?${id}\"?,?\$" <<<"$listed"; then
      local failed
      failed="$(run queue:failed --name jobsmith.ping --since 1h --limit 1000 --json)" ||
        die "the ping job #$id left the queue, but the failed jobs cannot be read (run queue:failed)."
      if grep -Eq "\"original_id\": \"?${id}\"?,?\$" <<<"$failed"; then
        die "the ping job #$id failed; see run queue:failed --name jobsmith.ping."
      fi
      echo "OK: a worker ran jobsmith.ping #$id."
      return 0
    fi
    sleep 1
  done
  die "no worker ran the ping job #$id within ${TEST_TIMEOUT}s. Is a worker running for queue $TEST_QUEUE? (queue_manager.sh status)"
}

# With mail configured, `run test:email` (exit 3 when it is not: then the ping test). Its
# errors are held back until that is known; stdin and stdout stay on the terminal for the prompt.
mail_test() {
  local args=() errors code=0
  while (($# > 0)); do
    case "$1" in
      --email=*) args+=("$1") ;;
      --email)
        (($# > 1)) || die "--email needs an address." 2
        args+=("--email=$2")
        shift
        ;;
      *) die "test takes --email ADDRESS, got \"$1\"." 2 ;;
    esac
    shift
  done
  errors="$(mktemp)"
  run test:email "${args[@]}" --timeout "${TEST_TIMEOUT}s" 2>"$errors" || code=$?
  if ((code == 3)); then
    rm -f "$errors"
    ping_test
    return
  fi
  cat "$errors" >&2
  rm -f "$errors"
  return "$code"
}

show_logs() {
  local follow=()
  case "${1:-}" in
    "") ;;
    -f | --follow) follow=(-F) ;;
    *) die "logs takes -f (follow), got \"$1\"." 2 ;;
  esac
  [[ -f "$LOG" ]] || die "no log file at $LOG yet (set LOG to the workers' log)."
  tail -n "${LINES:-50}" "${follow[@]}" "$LOG"
}

main() {
  local action="${1:-}"
  [[ $# -eq 0 ]] || shift
  whole_number WORKERS "$WORKERS" 1
  whole_number GRACE "$GRACE" 0
  whole_number STOP_TIMEOUT "$STOP_TIMEOUT" 1
  whole_number TEST_TIMEOUT "$TEST_TIMEOUT" 1
  whole_number START_WAIT "$START_WAIT" 0
  case "$action" in
    start | stop | restart | status)
      if use_supervisor; then
        # supervisorctl waits for the stop itself, up to each program's stopwaitsecs.
        sctl "$action" "${SUPERVISOR_GROUP}:*"
      else
        case "$action" in
          start) start_background ;;
          stop) stop_background ;;
          restart) stop_background && start_background ;;
          status) status_background ;;
        esac
      fi
      ;;
    list) run queue:size "$@" ;;
    logs) show_logs "$@" ;;
    test) mail_test "$@" ;;
    help | -h | --help) usage ;;
    "")
      usage >&2
      exit 2
      ;;
    *)
      printf 'Error: unknown action "%s".\n\n' "$action" >&2
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
