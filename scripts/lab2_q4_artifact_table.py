#!/usr/bin/env python3
"""Issue 25's table for the second lab's Q4 base design (results/lab2/records: q4-seeds, q4-qat, q4-seeds-ptq, q4-grid; the
designs without a stabiliser): plan x quantiser x QAT -> the build's stated bytes, whether every written artifact is the
stated bytes plus the tokenizer's 21,247, the zstd file, and test bits per byte before and after the round trip.
  python3 scripts/lab2_q4_artifact_table.py"""
import json, glob, os, statistics as st, re
os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
R = 'results/lab2/records'
def runs(sweep):
    for l in open(f'{R}/{sweep}/results.jsonl'):
        r=json.loads(l); v=r['values']
        if v.get('layers.0.transformer.qk_norm','false')!='false' or v.get('train.ema_decay','0')!='0' or v.get('train.z_loss','0')!='0' or 'softcap' in v.get('head','tied'): continue
        res=[json.load(open(f)) for f in sorted(glob.glob(f"{R}/{sweep}/p{r['point']:03d}/s*/result.json"))]
        yield v,res
def ms(x): return f"{st.mean(x):.4f} ± {st.stdev(x):.4f}" if len(x)>1 else f"{x[0]:.4f}"
print("| weights (attention + FFN; 8-bit embedding) | quantiser | grid | seeds | stated bytes (before tokenizer) | written = stated + tokenizer | zstd file bytes | test bits/byte, final weights | after the round trip |")
print("|---|---|---|---:|---:|---|---:|---:|---:|")
for sweep in ['q4-seeds','q4-qat','q4-seeds-ptq','q4-grid']:
    for v,res in runs(sweep):
        q=v.get('quantization','')
        m=re.search(r'attention: (\d)',q); bits=f"{m.group(1)}-bit" if m else 'full precision'
        meth=re.search(r'method: ([\w-]+)',q); meth=meth.group(1) if meth else '-'
        grid='stretched' if 'stretched' in q else 'symmetric'
        start=v.get('train.qat_start','')
        label=meth if meth!='qat' else ('QAT from the start' if start in ('0','') else 'QAT from half-way')
        before=[r['final_test_bits_per_byte'] for r in res]
        after=[r.get('test_bits_per_byte_artifact') or r['final_test_bits_per_byte'] for r in res]
        stated=sorted(set(r.get('artifact_bytes_stated') for r in res if r.get('artifact_bytes_stated')))
        ok=all(r.get('artifact_bytes')==r.get('artifact_bytes_stated')+21247 for r in res if r.get('artifact_bytes_stated'))
        fileb=[r['artifact_file_bytes'] for r in res if r.get('artifact_file_bytes')]
        fb=(f"{st.mean(fileb):,.0f} ± {st.stdev(fileb):,.0f}" if len(fileb)>1 else (f"{fileb[0]:,}" if fileb else "–"))
        print(f"| {bits} | {label} | {grid} | {len(res)} | {' / '.join(f'{x:,}' for x in stated) or '–'} | {('not written (full precision)' if bits == 'full precision' else 'yes, every run') if ok or bits == 'full precision' else 'NO'} | {fb} | {ms(before)} | {ms(after)} |")
