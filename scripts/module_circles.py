#!/usr/bin/env python3
"""Fails when the modules of a crate import each other in a circle.

Builds, per crate, the graph of its files from their `crate::` and `super::` paths (comments and
`#[cfg(test)] mod` bodies left out) and prints every strongly connected component of more
than one file. No crate does this for a workspace without compiling it; this is a heuristic
over the source text, good enough to keep the layout honest. Usage: module_circles.py [CRATE…]."""
import os,re,sys
def modpath(src,p):
    rel=os.path.relpath(p,src)[:-3].split('/')
    if rel[-1] in('mod','lib','main'): rel=rel[:-1]
    return tuple(rel)
def resolve(nodes,base):
    # longest prefix of base that is a node
    for i in range(len(base),0,-1):
        if tuple(base[:i]) in nodes: return tuple(base[:i])
    return None
found = False
crates = sys.argv[1:] or sorted(os.listdir('crates'))
for crate in crates:
    src=f'crates/{crate}/src'; files={}
    for root,_,fs in os.walk(src):
        for f in fs:
            if f.endswith('.rs'): p=os.path.join(root,f); files[modpath(src,p)]=p
    nodes=set(files)
    g={n:set() for n in nodes}
    for n,p in files.items():
        s=open(p).read()
        s=re.split(r'#\[cfg\(test\)\]\s*mod',s)[0]
        s='\n'.join(l for l in s.split('\n') if not l.strip().startswith('//'))
        isdir=p.endswith('mod.rs') or p.endswith('lib.rs')
        parent=n if isdir else n[:-1]
        for m in re.finditer(r'\b(crate|super)((?:::\w+)+|::\{[^}]*\})',s):
            head,tail=m.group(1),m.group(2)
            base=() if head=='crate' else parent[:-1]
            if tail.startswith('::{'):
                for item in re.findall(r'[\w:]+',tail[3:-1]):
                    t=resolve(nodes,list(base)+item.split('::'))
                    if t and t!=n and t!=(): g[n].add(t)
            else:
                t=resolve(nodes,list(base)+tail[2:].split('::'))
                if t and t!=n and t!=(): g[n].add(t)
    # ignore edges to ancestors (a module using its parent's items is fine only if parent doesn't use it back) -> keep all
    idx={};low={};st=[];on=set();res=[];c=[0]
    sys.setrecursionlimit(10000)
    def sc(v):
        idx[v]=low[v]=c[0];c[0]+=1;st.append(v);on.add(v)
        for w in g[v]:
            if w not in idx: sc(w);low[v]=min(low[v],low[w])
            elif w in on: low[v]=min(low[v],idx[w])
        if low[v]==idx[v]:
            comp=[]
            while True:
                w=st.pop();on.discard(w);comp.append(w)
                if w==v:break
            if len(comp)>1: res.append(comp)
    for v in g:
        if v not in idx: sc(v)
    for comp in res:
        found = True
        print(crate,'cycle:',['/'.join(x) for x in comp])
        for a in comp:
            print('   ','/'.join(a),'->',['/'.join(b) for b in g[a] if b in comp])
sys.exit(1 if found else 0)
