import time, statistics
def test_bench(sandbox):
    sb = sandbox(memory="256m")
    sb.sh("true")
    ts = []
    for _ in range(100):
        t0 = time.perf_counter(); sb.exec("true"); ts.append(time.perf_counter() - t0)
    fs = []
    sb.put("/root/f", b"x" * 1000)
    for _ in range(100):
        t0 = time.perf_counter(); sb.client.download(sb.id, "/root/f"); fs.append(time.perf_counter() - t0)
    print(f"\nBENCH exec median {statistics.median(ts)*1000:.2f} ms p90 {sorted(ts)[90]*1000:.2f}; read median {statistics.median(fs)*1000:.2f} ms p90 {sorted(fs)[90]*1000:.2f}")
