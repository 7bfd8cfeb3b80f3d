"""Sample selection and scoring for bench/survey-login.sh.

  survey_login_score.py sample TRUTH N OUT      pick >= N devices, every behaviour
  survey_login_score.py score TRUTH SAMPLE RESULTS.json
        RESULTS.json: {"tool": {"format": "hydra|medusa|ncrack|kizuki",
                                "file": PATH, "wall": SECONDS, "capped": bool,
                                "offset": N}}  (offset: the tool's fleet copy
        starts N addresses after TRUTH's first address)

Scoring follows docs/devsim-spec.md section 9: a device reported with a
pair counts as correct when its ground truth is login-possible and the
device accepts every pair reported for it (same user and password;
password-only devices: same password; B26: same user). precision =
correct / reported devices, recall = correct / login-possible devices of
the sample; accepts-any devices reported with a pair are counted apart.
"""
import ipaddress
import json
import re
import sys


def load_truth(path):
    return [json.loads(line) for line in open(path, encoding='utf-8')]


def sample(truth_path, n, out):
    truth = load_truth(truth_path)
    by_b = {}
    for d in truth:
        by_b.setdefault(d['behaviour'], []).append(d)
    chosen = []
    for b in sorted(by_b):
        devs = by_b[b]
        weak = [d for d in devs if d['credentials'] == 'weak']
        strong = [d for d in devs if d['credentials'] == 'strong']
        other = [d for d in devs if d['credentials'] == 'none']
        if b == 'B16':
            picks = [next(d for d in devs if d['style'] == 'S01'),
                     next(d for d in devs if d['style'] == 'S13')]
        elif b in ('B20', 'B23'):
            picks = [next(d for d in devs if d['variant'] == 0),
                     next(d for d in devs if d['variant'] == 1)]
        elif weak and strong:
            picks = [weak[0], strong[0]]
        else:
            picks = (weak or strong or other)[:2]
        chosen += picks
    # Fill with normal devices of styles not yet in the sample, then more.
    seen = {d['style'] for d in chosen}
    for d in by_b.get('B01', []):
        if len(chosen) >= n:
            break
        if d not in chosen and d['style'] not in seen:
            chosen.append(d)
            seen.add(d['style'])
    for d in truth:
        if len(chosen) >= n:
            break
        if d not in chosen and d['behaviour'] in ('B01', 'B02', 'B11', 'B14'):
            chosen.append(d)
    with open(out, 'w') as f:
        for d in chosen:
            f.write(d['address'] + '\n')
    print('sample: %d devices, %d behaviours' % (len(chosen), len({d['behaviour'] for d in chosen})))


def kizuki_cred(r, key):
    """A credential of a kizuki record as the truth writes it (bytes read as
    Latin-1): the exact bytes are in key_hex when they are not UTF-8."""
    if key + '_hex' in r:
        return bytes.fromhex(r[key + '_hex']).decode('latin-1')
    return r.get(key, '').encode('utf-8').decode('latin-1')


def parse(fmt, path):
    """(address, user, password) findings of one tool's output file."""
    found = []
    try:
        text = open(path, 'rb').read().decode('latin-1')
    except OSError:
        return found
    if fmt == 'hydra':
        # [23][telnet] host: 198.18.16.5   login: root   password: admin
        for m in re.finditer(r'host: (\S+)\s+login: (.*?)\s+password: (.*)$', text, re.M):
            found.append((m.group(1), m.group(2), m.group(3)))
        # hydra prints no "login:" field for an empty user
        for m in re.finditer(r'host: (\S+)\s+password: (.*)$', text, re.M):
            found.append((m.group(1), '', m.group(2)))
    elif fmt == 'medusa':
        for m in re.finditer(r'ACCOUNT FOUND: \[telnet\] Host: (\S+) User: (.*?) Password: (.*?) '
                             r'\[SUCCESS\]', text):
            found.append((m.group(1), m.group(2), m.group(3)))
    elif fmt == 'ncrack':
        # 198.18.48.5 23/tcp telnet: 'root' 'admin'
        for m in re.finditer(r"^(\S+) \d+/tcp telnet: '(.*)' '(.*)'$", text, re.M):
            found.append((m.group(1), m.group(2), m.group(3)))
    elif fmt == 'kizuki':
        for line in text.splitlines():
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if r.get('extra.status') == 'login-possible':
                found.append((r.get('source.ip'), kizuki_cred(r, 'extra.user'),
                              kizuki_cred(r, 'extra.password')))
    return found


def accepted(d, user, password):
    a = d.get('accept')
    if a == 'user-password':
        return user == d['user'] and password == d['password']
    if a == 'password-only':
        return password == d['password']
    if a == 'user-only':
        return user == d['user']
    return False


def score(truth_path, sample_path, results_path):
    truth = {d['address']: d for d in load_truth(truth_path)}
    base = int(ipaddress.ip_address(min(truth, key=lambda a: int(ipaddress.ip_address(a)))))
    sample_addrs = [line.strip() for line in open(sample_path) if line.strip()]
    devs = [truth[a] for a in sample_addrs]
    positives = [d for d in devs if d['expected_status'] == 'login-possible']
    results = json.load(open(results_path))
    rows = []
    for tool, r in results.items():
        off = r.get('offset', 0)
        found = {}
        for addr, user, pw in parse(r['format'], r['file']):
            try:
                a = str(ipaddress.ip_address(int(ipaddress.ip_address(addr)) - off))
            except ValueError:
                continue
            if a in truth:
                found.setdefault(a, []).append((user, pw))
        reported = [a for a in sample_addrs if a in found]
        correct = [a for a in reported if truth[a]['expected_status'] == 'login-possible' and
                   all(accepted(truth[a], u, p) for u, p in found[a])]
        wrong_pair = [a for a in reported if truth[a]['expected_status'] == 'login-possible' and
                      a not in correct]
        anyhost = [a for a in reported if truth[a]['behaviour'] == 'B16']
        precision = 100.0 * len(correct) / len(reported) if reported else float('nan')
        recall = 100.0 * len(correct) / len(positives) if positives else float('nan')
        hours = r['wall'] / 3600.0
        rows.append({
            'tool': tool, 'devices': len(devs), 'login_possible': len(positives),
            'reported': len(reported), 'correct': len(correct), 'wrong_pair': len(wrong_pair),
            'accepts_any_reported': len(anyhost), 'precision': precision, 'recall': recall,
            'wall_s': r['wall'], 'capped': r.get('capped', False),
            'devices_per_hour': len(devs) / hours if hours > 0 else float('nan'),
            'missed_behaviours': sorted({truth[a]['behaviour'] for a in
                                         (d['address'] for d in positives)
                                         if a not in correct}),
        })
    print('%-8s %7s %8s %8s %9s %10s %10s %9s %10s %12s' % (
        'tool', 'devices', 'weak', 'reported', 'correct', 'precision', 'recall',
        'any-as-weak', 'wall (s)', 'devices/h'))
    for x in rows:
        print('%-8s %7d %8d %8d %9d %9.1f%% %9.1f%% %9d %9.0f%s %12.0f' % (
            x['tool'], x['devices'], x['login_possible'], x['reported'], x['correct'],
            x['precision'], x['recall'], x['accepts_any_reported'], x['wall_s'],
            '*' if x['capped'] else ' ', x['devices_per_hour']))
    print('(* = stopped at the time cap; what it had not finished counts as not found)')
    for x in rows:
        if x['missed_behaviours']:
            print('%s missed weak devices of: %s' % (x['tool'], ' '.join(x['missed_behaviours'])))
    json.dump(rows, sys.stdout if False else open(results_path + '.scored.json', 'w'), indent=1)


# Failure delay (s) and password-prompt delay of each style (devsim-spec.md
# section 5), for the floor estimate.
FAIL_S = {'S01': 3, 'S02': 3, 'S03': 3, 'S04': 1, 'S05': 2, 'S06': 1, 'S07': 1, 'S08': 2,
          'S09': 1, 'S10': 1, 'S11': 1, 'S12': 1, 'S13': 1, 'S14': 3, 'S15': 1}
QUIET = 0.5        # the prober acts on a prompt after 0.5 s of silence
RECONNECT = 0.5    # and waits 0.5 s before a reconnect


def device_floor(d, npairs):
    """Seconds a device's own pace imposes on a prober that tries pairs one
    at a time on it (docs/devsim-spec.md's timings plus the prober's fixed
    quiet windows of docs/telnet-login.md): the time no concurrency can
    shorten. A weak device needs the pairs up to its own, then a control
    attempt; a strong one needs them all."""
    b, st = d['behaviour'], d['style']
    if d['credentials'] not in ('weak', 'strong'):
        return {'B19': 15.0, 'B20': 15.0, 'B18': 4.1}.get(b, 5.0)
    n = d['pair'] + 1 if d['credentials'] == 'weak' else npairs
    fail = FAIL_S.get(st, 3)
    pass_ms = 1.5 if b == 'B02' else 0.05
    per_conn = (2.4 if b == 'B02' else 0.02) + QUIET + RECONNECT
    if b == 'B12':
        per_pair, per_conn_pairs = pass_ms + QUIET + 10.0, 1
    elif b in ('B11', 'B27'):
        per_pair, per_conn_pairs = pass_ms + QUIET + 1.0 + (1.5 if b == 'B27' else 0), 1
    elif b == 'B25':
        per_pair, per_conn_pairs = pass_ms + QUIET + 1.0 + QUIET, 1
    elif b == 'B13':
        per_pair, per_conn_pairs = pass_ms + QUIET + 1.0 + QUIET, 3
    else:
        per_pair, per_conn_pairs = pass_ms + QUIET + (3.0 if b == 'B02' else fail) + QUIET, 3
    if b == 'B10':
        per_conn += 0.5
    if b == 'B24':
        per_conn += 5.0   # the nudge after 5 s of silence
    conns = -(-n // per_conn_pairs)
    t = n * per_pair + conns * per_conn
    if d['credentials'] == 'weak':
        # success: the shell after its delay, 3 s of quiet, then the control
        t += (5.0 if b == 'B14' else 2.0 if b == 'B02' else 0.3) + 3.0 + per_conn + per_pair
    return t


def floor(truth_path, npairs):
    truth = load_truth(truth_path)
    worst = max(truth, key=lambda d: device_floor(d, npairs))
    print('floor: %.0f s (device %s, %s %s %s: the slowest device alone, %d pairs)' % (
        device_floor(worst, npairs), worst['address'], worst['behaviour'], worst['style'],
        worst['credentials'], npairs))


if __name__ == '__main__':
    if sys.argv[1] == 'floor':
        floor(sys.argv[2], int(sys.argv[3]))
        sys.exit(0)
    if sys.argv[1] == 'sample':
        sample(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif sys.argv[1] == 'score':
        score(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit('usage: see the file')
