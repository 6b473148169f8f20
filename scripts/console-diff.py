#!/usr/bin/env python3
"""Console refactor check: serves one target with two `ferry` binaries (before and after a
change) and compares every page a staff admin reads -- runs, a run's findings (filtered, paged),
progress, downloads, certification, upgrade, logins, account search and every account's page --
byte for byte (CSRF tokens and the console's own URL masked), with status codes.

    python3 scripts/console-diff.py OLD_FERRY NEW_FERRY TARGET

TARGET is a SQLite file or a postgres:// URL that already holds an admin
admin@example.org with the password `correct horse battery staple`
(FERRY_ADMIN_PASSWORD=... ferry serve --db TARGET --create-admin admin@example.org).
Exit status 1 when any page differs.

Build both binaries the same way (e.g. `cargo test -p ferry-cli --no-run`): serde_json's
`preserve_order` is switched on only by a dev-dependency (thirtyfour), so a plain `cargo build`
writes JSON objects (the progress poll, findings.jsonl) with their keys sorted instead.
"""
import subprocess, sqlite3, re, sys, urllib.request, urllib.parse, http.cookiejar, os, shutil
PW='correct horse battery staple'
def start(binary, db):
    p=subprocess.Popen([binary,'serve','--db',db,'--bind','127.0.0.1:0'],stderr=subprocess.PIPE,stdout=subprocess.DEVNULL)
    while True:
        l=p.stderr.readline().decode()
        if not l: raise SystemExit('ended')
        m=re.search(r'http://\S+',l)
        if m: return p, m.group(0)
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self,*a,**k): return None
def session(url):
    cj=http.cookiejar.CookieJar()
    op=urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cj),NoRedirect)
    body=op.open(url+'/signin').read().decode()
    csrf=re.search(r'name="csrf" value="([^"]+)"',body).group(1)
    data=urllib.parse.urlencode({'csrf':csrf,'next':'/','email':'admin@example.org','password':PW}).encode()
    try:
        op.open(urllib.request.Request(url+'/signin',data=data,headers={'Origin':url}))
    except urllib.error.HTTPError as e:
        assert e.code==303, e.code
    return op
def get(op,url):
    try:
        r=op.open(urllib.request.Request(url,headers={'Accept':'text/html'}))
        code,body=r.status,r.read().decode('utf-8','replace')
    except urllib.error.HTTPError as e:
        code,body=e.code,e.read().decode('utf-8','replace')
    body=re.sub(r'name="csrf" value="[^"]+"','name="csrf" value="X"',body)
    body=re.sub(r'data-csrf="[^"]+"','data-csrf="X"',body)
    return code,body
old_bin,new_bin,db=sys.argv[1],sys.argv[2],sys.argv[3]
def q(sql):
    if db.startswith('postgres'):
        return [l for l in subprocess.run(['psql',db,'-Atc',sql],capture_output=True,text=True).stdout.splitlines()]
    return [str(r[0]) for r in sqlite3.connect(db).execute(sql)]
users=q('select name from "user" order by name')
runs=q('select id from run')
paths=['/runs','/records','/certification']
for r in runs:
    paths += [f'/runs/{r}', f'/runs/{r}?severity=warning', f'/runs/{r}?q=e&page=2', f'/runs/{r}/progress', f'/runs/{r}?code=zzz', f'/runs/{r}/download/findings.csv', f'/runs/{r}/download/findings.jsonl', f'/runs/{r}/download/reconciliation.txt', f'/runs/{r}/download/report.html', f'/runs/{r}/download/annotated-1.xlsx', f'/runs/{r}/download/nope', f'/runs/{r}/findings']
for q in ['a','HSC','@','555','0100','%','_','zzz','Smith','.org']:
    paths.append('/records?q='+urllib.parse.quote(q))
for u in users:
    paths.append('/records/'+urllib.parse.quote(u))
paths += ['/records/nobody-here', '/runs/999', '/runs/999/progress', '/runs/999/download/findings.csv', '/upgrade', '/logins', '/runs/new']
po,uo=start(old_bin,db); pn,un=start(new_bin,db)
try:
    oo=session(uo); on=session(un)
    bad=0
    for p in paths:
        a=get(oo,uo+p); b=get(on,un+p)
        a=(a[0],a[1].replace(uo,'URL')); b=(b[0],b[1].replace(un,'URL'))
        if a!=b:
            bad+=1
            print('DIFF',p,a[0],b[0])
            if bad<3:
                import difflib
                print(''.join(list(difflib.unified_diff(a[1].splitlines(1),b[1].splitlines(1)))[:40]))
    print('compared',len(paths),'pages;',bad,'differ')
    if bad: sys.exit(1)
finally:
    po.kill(); pn.kill()
