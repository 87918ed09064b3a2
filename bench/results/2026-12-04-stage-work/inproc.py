#!/usr/bin/env python3
"""In-process interleaved re-time of an A/B's result kernels, robust to a machine whose speed
drifts minute to minute: every run's best trace (`best_trace` of each tune JSON in DIR whose
name starts with PREFIX) is emitted as C by `colt show --c`, compiled with colt's kernel
flags, and all of them are linked into one harness that gives each kernel its own buffers
(inputs filled alike) and times them round-robin, the order reversed every other round,
REPEAT calls per reading. Prints each kernel's median and, per arm (old/new), the median over
seeds of the kernel medians; writes DIR/inproc-PREFIX.json.
Usage: inproc.py DIR PREFIX COLT_BINARY [ROUNDS [REPEAT]]  (COLT_MARCH as the runs had it)"""
import glob, json, os, re, statistics as st, subprocess, sys, tempfile

d0, prefix, colt = sys.argv[1], sys.argv[2], sys.argv[3]
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 15
repeat = int(sys.argv[5]) if len(sys.argv) > 5 else 5
march = os.environ.get("COLT_MARCH", "native")
spec = {}
for line in open(f"{d0}/log.txt"):
    w = line.split()[1]
    spec[w.replace(":", "_").replace("=", "_").replace(",", "_")] = w
tmp = tempfile.mkdtemp()
names, objs, bufspecs = [], [], []
for f in sorted(glob.glob(f"{d0}/{prefix}-old-[0-9].json") + glob.glob(f"{d0}/{prefix}-new-[0-9].json")):
    try:
        d = json.load(open(f))
    except json.JSONDecodeError:
        print(f"{f}: no JSON (a run still going, or failed)", file=sys.stderr)
        continue
    if not d.get("best_trace"):
        continue
    k = os.path.basename(f)[:-5]
    tr = f"{tmp}/{k}.trace.json"
    json.dump(d["best_trace"] if isinstance(d["best_trace"], dict) else json.loads(d["best_trace"]), open(tr, "w"))
    out = subprocess.run([colt, "show", "--workload", spec[prefix], "--scale", "paper", "--trace", tr, "--c"],
                         capture_output=True, text=True, check=True).stdout
    c = out[out.index("// colt kernel"):]
    sym = re.search(r"^void (\w+)\(float\* const\* bufs\)", c, re.M).group(1)
    i = len(names)
    c = c.replace(f"void {sym}(", f"void k{i}(")
    sizes = []
    for m in re.finditer(r"^//   bufs\[(\d+)\] \w+ \((\w+)\): f32\[([\d, ]+)\]", c, re.M):
        n = 1
        for x in m.group(3).split(","):
            n *= int(x)
        sizes.append(n)
    open(f"{tmp}/k{i}.c", "w").write(c)
    subprocess.run(["gcc", "-O3", f"-march={march}", "-fopenmp", "-fno-math-errno", "-fno-trapping-math",
                    "-fassociative-math", "-fno-signed-zeros", "-std=gnu11", "-c", f"{tmp}/k{i}.c",
                    "-o", f"{tmp}/k{i}.o"], check=True)
    names.append(k); objs.append(f"{tmp}/k{i}.o"); bufspecs.append(sizes)
n = len(names)
decl = "".join(f"void k{i}(float* const*);\n" for i in range(n))
table = ",".join(f"k{i}" for i in range(n))
nbufs = ",".join(str(len(b)) for b in bufspecs)
sizes = ",".join("{" + ",".join(str(x) for x in b) + "}" for b in bufspecs)
maxb = max(len(b) for b in bufspecs)
open(f"{tmp}/main.c", "w").write(f"""#include <stdio.h>
#include <stdlib.h>
#include <time.h>
{decl}
typedef void (*kfn)(float* const*);
static kfn K[] = {{{table}}};
static int NB[] = {{{nbufs}}};
static long SZ[][{maxb}] = {{{sizes}}};
static double now(void){{struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+1e-9*t.tv_nsec;}}
int main(void){{
  float* bufs[{n}][{maxb}];
  for(int k=0;k<{n};k++) for(int i=0;i<NB[k];i++){{ long m=SZ[k][i]; bufs[k][i]=aligned_alloc(64,(m*4+63)/64*64+64);
    for(long j=0;j<m;j++) bufs[k][i][j]=(float)((j*7919+i*104729)%1000)/1000.0f; }}
  for(int k=0;k<{n};k++) for(int w=0;w<2;w++) K[k](bufs[k]);
  for(int r=0;r<{rounds};r++) for(int kk=0;kk<{n};kk++){{ int k=(r&1)?{n}-1-kk:kk; double s=now();
    for(int i=0;i<{repeat};i++) K[k](bufs[k]); printf("%d %d %.1f\\n",r,k,(now()-s)/{repeat}*1e6); }}
}}
""")
subprocess.run(["gcc", "-O2", "-fopenmp", f"{tmp}/main.c", *objs, "-o", f"{tmp}/h", "-lm"], check=True)
out = subprocess.run([f"{tmp}/h"], capture_output=True, text=True, check=True).stdout
t = {k: [] for k in names}
for line in out.split("\n"):
    if line:
        r, k, us = line.split()
        t[names[int(k)]].append(float(us))
json.dump(t, open(f"{d0}/inproc-{prefix}.json", "w"), indent=1)
arm = {"old": [], "new": []}
for k in names:
    med = st.median(t[k])
    arm[k.split("-")[-2]].append(med)
    print(f"{k}: {med:.0f} µs (min {min(t[k]):.0f}, max {max(t[k]):.0f})")
o, w = st.median(arm["old"]), st.median(arm["new"])
print(f"{prefix}: old {o:.0f} ({min(arm['old']):.0f}-{max(arm['old']):.0f}), new {w:.0f} "
      f"({min(arm['new']):.0f}-{max(arm['new']):.0f}), new/old {w/o:.2f}")
