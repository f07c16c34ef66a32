#!/usr/bin/env python3
"""What the machine ran while the slowest messages of a `gochat-load seq` run waited.

A percentile says how slow the tail is, not why. This lines up the run's trace (`seq --trace`,
one line per message: sent on CLOCK_MONOTONIC, send → accepted and send → receive in µs) with
`perf sched timehist` of the same seconds (recorded with `-k CLOCK_MONOTONIC`, the same clock),
and prints, for the slow messages and for the fast ones, how long each thread ran on either core
while they waited, then how many slow messages overlapped a long run (over 0.3 ms) of which
server thread. Threads of the server are marked `S:`, of the load generator `L:`.

    gochat-load --url … seq --messages 20000 --trace /tmp/seq.trace &
    sleep 3; perf sched record -k CLOCK_MONOTONIC -o /tmp/sched.data -- sleep 3
    perf sched timehist -i /tmp/sched.data > /tmp/timehist.txt
    scripts/tail-blame.py /tmp/seq.trace /tmp/timehist.txt SERVER_PID [--slow-us 600] [--show 5]
"""

import argparse
import bisect
import collections
import re

LONG_RUN = 300e-6


def runs_of(timehist, server_pid, load_pids):
    """(start, end, cpu, thread) of every run in the timehist, sorted by start."""
    runs = []
    for line in open(timehist):
        p = line.split()
        try:
            end, cpu, name, run_ms = float(p[0]), int(p[1].strip('[]')), p[2], float(p[5])
        except (IndexError, ValueError):
            continue  # header lines
        thread = re.sub(r'\[.*', '', name)
        pids = re.search(r'\[(\d+)(?:/(\d+))?\]', name)
        pid = pids.group(2) or pids.group(1) if pids else ''
        if pid == server_pid:
            thread = 'S:' + thread
        elif pid in load_pids:
            thread = 'L:' + thread
        runs.append((end - run_ms / 1000, end, cpu, thread))
    runs.sort()
    return runs


def overlapping(runs, starts, begin, end):
    i = bisect.bisect_left(starts, begin - 0.05)  # no run is longer than 50 ms
    for run in runs[i:]:
        if run[0] > end:
            break
        if min(run[1], end) > max(run[0], begin):
            yield run


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('trace')
    ap.add_argument('timehist')
    ap.add_argument('server_pid')
    ap.add_argument('--load-pid', action='append', default=[], help="the load generator's pid (default: every gochat-load)")
    ap.add_argument('--slow-us', type=int, default=600, help='send → receive from which a message is slow')
    ap.add_argument('--show', type=int, default=0, help='print the timeline of this many slow messages')
    args = ap.parse_args()

    runs = runs_of(args.timehist, args.server_pid, set(args.load_pid))
    if not args.load_pid:
        runs = [(a, b, c, 'L:' + t if t in ('gochat-load', 'tokio-rt-worker') else t) for a, b, c, t in runs]
    starts = [r[0] for r in runs]
    first, last = runs[0][0], runs[-1][1]
    messages = []
    for line in open(args.trace):
        if line.startswith('#'):
            continue
        sent, _accepted, received = line.split()
        sent, received = float(sent), int(received) / 1e6
        if first < sent and sent + received < last:
            messages.append((sent, received))
    if not messages:
        raise SystemExit('no message of the trace falls within the timehist: same clock (-k CLOCK_MONOTONIC)?')
    latencies = sorted(r for _, r in messages)
    print(f'{len(messages)} messages within the timehist; send → receive p50 {latencies[len(latencies) // 2] * 1e6:.0f} µs, '
          f'p99 {latencies[int(len(latencies) * 0.99)] * 1e6:.0f} µs')

    slow = [m for m in messages if m[1] * 1e6 >= args.slow_us]
    fast = [m for m in messages if m[1] * 1e6 < args.slow_us / 2]
    for label, group in (('slow', slow), (f'fast (under {args.slow_us // 2} µs)', fast)):
        if not group:
            continue
        ran = collections.Counter()
        for sent, waited in group:
            for a, b, _, thread in overlapping(runs, starts, sent, sent + waited):
                ran[thread] += (min(b, sent + waited) - max(a, sent)) * 1e6
        mean = sum(w for _, w in group) / len(group) * 1e6
        print(f'\n{label}: {len(group)} messages, mean {mean:.0f} µs; µs each thread ran (both cores) per message:')
        for thread, us in ran.most_common(12):
            print(f'  {thread:28s} {us / len(group):8.1f}')

    print(f'\nslow messages by the long runs (over {LONG_RUN * 1e6:.0f} µs) they overlapped:')
    kinds, waits = collections.Counter(), collections.defaultdict(list)
    for sent, waited in slow:
        long_runs = {t[2:] if t.startswith('S:') else 'other' for a, b, _, t in overlapping(runs, starts, sent, sent + waited)
                     if b - a > LONG_RUN and not t.startswith(('L:', '<idle>')) and 'tokio' not in t}
        kind = ' + '.join(sorted(long_runs)) or 'none'
        kinds[kind] += 1
        waits[kind].append(waited)
    for kind, n in kinds.most_common():
        print(f'  {n:5d}  {kind:50s} median {sorted(waits[kind])[n // 2] * 1e6:.0f} µs')

    for sent, waited in slow[:args.show]:
        print(f'\nmessage sent at {sent:.6f}, received after {waited * 1e6:.0f} µs (times from its sending, µs):')
        for a, b, cpu, thread in overlapping(runs, starts, sent - 0.0003, sent + waited):
            print(f'  cpu{cpu} {(a - sent) * 1e6:8.0f} .. {(b - sent) * 1e6:8.0f}  {thread}')


if __name__ == '__main__':
    main()
