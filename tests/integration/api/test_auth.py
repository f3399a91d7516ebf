#!/usr/bin/env python3
"""test_auth.py - `kubectl auth can-i` and `kubectl auth whoami` against a
real claimfsd, with and without --token-file.

The stock kubectl posts SelfSubjectAccessReview, SelfSubjectRulesReview
(`can-i --list`) and SelfSubjectReview (`whoami`) in protobuf; the raw HTTP
checks post JSON and look at the answers, discovery and OpenAPI. Without a
token every caller is system:anonymous, with one its bearer is
claimfs-admin; both may do everything claimfs serves and nothing else.

Owns: one temporary work directory and the daemons in it; both are gone
when the program ends, whatever happened.
"""

import json
import os
import shutil
import sys
import tempfile
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_kubectl import KUBECTL, Kubectl, TlsDaemon, token_setup  # noqa: E402
from daemon import Daemon, serve_checks  # noqa: E402
from tap import Tap  # noqa: E402

AUTHZ = '/apis/authorization.k8s.io/v1/'
AUTHN = '/apis/authentication.k8s.io/v1/'


def post(d, path, body, headers=None):
    """POST a JSON body; (status, decoded answer or {})."""
    status, _, text = d.request('POST', path, json.dumps(body), headers=headers)
    try:
        return status, json.loads(text)
    except ValueError:
        return status, {}


def access(d, attrs, key='resourceAttributes', headers=None):
    return post(d, AUTHZ + 'selfsubjectaccessreviews',
                {'apiVersion': 'authorization.k8s.io/v1', 'kind': 'SelfSubjectAccessReview',
                 'spec': {key: attrs}}, headers)


def run_can_i(t, k, extra=()):
    """The answers kubectl prints; extra: connection flags (TLS, token)."""
    out = k.ok(t, 'can-i create pvc: yes', 'auth', 'can-i', 'create', 'pvc', *extra)
    t.eq(out.strip(), 'yes', 'can-i create pvc prints yes')
    rc, out, err = k('auth', 'can-i', 'create', 'pods', *extra)
    t.ok(rc == 1 and out.startswith('no') and 'does not serve pods' in out,
         'can-i create pods: no, claimfs does not serve pods', '%d %s %s' % (rc, out, err))
    rc, out, err = k('auth', 'can-i', 'get', 'secrets', *extra)
    t.ok(rc == 1 and out.startswith('no') and 'does not serve secrets' in out,
         'can-i get secrets: no', '%d %s %s' % (rc, out, err))
    out = k.ok(t, 'can-i patch statefulsets --subresource=scale: yes', 'auth', 'can-i',
               'patch', 'statefulsets', '--subresource=scale', *extra)
    t.eq(out.strip(), 'yes', 'the scale subresource is allowed')
    rc, out, _ = k('auth', 'can-i', 'escalate', 'pvc', *extra)
    t.ok(rc == 1 and 'does not serve the verb "escalate"' in out,
         'a verb claimfs does not serve on a served resource: no', out)
    out = k.ok(t, 'can-i get /healthz: yes', 'auth', 'can-i', 'get', '/healthz', *extra)
    t.eq(out.strip(), 'yes', 'a served path is allowed')
    rc, out, _ = k('auth', 'can-i', 'get', '/apps', *extra)
    t.ok(rc == 1 and out.startswith('no'), 'a path claimfs does not serve: no', out)
    out = k.ok(t, 'can-i --list', 'auth', 'can-i', '--list', *extra)
    lines = {line.split()[0]: line for line in out.splitlines()[1:] if line.split()
             and not line.startswith(' ')}
    for resource in ('persistentvolumeclaims', 'persistentvolumes', 'namespaces', 'events',
                     'statefulsets.apps', 'storageclasses.storage.k8s.io',
                     'volumesnapshots.snapshot.storage.k8s.io', 'events.events.k8s.io'):
        t.ok(resource in lines and '[create delete deletecollection get list patch update '
             'watch]' in lines[resource], 'can-i --list: every verb on %s' % resource, out)
    t.ok('statefulsets.apps/scale' in lines and 'persistentvolumeclaims/status' in lines,
         'can-i --list: the subresources', out)
    t.ok('pods' not in lines and not any(r.startswith('secrets') for r in lines),
         'can-i --list: nothing claimfs does not serve', out)
    t.ok('[/healthz]' in out and '[/apis/*]' in out, 'can-i --list: the served paths', out)


def run_whoami(t, k, user, group, extra=()):
    out = k.ok(t, 'whoami', 'auth', 'whoami', *extra)
    t.ok(any(line.split() == ['Username', user] for line in out.splitlines())
         and any(line.split() == ['Groups', '[%s]' % group] for line in out.splitlines()),
         'whoami: %s in %s' % (user, group), out)


def run_http(t, d):
    """Raw HTTP: the answers' shape, validation, discovery and OpenAPI."""
    status, obj = access(d, {'namespace': 'default', 'verb': 'list', 'resource':
                             'persistentvolumeclaims'})
    t.ok(status == 201 and obj.get('kind') == 'SelfSubjectAccessReview'
         and obj.get('status', {}).get('allowed') is True
         and obj.get('spec', {}).get('resourceAttributes', {}).get('verb') == 'list',
         'SelfSubjectAccessReview: 201, the spec back, allowed', json.dumps(obj))
    status, obj = access(d, {'verb': 'create', 'group': 'apps', 'resource': 'deployments'})
    t.ok(status == 201 and obj['status'].get('allowed') is False
         and 'claimfs does not serve deployments.apps' in obj['status'].get('reason', ''),
         'another group\'s resource: not allowed, with the reason', json.dumps(obj))
    status, obj = access(d, {'verb': 'get', 'path': '/version'}, key='nonResourceAttributes')
    t.ok(status == 201 and obj['status'].get('allowed') is True, 'a served path: allowed',
         json.dumps(obj))
    status, obj = post(d, AUTHZ + 'selfsubjectaccessreviews', {'spec': {}})
    t.ok(status == 422 and obj.get('reason') == 'Invalid'
         and 'exactly one of nonResourceAttributes or resourceAttributes must be specified'
         in obj.get('message', ''), 'no attributes: 422 Invalid', json.dumps(obj))
    status, obj = post(d, AUTHZ + 'selfsubjectrulesreviews', {'spec': {}})
    t.ok(status == 400 and 'no namespace on request' in obj.get('message', ''),
         'a rules review without a namespace: 400', json.dumps(obj))
    status, obj = post(d, AUTHZ + 'selfsubjectrulesreviews',
                       {'kind': 'SelfSubjectRulesReview', 'spec': {'namespace': 'default'}})
    rules = obj.get('status', {}).get('resourceRules', [])
    t.ok(status == 201 and obj.get('status', {}).get('incomplete') is False
         and any('persistentvolumeclaims' in r.get('resources', []) for r in rules)
         and not any('pods' in r.get('resources', []) for r in rules),
         'SelfSubjectRulesReview: the served resources, complete', json.dumps(obj)[:600])
    status, obj = post(d, AUTHZ + 'selfsubjectaccessreviews?fieldValidation=Strict',
                       {'spec': {'resourceAttributes': {'verb': 'get', 'bogus': 1}}})
    t.ok(status == 400 and 'unknown field "spec.resourceAttributes.bogus"'
         in obj.get('message', ''), 'fieldValidation=Strict applies to reviews', json.dumps(obj))
    status, obj = post(d, AUTHN + 'selfsubjectreviews', {'kind': 'Namespace'})
    t.ok(status == 400 and 'does not match the expected kind' in obj.get('message', ''),
         'a review of the wrong kind: 400', json.dumps(obj))
    status, _, _ = d.request('GET', AUTHZ + 'selfsubjectaccessreviews')
    t.eq(status, 405, 'reviews are created, never read: GET is 405')
    for group, resources in (('authorization.k8s.io', ['selfsubjectaccessreviews',
                                                       'selfsubjectrulesreviews']),
                             ('authentication.k8s.io', ['selfsubjectreviews'])):
        status, _, text = d.request('GET', '/apis/%s/v1' % group)
        names = [r['name'] for r in json.loads(text).get('resources', [])] if status == 200 else []
        t.eq(names, resources, 'discovery of %s/v1' % group)
        status, _, text = d.request('GET', '/openapi/v3/apis/%s/v1' % group)
        doc = json.loads(text) if status == 200 else {}
        t.ok(all('/apis/%s/v1/%s' % (group, r) in doc.get('paths', {}) for r in resources),
             'OpenAPI v3 document of %s/v1' % group, text[:300])


def run_token(t, workdir):
    setup = token_setup(t, workdir, 'auth-token')
    if setup is None:
        return
    tokdir, args, cert = setup
    with TlsDaemon(tokdir) as d:
        d.ca = cert
        d.start(extra_args=args)
        k = Kubectl(tokdir, d.url)
        extra = ('--certificate-authority', cert, '--token', 'auth-token')
        run_whoami(t, k, 'claimfs-admin', 'system:authenticated', extra)
        run_can_i(t, k, extra)
        rc, _, err = k('auth', 'whoami', '--certificate-authority', cert, '--token', 'bad')
        t.ok(rc != 0 and 'Unauthorized' in err, 'whoami with a wrong token: Unauthorized', err)
        d.stop()


def main():
    t = Tap()
    if KUBECTL is None:
        t.skip_all('kubectl is not installed')
    workdir = tempfile.mkdtemp(prefix='claimfs-auth-')
    try:
        with Daemon(workdir) as d:
            def checks():
                k = Kubectl(workdir, d.url)
                run_whoami(t, k, 'system:anonymous', 'system:unauthenticated')
                run_can_i(t, k)
                run_http(t, d)
            serve_checks(t, d, checks)
        try:
            run_token(t, workdir)
        except Exception:  # pylint: disable=broad-except
            t.ok(False, 'token checks ran', traceback.format_exc())
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    t.done()


if __name__ == '__main__':
    main()
