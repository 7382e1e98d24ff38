# Set each graphed step's kernel trace (scripts/gpu/trace_summary.py's trace-summary.jsonl) beside the time model's
# prediction by kernel kind (time-graphed.jsonl's predicted_kinds_ms): measured ÷ predicted for matmul, attention and
# the memory-bound kinds, and where the memory-bound time goes.   python3 scripts/time_kinds.py results/time/h200-v10
import json,statistics as st,sys
d=sys.argv[1]
pred={}
for l in open(d+'/time-graphed.jsonl'):
    r=json.loads(l); pred[r['model']]=r
rows=[];share={}
for l in open(d+'/trace-summary.jsonl'):
    t=json.loads(l); m=t['mode'].replace('-graphed',''); cls=t['classes_ms']
    p=pred[m]['predicted_kinds_ms']
    mm=cls.get('matmul',0); at=cls.get('attention',0); mem=sum(v for k,v in cls.items() if k not in('matmul','attention'))
    for k,v in cls.items():
        if k not in('matmul','attention'): share[k]=share.get(k,0)+v
    rows.append((m, mm/p['matmul'], at/p['attention'] if p['attention']>0 else float('nan'), mem/p['memory'], t['gpu_ms_per_step']/pred[m]['ms_per_step']))
print(f"{'model':14} matmul attention memory  kernel time ÷ step")
for r in rows: print(f"{r[0]:14} {r[1]:6.2f} {r[2]:8.2f} {r[3]:6.2f} {r[4]:6.2f}")
for i,n in [(1,'matmul'),(2,'attention'),(3,'memory')]:
    v=[r[i] for r in rows]; print(n,'median',round(st.median(v),2),'range',round(min(v),2),round(max(v),2))
tot=sum(share.values()); print({k:round(v/tot,3) for k,v in sorted(share.items(), key=lambda kv:-kv[1])})
