"""Helpers of scripts/bench, called by it as `python3 bench_helper.py NAME ARGS...`
(one function per call; what it prints is read back by the script).
Secrets (API token, JWT) go to files, never to stdout."""
import glob, json, os, re, signal, socket, sqlite3, statistics, subprocess, sys, time
import urllib.request

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); print(p)

def healthy(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return s.recv(32).startswith(b"HTTP/1.1 200")
    except OSError:
        return False

def startup(binary, data_dir, port, log, deadline_s="30"):
    """Exec the server, poll /healthz every ms until 200; print ms; stop it."""
    cmd = [binary, "serve", "--data-dir", data_dir, "--listen", f"127.0.0.1:{port}", "--no-rate-limits"]
    with open(log, "ab") as lf:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=lf, stderr=lf)
        deadline = t0 + float(deadline_s)
        ok = False
        while time.perf_counter() < deadline and p.poll() is None:
            if healthy(int(port)):
                ok = True
                break
            time.sleep(0.001)
        elapsed = (time.perf_counter() - t0) * 1000
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill(); p.wait()
    if not ok:
        sys.exit(f"server did not answer /healthz (see {log})")
    print(f"{elapsed:.1f}")

def post(url, body, token=None):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, json.loads(r.read() or b"null")

def eml_codes(mail_dir):
    """address -> code, from the .eml files the file transport writes."""
    codes = {}
    for path in glob.glob(os.path.join(mail_dir, "*.eml")):
        with open(path, "r", errors="replace") as f:
            text = f.read()
        to = re.search(r"^To: *<?([^>\s]+)>?\s*$", text, re.M | re.I)
        code = re.search(r"Your sign-in code is (\d{6})", text)
        if to and code:
            codes[to.group(1).lower()] = code.group(1)
    return codes

def signin(base, env, data_dir, email, token_file):
    """One complete e-mail sign-in; the JWT goes to token_file (0600)."""
    status, started = post(f"{base}/sdk/v1/{env}/auth/email/start", {"email": email})
    assert status == 202, status
    code = None
    for _ in range(200):
        code = eml_codes(os.path.join(data_dir, "mail")).get(email)
        if code:
            break
        time.sleep(0.01)
    if not code:
        sys.exit(f"no mail with a code for {email}")
    status, result = post(f"{base}/sdk/v1/{env}/auth/email/verify",
                          {"verification_id": started["verification_id"], "code": code})
    assert status == 200 and result.get("token"), status
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(result["token"])

def init_json(json_file, env_file, token_file, kind="live"):
    """Split `portcullis init --json` output: env id to env_file, token to token_file."""
    with open(json_file) as f:
        out = json.load(f)
    with open(env_file, "w") as f:
        f.write(out["environments"][kind])
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(out["api_token"])
    os.unlink(json_file)

def collect(db, mail_dir, env, prefix, out_file):
    """(verification_id, code) pairs for the open verifications of addresses
    starting with prefix: ids from the verifications table (destination =
    address), codes from the .eml files. One pair a line: `id code`."""
    codes = eml_codes(mail_dir)
    now_ms = int(time.time() * 1000)
    if db.startswith("postgres"):
        # psql as the cluster's user; the values are ours (env id, a prefix).
        sql = ("SELECT id, destination FROM verifications WHERE environment_id = '%s' "
               "AND consumed_at IS NULL AND attempts = 0 AND expires_at > %d "
               "AND destination LIKE '%s%%'" % (env, now_ms + 120_000, prefix))
        out = subprocess.run(os.environ["PSQL"].split() + ["-At", "-F", " ", "-c", sql],
                             check=True, capture_output=True, text=True).stdout
        rows = [tuple(line.split(" ", 1)) for line in out.splitlines() if line]
    else:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
        rows = con.execute(
            "SELECT id, destination FROM verifications WHERE environment_id = ? AND consumed_at IS NULL "
            "AND attempts = 0 AND expires_at > ? AND destination LIKE ?",
            (env, now_ms + 120_000, prefix + "%")).fetchall()
        con.close()
    seen, n = set(), 0
    with open(out_file, "w") as f:
        for vid, dest in rows:
            code = codes.get(dest)
            if code and dest not in seen:   # an address is used once per run
                seen.add(dest)
                f.write(f"{vid} {code}\n")
                n += 1
    print(n)

# ---- BEGIN SYNTHETIC SESSIONS SQL -----------------------------------------
# Everything that knows the session/revocation schema for the bulk insert is
# in this block (see crates/portcullis/migrations/sqlite/). Rows are given as
# column -> value; a column the table does not have is left out, so the block
# works across schema versions, and a NOT NULL column without a default that
# it does not fill stops the run with its name: add it here.
#
# CONTEXT: values read once per insert, by name, for the rows and for
# POST_INSERT: (name, table.column it needs or None, SQL with :env).
CONTEXT = [
    ("env_epoch", "environments.sessions_epoch", "SELECT sessions_epoch FROM environments WHERE id = :env"),
]

def user_row(c):
    # a user with no user-wide revocation
    return {"id": c["uid"], "environment_id": c["env"], "email": f"synthetic-{c['i']}@bench.example",
            "created_at": c["now_ms"], "sessions_epoch": 0}

def credential_row(c):
    # the user's address as their verified credential (sign-ins find users here)
    return {"id": "vcr_" + c["uid"][4:], "environment_id": c["env"], "user_id": c["uid"],
            "kind": "email", "value": f"synthetic-{c['i']}@bench.example",
            "verified_at": c["now_ms"], "last_used_at": c["now_ms"], "created_at": c["now_ms"]}

def session_row(c):
    # live: not revoked, issued now under the environment's current epoch,
    # expires in lifetime_s
    return {"id": c["sid"], "environment_id": c["env"], "user_id": c["uid"], "iat": c["now_s"],
            "env_epoch": c.get("env_epoch", 0), "user_epoch": 0,
            "created_at": c["now_ms"], "expires_at": c["expires_at"],
            "ip_address": "127.0.0.1", "user_agent": "portcullis-bench", "last_active_at": None,
            "revoked_at": None, "amr": '["otp"]', "scope": "user:basic"}

# (required table, trigger that already does it or None, statement): run
# once after the inserts when the table exists and the trigger does not;
# named parameters: :env, :n, :now_ms, :now_s, :expires_at (ms),
# :expires_minute (expires_at // 60000) and the CONTEXT names.
POST_INSERT = [
    # live-session counters by expiry minute: every synthetic session
    # expires in the same minute (since 4e00915 a trigger counts each insert)
    ("session_counts", "sessions_count_live",
     "INSERT INTO session_counts (environment_id, expires_minute, live) VALUES (:env, :expires_minute, :n) "
     "ON CONFLICT (environment_id, expires_minute) DO UPDATE SET live = live + excluded.live"),
]
# ---- END SYNTHETIC SESSIONS SQL -------------------------------------------

def _columns(con, table):
    cols = {}
    for _cid, name, _type, notnull, default, pk in con.execute(f"PRAGMA table_info({table})"):
        cols[name] = bool(notnull) and default is None and not pk
    return cols

def _tables(con):
    return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

def _insert_sql(con, table, sample):
    cols = _columns(con, table)
    missing = [c for c, required in cols.items() if required and c not in sample]
    if missing:
        sys.exit(f"bulk insert: {table}.{', '.join(missing)} is NOT NULL and not filled: "
                 "adapt the SYNTHETIC SESSIONS SQL block in scripts/bench_helper.py")
    names = [c for c in sample if c in cols]
    return names, f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"

def bulk_insert(db, env, n, lifetime_s="7200"):
    """n users, each with one live session, in one transaction; prints seconds."""
    n, lifetime_s = int(n), int(lifetime_s)
    t0 = time.perf_counter()
    con = sqlite3.connect(db, timeout=30, isolation_level=None)
    con.execute("PRAGMA foreign_keys = ON")
    con.execute("PRAGMA synchronous = OFF")
    con.execute("PRAGMA cache_size = -262144")
    now_s = int(time.time())
    ctx = {"env": env, "n": n, "now_s": now_s, "now_ms": now_s * 1000, "expires_at": (now_s + lifetime_s) * 1000}
    ctx["expires_minute"] = ctx["expires_at"] // 60_000
    for name, needs, sql in CONTEXT:
        table, _, column = (needs or ".").partition(".")
        if needs is None or column in _columns(con, table):
            ctx[name] = con.execute(sql, {"env": env}).fetchone()[0]
    tag = os.urandom(4).hex()   # 8 hex digits + 24 digits of counter = 32, like real ids
    def row_ctx(i):
        return dict(ctx, i=f"{tag}-{i}", uid=f"usr_{tag}{i:024x}", sid=f"ses_{tag}{i:024x}")
    ucols, usql = _insert_sql(con, "users", user_row(row_ctx(0)))
    scols, ssql = _insert_sql(con, "sessions", session_row(row_ctx(0)))
    has_credentials = "verified_credentials" in _tables(con)
    if has_credentials:
        ccols, csql = _insert_sql(con, "verified_credentials", credential_row(row_ctx(0)))
    con.execute("BEGIN")
    step = 50_000
    for lo in range(0, n, step):
        rows = [row_ctx(i) for i in range(lo, min(n, lo + step))]
        con.executemany(usql, ([u[c] for c in ucols] for u in map(user_row, rows)))
        con.executemany(ssql, ([s[c] for c in scols] for s in map(session_row, rows)))
        if has_credentials:
            con.executemany(csql, ([r[c] for c in ccols] for r in map(credential_row, rows)))
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")}
    for table, trigger, sql in POST_INSERT:
        if table in names and trigger not in names:
            con.execute(sql, ctx)
    con.execute("COMMIT")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    print(f"{time.perf_counter() - t0:.2f}")

def live_sessions(db, env):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    print(con.execute("SELECT COUNT(*) FROM sessions WHERE environment_id = ? AND revoked_at IS NULL "
                      "AND expires_at > ?", (env, int(time.time() * 1000))).fetchone()[0])

def revoke(base, env, token_file):
    """POST .../sessions/revoke once; prints `ms revoked_count`."""
    with open(token_file) as f:
        token = f.read().strip()
    t0 = time.perf_counter()
    status, body = post(f"{base}/api/v1/environments/{env}/sessions/revoke", {}, token)
    ms = (time.perf_counter() - t0) * 1000
    assert status == 200, status
    print(f"{ms:.2f} {body['revoked_count']}")

def fanout_wait(db, env, n, limit_s="1800"):
    """After an environment-wide revocation: seconds until the outbox worker
    has written one admin.user.session.revoked event per revoked session
    (read-only polls of the database, every 0.5 s); `-` past the limit."""
    # The poll reads one row (the revocation's own event, whose `fanout`
    # clears when the last batch is written): counting a million rows
    # every poll would hold a reader open and slow the server down.
    t0 = time.perf_counter()
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    while time.perf_counter() - t0 < float(limit_s):
        row = con.execute("SELECT fanout IS NULL FROM events WHERE environment_id = ? "
                          "AND type = 'environment.sessions.revoked' ORDER BY seq LIMIT 1",
                          (env,)).fetchone()
        if row and row[0]:
            took = time.perf_counter() - t0
            done = con.execute("SELECT COUNT(*) FROM events WHERE environment_id = ? "
                               "AND type = 'admin.user.session.revoked'", (env,)).fetchone()[0]
            if done != int(n):
                print(f"fan-out wrote {done} events, expected {n}", file=sys.stderr)
            print(f"{took:.1f}")
            return
        time.sleep(0.5)
    print("-")

def get_env(base, env, token_file):
    """GET /api/v1/environments/{env} (same token check as a revocation, one
    read): warms the environment cache; prints ms, the fixed cost of a call."""
    with open(token_file) as f:
        token = f.read().strip()
    req = urllib.request.Request(f"{base}/api/v1/environments/{env}", headers={"Authorization": f"Bearer {token}"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=30) as r:
        r.read()
        assert r.status == 200, r.status
    print(f"{(time.perf_counter() - t0) * 1000:.2f}")

def set_algorithm(base, env, token_file, alg):
    with open(token_file) as f:
        token = f.read().strip()
    req = urllib.request.Request(f"{base}/api/v1/environments/{env}/settings/security", method="PATCH",
                                 data=json.dumps({"token_algorithm": alg}).encode(),
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 200 and json.loads(r.read())["token_algorithm"] == alg

def add_origins(base, env, token_file):
    """Nine exact origins, then one wildcard; prints an origin only the last admits."""
    with open(token_file) as f:
        token = f.read().strip()
    listed = [f"https://app-{i}.bench.example" for i in range(9)] + ["https://preview-*.bench.example"]
    for origin in listed:
        req = urllib.request.Request(f"{base}/api/v1/environments/{env}/origins", method="POST",
                                     data=json.dumps({"origin": origin}).encode(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            assert r.status == 201
    print("https://preview-pr-1234.bench.example")

def run_wrk(out_file, *cmd):
    """Runs wrk (output to out_file); prints the CPU seconds wrk used."""
    import resource
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out_file, "wb") as out:
        rc = subprocess.call(list(cmd), stdout=out, stderr=subprocess.STDOUT)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if rc != 0:
        sys.exit(f"wrk exited with {rc} (see {out_file})")
    print(f"{(after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime):.2f}")

def busy_cores(seconds="2"):
    """Cores busy on the whole machine over a short idle window."""
    def snap():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]
    t0, i0 = snap(); time.sleep(float(seconds)); t1, i1 = snap()
    print(f"{os.cpu_count() * ((t1 - t0) - (i1 - i0)) / max(1, t1 - t0):.2f}")

def median(*xs):
    v = [float(x) for x in xs]
    print(f"{statistics.median(v):.1f}" if v else "-")

def wrk_json(out_file):
    """The BENCH_JSON line of a wrk run, as shell assignments."""
    with open(out_file) as f:
        for line in f:
            if line.startswith("BENCH_JSON "):
                d = json.loads(line[len("BENCH_JSON "):])
                for k, v in d.items():
                    print(f"W_{k}={v}")
                return
    sys.exit(f"no BENCH_JSON line in {out_file}")

if __name__ == "__main__":
    globals()[sys.argv[1]](*sys.argv[2:])
