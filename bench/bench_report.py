"""bench_report.py - tables, ratios and target checks of the claimfs bench.

Pure functions of the recorded results (no processes, no I/O but /proc and
git for the machine line). Cells are medians over rounds with min-max;
ratios are claimfs median over reference median; a target is judged on
medians only, and is 'n/a' when its workload did not run.
"""

import os
import platform
import statistics
import subprocess

from bench_procs import filesystem_of

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = ('native', 'passthrough', 'claimfs')
WORKLOADS = ('visits', 'sequential', 'random', 'metadata', 'provisioning', 'startup')

TARGET_CHECKS = [
    # (label, case, metric, kind, threshold); kinds: vs_native / vs_passthrough are
    # minimum ratios of claimfs to the reference, max / min absolute bounds on claimfs.
    ('visits O_TRUNC+fsync N=8 >= 5x native', 'visits O_TRUNC+fsync N=8', 'increments_per_s',
     'vs_native', 5.0),
    ('visits pwrite+fsync N=8 >= 1.0x passthrough', 'visits pwrite+fsync N=8',
     'increments_per_s', 'vs_passthrough', 1.0),
    ('visits pwrite no-fsync N=8 >= 1.0x passthrough', 'visits pwrite no-fsync N=8',
     'increments_per_s', 'vs_passthrough', 1.0),
    ('visits O_TRUNC no-fsync N=8 >= 1.0x passthrough', 'visits O_TRUNC no-fsync N=8',
     'increments_per_s', 'vs_passthrough', 1.0),
    ('sequential write incl. fsync >= 1.0x passthrough', 'sequential write+fsync', 'mib_per_s',
     'vs_passthrough', 1.0),
    ('sequential warm read >= 0.7x native', 'sequential read warm', 'mib_per_s', 'vs_native', 0.7),
    ('random 4k write, fsync/64 >= 1.0x passthrough', 'random 4k write, fsync/64', 'iops',
     'vs_passthrough', 1.0),
    ('metadata create >= 1.5x passthrough', 'metadata create', 'ops_per_s', 'vs_passthrough', 1.5),
    ('metadata stat >= 1.0x passthrough', 'metadata stat', 'ops_per_s', 'vs_passthrough', 1.0),
    ('metadata unlink >= 1.0x passthrough', 'metadata unlink', 'ops_per_s', 'vs_passthrough', 1.0),
    ('rename of a 10,000-entry directory <= 10 ms', 'metadata rename', 'rename_ms', 'max', 10.0),
    ('provisioning sequential >= 1,000 claims/s', 'provisioning', 'create_per_s', 'min', 1000.0),
    ('provisioning sequential p99 <= 5 ms', 'provisioning', 'create_p99_ms', 'max', 5.0),
    ('start-up with 10,000 claims <= 300 ms (warm cache)', 'start-up', 'ready_ms', 'max', 300.0),
    ('claimfsd peak RSS <= 64 MiB', 'memory', 'hwm_mib', 'max', 64.0),
]


def fmt(value):
    """Compact number."""
    if value is None:
        return '-'
    a = abs(value)
    if a >= 1000:
        return '{:,.0f}'.format(value)
    if a >= 100:
        return '%.0f' % value
    if a >= 10:
        return '%.1f' % value
    return '%.2f' % value


def summarize(values):
    if not values:
        return None
    return {'median': statistics.median(values), 'min': min(values), 'max': max(values),
            'runs': values}


class Report:
    """Tables and target checks from a Bench."""

    def __init__(self, bench):
        self.bench = bench
        self.summary = {}  # case -> metric -> target -> summary
        for case in bench.case_order:
            _, metrics = bench.case_info[case]
            self.summary[case] = {}
            for metric, _, _ in metrics:
                self.summary[case][metric] = {}
                for t in TARGETS:
                    runs = bench.results[case].get(t, [])
                    vals = [r[metric] for r in runs if r.get(metric) is not None]
                    self.summary[case][metric][t] = summarize(vals)
        hwm = max((m[1] for m in bench.memory), default=None)
        self.memory_mib = hwm / 1024.0 if hwm is not None else None

    def median(self, case, metric, target):
        s = self.summary.get(case, {}).get(metric, {}).get(target)
        return s['median'] if s else None

    def find_case(self, prefix, metric):
        """The first case starting with PREFIX (labels carry sizes) that has METRIC."""
        for case in self.bench.case_order:
            if case.startswith(prefix) and metric in self.summary[case]:
                if prefix == 'provisioning' and 'sequential' not in case:
                    continue
                if prefix == 'start-up' and 'warm' not in case:
                    continue
                return case
        return None

    def checks(self):
        out = []
        for label, prefix, metric, kind, threshold in TARGET_CHECKS:
            if prefix == 'memory':
                value, shown = self.memory_mib, None
                if value is not None:
                    shown = '%.1f MiB' % value
            else:
                case = self.find_case(prefix, metric)
                value = shown = None
                if case:
                    cf = self.median(case, metric, 'claimfs')
                    if kind in ('vs_native', 'vs_passthrough'):
                        ref = self.median(case, metric, kind[3:])
                        if cf is not None and ref:
                            value = cf / ref
                            shown = '%.2fx (%s vs %s)' % (value, fmt(cf), fmt(ref))
                    else:
                        value = cf
                        if cf is not None:
                            shown = fmt(cf)
            if value is None:
                verdict = 'n/a'
            elif kind == 'max':
                verdict = 'PASS' if value <= threshold else 'FAIL'
            else:
                verdict = 'PASS' if value >= threshold else 'FAIL'
            out.append({'target': label, 'value': value, 'shown': shown, 'verdict': verdict})
        return out

    def cell(self, s):
        if not s:
            return '-'
        if len(s['runs']) == 1:
            return fmt(s['median'])
        return '%s [%s–%s]' % (fmt(s['median']), fmt(s['min']), fmt(s['max']))

    def tables(self):
        """Markdown tables, one per workload."""
        lines = []
        for workload in WORKLOADS:
            cases = [c for c in self.bench.case_order if self.bench.case_info[c][0] == workload]
            if not cases:
                continue
            lines.append('### %s' % workload)
            lines.append('')
            lines.append('| case | metric | native | passthrough | claimfs | cf/native '
                         '| cf/passthrough |')
            lines.append('|---|---|---:|---:|---:|---:|---:|')
            for case in cases:
                for metric, label, better in self.bench.case_info[case][1]:
                    s = self.summary[case][metric]
                    cf = s['claimfs']['median'] if s['claimfs'] else None
                    ratios = []
                    for ref in ('native', 'passthrough'):
                        if cf is not None and s[ref] and s[ref]['median']:
                            ratios.append('%.2fx' % (cf / s[ref]['median']))
                        else:
                            ratios.append('-')
                    arrow = '↑' if better == 'higher' else '↓'
                    lines.append('| %s | %s %s | %s | %s | %s | %s | %s |' % (
                        case, label, arrow, self.cell(s['native']), self.cell(s['passthrough']),
                        self.cell(s['claimfs']), ratios[0], ratios[1]))
            lines.append('')
        if self.bench.memory:
            lines.append('### memory (claimfsd of the main bench, after each workload)')
            lines.append('')
            lines.append('| after | VmHWM MiB | VmRSS MiB |')
            lines.append('|---|---:|---:|')
            for after, hwm, rss in self.bench.memory:
                lines.append('| %s | %.1f | %.1f |' % (after, hwm / 1024.0, rss / 1024.0))
            lines.append('')
        return '\n'.join(lines)

    def checks_table(self, checks, quick):
        lines = ['### targets' + (' (quick mode: tiny sizes, indicative only)' if quick else ''),
                 '', '| target | claimfs | verdict |', '|---|---|---|']
        for c in checks:
            lines.append('| %s | %s | %s |' % (c['target'], c['shown'] or '-', c['verdict']))
        lines.append('')
        return '\n'.join(lines)


def machine_info(workdir):
    cpu = '?'
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    mem_kib = 0
    try:
        with open('/proc/meminfo', encoding='ascii') as f:
            for line in f:
                if line.startswith('MemTotal:'):
                    mem_kib = int(line.split()[1])
    except OSError:
        pass
    fstype, source = filesystem_of(workdir)
    commit = subprocess.run(['git', '-C', REPO, 'describe', '--always', '--dirty'],
                            capture_output=True, text=True, check=False).stdout.strip()
    return {'nproc': os.cpu_count(), 'cpu': cpu, 'kernel': platform.release(),
            'memory_gib': round(mem_kib / 1048576.0, 1), 'filesystem': fstype,
            'device': source, 'commit': commit or '?',
            'loadavg': ' '.join('%.2f' % x for x in os.getloadavg())}

