#!/bin/sh
# The DaemonSet's command: capture handshakes on this node in bounded rounds and write one synscope JSON
# report per round, stamped with the node name, to $REPORT_DIR. Runs as well outside a container (the
# tests run it against fixtures/demo.pcap with CAPTURE_FILE instead of a live tcpdump).
#
# Environment (defaults in brackets):
#   NODE_NAME         node name stamped into each report (the DaemonSet passes spec.nodeName) [hostname]
#   CAPTURE_SECONDS   length of one capture round; tcpdump is stopped with SIGINT after it [300]
#   ROUNDS            rounds to run, 0 = until the pod is stopped [0]
#   INTERFACE         tcpdump interface [any]
#   SNAPLEN           bytes kept per packet [160]
#   CAPTURE_FILTER    BPF filter [the one synscope recommends, below]
#   REPORT_DIR        where reports go; latest.json is the newest [/reports]
#   KEEP_REPORTS      reports kept per node in REPORT_DIR, older ones deleted [144 = 12 h of 5-min rounds]
#   PROC_NET_IPV4     where ip_local_port_range / ip_local_reserved_ports are read [/proc/sys/net/ipv4]
#   SYNSCOPE          the synscope command [synscope]
#   TCPDUMP           the tcpdump command [tcpdump]
#   CAPTURE_FILE      analyse this capture instead of running tcpdump (tests, replays) []
#   SYNSCOPE_ARGS     extra flags for synscope analyze, e.g. "--ack-timeout 5" []
set -u

NODE_NAME=${NODE_NAME:-$(hostname)}
CAPTURE_SECONDS=${CAPTURE_SECONDS:-300}
ROUNDS=${ROUNDS:-0}
INTERFACE=${INTERFACE:-any}
SNAPLEN=${SNAPLEN:-160}
# Keep in sync with src/live/filter.ts (CAPTURE_FILTER); test/deploy.test.ts checks they are equal.
DEFAULT_FILTER='(tcp[tcpflags] & (tcp-syn|tcp-rst|tcp-fin) != 0 or (tcp[tcpflags] & (tcp-syn|tcp-rst|tcp-fin|tcp-ack) == tcp-ack and ip[2:2] - ((ip[0] & 0x0f) << 2) - ((tcp[12] & 0xf0) >> 2) == 0)) or (ip6[6] == 6 and (ip6[53] & 0x07 != 0 or (ip6[53] & 0x17 == 0x10 and ip6[4:2] - ((ip6[52] & 0xf0) >> 2) == 0))) or (ip6 and ip6[6] != 6 and ip6[6] != 17 and ip6[6] != 58)'
CAPTURE_FILTER=${CAPTURE_FILTER:-$DEFAULT_FILTER}
REPORT_DIR=${REPORT_DIR:-/reports}
KEEP_REPORTS=${KEEP_REPORTS:-144}
PROC_NET_IPV4=${PROC_NET_IPV4:-/proc/sys/net/ipv4}
SYNSCOPE=${SYNSCOPE:-synscope}
TCPDUMP=${TCPDUMP:-tcpdump}
CAPTURE_FILE=${CAPTURE_FILE:-}
SYNSCOPE_ARGS=${SYNSCOPE_ARGS:-}

log() { printf '%s synscope-node %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$NODE_NAME" "$*" >&2; }

case $NODE_NAME in
  '' | */* | .*) log "NODE_NAME '$NODE_NAME' cannot name a report file"; exit 2 ;;
esac
mkdir -p "$REPORT_DIR" || { log "cannot create REPORT_DIR $REPORT_DIR"; exit 2; }

# SIGTERM (pod deletion): stop the capture; synscope then writes the report of the partial round.
stopping=0
capture_pid=
on_term() {
  stopping=1
  [ -n "$capture_pid" ] && kill -INT "$capture_pid" 2>/dev/null
}
trap on_term TERM INT

round=0
while :; do
  round=$((round + 1))
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  report="$REPORT_DIR/$NODE_NAME-$stamp.json"
  sysctl="$REPORT_DIR/.$NODE_NAME-sysctl.txt"
  # The node's own ephemeral range (hostNetwork: this is the node's network namespace).
  {
    printf 'net.ipv4.ip_local_port_range = %s\n' "$(cat "$PROC_NET_IPV4/ip_local_port_range" 2>/dev/null)"
    printf 'net.ipv4.ip_local_reserved_ports = %s\n' "$(cat "$PROC_NET_IPV4/ip_local_reserved_ports" 2>/dev/null)"
  } > "$sysctl"
  sysctl_flag="--sysctl $sysctl"
  grep -q 'ip_local_port_range = [0-9]' "$sysctl" || sysctl_flag=

  fifo="$REPORT_DIR/.$NODE_NAME-capture.fifo"
  rm -f "$fifo" && mkfifo "$fifo" || { log "cannot create $fifo"; exit 2; }
  if [ -n "$CAPTURE_FILE" ]; then
    cat "$CAPTURE_FILE" > "$fifo" &
  else
    # -p: no promiscuous mode (not needed, and it would need NET_ADMIN); -U --immediate-mode: each packet
    # reaches synscope at once (without it the kernel holds packets up to ~1 s, and SIGINT drops them);
    # timeout bounds the round: SIGINT makes tcpdump flush and exit cleanly, ending the pipe.
    timeout -s INT "$CAPTURE_SECONDS" $TCPDUMP -i "$INTERFACE" -p -n -s "$SNAPLEN" -U --immediate-mode -w - "$CAPTURE_FILTER" > "$fifo" 2>"$REPORT_DIR/.$NODE_NAME-tcpdump.log" &
  fi
  capture_pid=$!
  # shellcheck disable=SC2086 # word splitting of the optional flags is intended
  $SYNSCOPE analyze - --node "$NODE_NAME" --format json --output "$report.part" $sysctl_flag $SYNSCOPE_ARGS < "$fifo" &
  synscope_pid=$!
  # In the background and waited for, so a SIGTERM is handled at once (a foreground command would defer
  # the trap until it ends); a wait cut short by the trap is repeated until synscope has really exited.
  while :; do
    wait "$synscope_pid"
    status=$?
    kill -0 "$synscope_pid" 2>/dev/null || break
  done
  wait "$capture_pid" 2>/dev/null
  capture_pid=
  rm -f "$fifo"
  if [ -s "$report.part" ] && [ "$status" -ne 2 ]; then
    mv "$report.part" "$report"
    cp "$report" "$REPORT_DIR/.latest.tmp" && mv "$REPORT_DIR/.latest.tmp" "$REPORT_DIR/latest.json"
    # One line for `kubectl logs`: the verdict and the counts.
    log "round $round: $(sed -n 's/^    "verdict": "\(.*\)",*$/verdict \1/p' "$report" | head -n 1), report $report (synscope exit $status)"
  else
    log "round $round: no report (synscope exit $status); tcpdump said: $(tail -n 2 "$REPORT_DIR/.$NODE_NAME-tcpdump.log" 2>/dev/null | tr '\n' ' ')"
    rm -f "$report.part"
  fi
  # Bounded disk: keep the newest KEEP_REPORTS reports of this node.
  ls -1 "$REPORT_DIR" | grep "^$NODE_NAME-[0-9TZ]*\.json$" | sort | head -n "-$KEEP_REPORTS" | while read -r old; do rm -f "$REPORT_DIR/$old"; done
  if [ "$stopping" -eq 1 ] || { [ "$ROUNDS" -gt 0 ] && [ "$round" -ge "$ROUNDS" ]; }; then
    [ "$status" -eq 2 ] && exit 2
    exit 0
  fi
done
