#!/usr/bin/env python3
"""helm_render.py - render the claimfs Helm chart where helm is not installed.

Debian 12 has no helm package, so CI renders deploy/helm/claimfs with this
interpreter of the small subset of Go templates the chart uses:

    {{ .Values.a.b }}  {{ .Release.Namespace }}  {{ .Release.Name }}
    {{ .Release.Service }}  {{ .Chart.Name }}  {{ .Chart.Version }}
    {{ .Chart.AppVersion }}  {{ quote EXPR }}  {{ if EXPR }} {{ else }} {{ end }}
    {{/* comments */}}  and the {{- -}} whitespace trimming

Anything else in a template is an error, so the chart cannot drift into
syntax this renderer would silently get wrong. When helm is on PATH the test
uses `helm template` as well and compares the two.

    helm_render.py CHART_DIR [--namespace NS] [--set path.to.value=VALUE ...]
"""

import argparse
import json
import os
import re
import sys

import yaml

TOKEN = re.compile(r'{{(-?)(.*?)(-?)}}', re.S)


class TemplateError(Exception):
    """A template uses syntax outside the supported subset."""


def lookup(ctx, expr):
    """Value of .A.B.C in ctx; TemplateError for missing keys (helm would print <no value>)."""
    if not re.fullmatch(r'(\.[A-Za-z_][A-Za-z0-9_]*)+', expr):
        raise TemplateError('unsupported expression %r' % expr)
    value = ctx
    for part in expr[1:].split('.'):
        if not isinstance(value, dict) or part not in value:
            raise TemplateError('%s is not defined' % expr)
        value = value[part]
    return value


def evaluate(ctx, expr):
    """Evaluate one pipeline-free expression."""
    words = expr.split()
    if len(words) == 2 and words[0] == 'quote':
        return json.dumps(to_text(lookup(ctx, words[1])))
    if len(words) == 1:
        return lookup(ctx, words[0])
    raise TemplateError('unsupported expression %r' % expr)


def to_text(value):
    """Go's default formatting for the value types in values.yaml."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if value is None:
        raise TemplateError('nil value in output')
    if isinstance(value, (dict, list)):
        raise TemplateError('a map or list cannot be printed without toYaml')
    return str(value)


def truthy(value):
    """Go template truth: false, 0, nil and empty values are false."""
    return bool(value)


def render(text, ctx):
    """Render one template text."""
    parts = []
    pos = 0
    for m in TOKEN.finditer(text):
        parts.append({'text': text[pos:m.start()]})
        parts.append({'action': m.group(2).strip(), 'left': m.group(1) == '-', 'right': m.group(3) == '-'})
        pos = m.end()
    parts.append({'text': text[pos:]})
    for i, part in enumerate(parts):
        if 'action' in part:
            if part['left']:
                parts[i - 1]['text'] = parts[i - 1]['text'].rstrip(' \t\r\n')
            if part['right']:
                parts[i + 1]['text'] = parts[i + 1]['text'].lstrip(' \t\r\n')
    out = []
    stack = []      # (active before the if, condition value, in else)
    active = True
    for part in parts:
        if 'text' in part:
            if active:
                out.append(part['text'])
            continue
        action = part['action']
        if action.startswith('/*') and action.endswith('*/'):
            continue
        if action.startswith('if '):
            cond = truthy(evaluate(ctx, action[3:].strip())) if active else False
            stack.append((active, cond, False))
            active = active and cond
        elif action == 'else':
            if not stack or stack[-1][2]:
                raise TemplateError('else without if')
            outer, cond, _ = stack.pop()
            stack.append((outer, cond, True))
            active = outer and not cond
        elif action == 'end':
            if not stack:
                raise TemplateError('end without if')
            active = stack.pop()[0]
        elif active:
            out.append(to_text(evaluate(ctx, action)))
    if stack:
        raise TemplateError('if without end')
    return ''.join(out)


def set_value(values, assignment):
    """Apply one --set path=value (true/false/ints parsed like helm)."""
    path, _, raw = assignment.partition('=')
    value = {'true': True, 'false': False}.get(raw, raw)
    if isinstance(value, str) and re.fullmatch(r'-?[0-9]+', value):
        value = int(value)
    node = values
    keys = path.split('.')
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = value


def render_chart(chart_dir, namespace='claimfs', release='claimfs', sets=()):
    """Render every template of the chart; returns [(template name, [objects])]."""
    with open(os.path.join(chart_dir, 'Chart.yaml'), encoding='utf-8') as f:
        chart = yaml.safe_load(f)
    with open(os.path.join(chart_dir, 'values.yaml'), encoding='utf-8') as f:
        values = yaml.safe_load(f) or {}
    for assignment in sets:
        set_value(values, assignment)
    ctx = {
        'Values': values,
        'Release': {'Name': release, 'Namespace': namespace, 'Service': 'Helm'},
        'Chart': {'Name': chart['name'], 'Version': chart['version'],
                  'AppVersion': chart.get('appVersion', '')},
    }
    rendered = []
    templates = os.path.join(chart_dir, 'templates')
    for name in sorted(os.listdir(templates)):
        if not name.endswith(('.yaml', '.yml')) or name.startswith('_'):
            continue  # NOTES.txt and helpers are not manifests
        with open(os.path.join(templates, name), encoding='utf-8') as f:
            text = render(f.read(), ctx)
        objects = [doc for doc in yaml.safe_load_all(text) if doc is not None]
        rendered.append((name, objects))
    return rendered


def main():
    parser = argparse.ArgumentParser(description='render the claimfs chart without helm')
    parser.add_argument('chart')
    parser.add_argument('--namespace', default='claimfs')
    parser.add_argument('--set', action='append', default=[], dest='sets')
    args = parser.parse_args()
    try:
        rendered = render_chart(args.chart, namespace=args.namespace, sets=args.sets)
    except (TemplateError, OSError, yaml.YAMLError) as e:
        print('helm_render: %s' % e, file=sys.stderr)
        return 1
    for name, objects in rendered:
        for obj in objects:
            sys.stdout.write('---\n# Source: %s\n' % name)
            yaml.safe_dump(obj, sys.stdout, sort_keys=False)
    return 0


if __name__ == '__main__':
    sys.exit(main())
