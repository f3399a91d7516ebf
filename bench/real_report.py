"""real_report.py - the table of the bench's `real` group, with the issue's
targets as a verdict column (pure functions of the recorded results).

A row is one metric of one case. Its target is written out in the row
("≤ 1.0× passthrough, ≤ 2× native" for a time, "≥ ..." for a rate,
"≤ 2.5 ms/MiB" for daemon CPU); its verdict is PASS when every part of
the target that can be judged holds, FAIL when one does not, and n/a when
none can be judged (a target did not run). Judged on medians only.
"""

REAL_ORDER = ('tar', 'dd', 'postgres', 'sqlite', 'git', 'cold-read')


def target_text(parts, better, medians):
    """The target in words; a reference that did not run is marked so."""
    sign = '≤' if better == 'lower' else '≥'
    out = []
    for ref, bound in parts:
        if ref == 'abs':
            out.append('%s %g ms/MiB' % (sign, bound))
        else:
            out.append('%s %g× %s%s' % (sign, bound, ref,
                                         '' if medians.get(ref) else ' (not run)'))
    return ', '.join(out)


def judge(parts, better, medians):
    """(verdict, shown) of one row; medians: target -> median or None."""
    cf = medians.get('claimfs')
    verdicts = []
    for ref, bound in parts:
        if cf is None:
            continue
        if ref == 'abs':
            value = cf
        elif medians.get(ref):
            value = cf / medians[ref]
        else:
            continue
        verdicts.append(value <= bound if better == 'lower' else value >= bound)
    if not verdicts:
        return 'n/a'
    return 'PASS' if all(verdicts) else 'FAIL'


def real_rows(report, rules):
    """[(workload, case, label, better, medians, cells, ratios, target, verdict)]."""
    bench = report.bench
    rows = []
    for workload in REAL_ORDER:
        for case in bench.case_order:
            if bench.case_info[case][0] != workload:
                continue
            for metric, label, better in bench.case_info[case][1]:
                s = report.summary[case][metric]
                medians = {t: (s[t]['median'] if s[t] else None) for t in s}
                ratios = []
                for ref in ('native', 'passthrough'):
                    cf = medians.get('claimfs')
                    ratios.append('%.2fx' % (cf / medians[ref]) if cf is not None and medians[ref]
                                  else '-')
                parts = rules.get(case, {}).get(metric)
                target = target_text(parts, better, medians) if parts else '-'
                verdict = judge(parts, better, medians) if parts else '-'
                rows.append((workload, case, label, better, medians,
                             [report.cell(s[t]) for t in ('native', 'passthrough', 'claimfs')],
                             ratios, target, verdict))
    return rows


def real_table(report, rules):
    """The markdown table; empty when the real group did not run."""
    rows = real_rows(report, rules)
    if not rows:
        return ''
    lines = ['### real workloads', '',
             '| case | metric | native | passthrough | claimfs | cf/native | cf/passthrough '
             '| target (claimfs) | verdict |',
             '|---|---|---:|---:|---:|---:|---:|---|---|']
    for _w, case, label, better, _m, cells, ratios, target, verdict in rows:
        lines.append('| %s | %s %s | %s | %s | %s | %s | %s | %s | %s |' % (
            case, label, '↑' if better == 'higher' else '↓', cells[0], cells[1], cells[2],
            ratios[0], ratios[1], target, verdict))
    verdicts = [r[8] for r in rows if r[8] in ('PASS', 'FAIL')]
    lines.append('')
    lines.append('Real-workload targets: %d PASS, %d FAIL of %d judged.'
                 % (verdicts.count('PASS'), verdicts.count('FAIL'), len(verdicts)))
    lines.append('')
    return '\n'.join(lines)


def real_verdicts(report, rules):
    """The verdicts as JSON-able records."""
    return [{'case': case, 'metric': label, 'target': target, 'verdict': verdict,
             'medians': medians}
            for _w, case, label, _b, medians, _c, _r, target, verdict in real_rows(report, rules)
            if verdict != '-']

