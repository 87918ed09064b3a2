import numpy as np, time, sys
a=np.random.rand(1024,1024).astype(np.float32); b=np.random.rand(1024,1024).astype(np.float32); c=np.empty((1024,1024),np.float32)
for _ in range(3): np.matmul(a,b,out=c)
ts=[]
for _ in range(int(sys.argv[1]) if len(sys.argv)>1 else 10):
    t=time.perf_counter(); n=0
    while True:
        np.matmul(a,b,out=c); n+=1
        if time.perf_counter()-t>0.001: break
    ts.append((time.perf_counter()-t)/n*1e6)
ts.sort(); print(ts[len(ts)//2])
