import json, glob, re, statistics, datetime, sys
d=json.load(open(sys.argv[1])); base=sys.argv[2]
start=datetime.datetime.fromisoformat(d['startedAt'].replace('Z','+00:00')).timestamp()
slow=[]
for f in glob.glob(base+'/run/chainkv/*/*/server.log'):
    node=f.split('/')[-2]; grp=f.split('/')[-3]
    for line in open(f):
        if 'slow group commit' in line:
            ts=re.search(r'ts=(\S+)',line).group(1); ms=int(re.search(r'commitMs=(\d+)',line).group(1))
            t=datetime.datetime.fromisoformat(ts.replace('Z','+00:00')).timestamp()
            slow.append((t,ms,grp,node))
slow.sort()
# also other log lines near dips
for k in d['kills']:
    if k['system']!='chainkv': continue
    t0=start+k['atSeconds']
    for side in ('write','read'):
        r=k[side]['rate']; b=r['bucketMs']; f0=r['fromMs']; ops=r['opsPerSecond']
        pre=[o for i,o in enumerate(ops) if f0+i*b<0]
        med=statistics.median(pre) if pre else 0
        dips=[(f0+i*b,o) for i,o in enumerate(ops) if f0+i*b>k['wholeAfterMs'] and o<0.4*med]
        if dips:
            print(k['role'],k['n'],side,'whole',round(k['wholeAfterMs']),'base',med,'dips',dips)
            for ms,o in dips:
                ta=t0+ms/1000
                near=[(round((t-ta)*1000),c,g,n) for t,c,g,n in slow if -300<(t-ta)*1000<300]
                print('   slow commits within 300ms (dt_ms, commitMs, group, node):',near)
print('slow commits total',len(slow),'>=30ms',sum(1 for s in slow if s[1]>=30))
print('--- slow commits relative to the nearest preceding kill (ms after kill; kill whole at)')
kills=sorted([(start+k['atSeconds'],k) for k in d['kills'] if k['system']=='chainkv'], key=lambda x:x[0])
for t,c,g,n in slow:
    prev=[(kt,k) for kt,k in kills if kt<=t]
    if prev:
        kt,k=prev[-1]
        print(f"{(t-kt)*1000:8.0f} ms after kill {k['role']} {k['n']} (restarted {k['restartedAfterMs']:.0f}, whole {k['wholeAfterMs']:.0f}) commit {c} ms {g} {n}")
    else: print('before first kill', c, g, n)
