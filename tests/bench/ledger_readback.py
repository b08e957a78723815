"""Benchmark (not a test): the ledger's read-back of many entries of mixed
sizes against a real local 4-server MinIO, its wall time and peak memory.

    python -m tests.bench.ledger_readback                  # 100,000 entries
    python -m tests.bench.ledger_readback --entries 20000 --readers 8 16

    python -m tests.bench.ledger_readback --synthetic --entries 100000

It writes the objects (mostly 4 KiB, 1% of 1 MiB, 0.05% of 16-64 MiB as
multipart uploads) and their ledger, then runs each read-back in a fresh
process, so the peak RSS (``resource.getrusage``) is the read-back's own and
not the writer's: loading the ledger, reading and hashing every object in
parallel, listing the prefix. Prints one JSON line per measurement.

``--synthetic`` writes only a ledger and answers reads and the listing from
the keys themselves, without a store: what the ledger's own bookkeeping
costs at a size the machine cannot write objects for quickly.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from chaos import ledger
from chaos.clients import Credentials, http_pool, lister, object_reader, s3_client
from chaos.sizemix import KIB, MIB, PART_SIZE
from deployer.tools import resolve
from loadtests.traffic import PatternStream
from tests.fixtures.localminio import LocalMinioCluster

BUCKET = "bench"
MIX = (("small", 4 * KIB, 4 * KIB, 0.9895), ("medium", MIB, MIB, 0.01), ("large", 16 * MIB, 64 * MIB, 0.0005))


def _rss_mib() -> float:
    # ru_maxrss is in KiB on Linux: the process's peak resident set so far.
    # Linux carries it over an exec from the process that forked us, which is
    # why the writer runs in a child of its own and the parent stays small.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _hwm_mib() -> float:
    """The peak resident set of this program's own memory (VmHWM: not carried over an exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def write(url: str, credentials: Credentials, entries: int, folder: Path, threads: int = 16) -> dict[str, float]:
    client = s3_client(url, credentials, http=http_pool(read=60, maxsize=threads))
    if not client.bucket_exists(BUCKET):
        client.make_bucket(BUCKET)
    rng = random.Random(1)
    plan = []
    for i in range(entries):
        name, low, high, _ = rng.choices(MIX, weights=[m[3] for m in MIX])[0]
        plan.append((f"bench/{i:07d}", name, rng.randint(low, high)))

    def put(item: tuple[str, str, int]) -> ledger.Write:
        key, size_class, size = item
        started = time.time()
        if size > PART_SIZE:
            stream = PatternStream(size, seed=hash(key))
            client.put_object(BUCKET, key, stream, size, part_size=PART_SIZE, num_parallel_uploads=1)
            digest = stream.finish()
        else:
            data = os.urandom(size)
            client.put_object(BUCKET, key, io.BytesIO(data), size)
            digest = ledger.sha256_hex(data)
        latency_ms = (time.time() - started) * 1000
        return ledger.Write(
            key, size, digest, ledger.ACKED, time.time(), "s3", latency_ms, "", "put", size_class, size > PART_SIZE
        )

    started = time.monotonic()
    with ledger.LedgerWriter(folder / "bench.jsonl") as out, ThreadPoolExecutor(threads) as pool:
        for done, record in enumerate(pool.map(put, plan), 1):
            out.record(record)
            if done % 10000 == 0:
                print(f"  wrote {done:,} objects in {time.monotonic() - started:.0f} s", file=sys.stderr)
    sizes = [p[2] for p in plan]
    return {
        "entries": entries,
        "bytes": sum(sizes),
        "medium": sum(1 for p in plan if p[1] == "medium"),
        "large": sum(1 for p in plan if p[1] == "large"),
        "write_s": round(time.monotonic() - started, 1),
    }


def write_synthetic(entries: int, folder: Path) -> dict[str, float]:
    """A ledger only: each entry's sha256 is that of its key (see ``_from_key``)."""
    rng = random.Random(1)
    with ledger.LedgerWriter(folder / "bench.jsonl") as out:
        for i in range(entries):
            key = f"bench/{i:07d}"
            name, low, high, _ = rng.choices(MIX, weights=[m[3] for m in MIX])[0]
            size = rng.randint(low, high)
            digest = ledger.sha256_hex(key.encode())
            out.record(ledger.Write(key, size, digest, ledger.ACKED, float(i), "s3", 5.0, "", "put", name))
    return {"entries": entries, "synthetic": True}


def _from_key(sizes: dict[str, int]) -> ledger.Fetch:
    def fetch(key: str) -> tuple[str, int]:
        return ledger.sha256_hex(key.encode()), sizes[key]

    return fetch


def read_back(url: str, credentials: Credentials | None, folder: Path, readers: int) -> dict[str, float]:
    """In this process: load the ledger, read everything back, list the prefix."""
    base = _rss_mib()
    started = time.monotonic()
    writes = ledger.load(folder)
    loaded = time.monotonic()
    after_load = _rss_mib()
    if credentials is None:  # synthetic: no store
        sizes = {w.key: w.size for w in writes}
        report = ledger.check(writes, _from_key(sizes), lister=lambda prefix: iter(sizes), readers=readers)
    else:
        client = s3_client(url, credentials, http=http_pool(read=60, maxsize=readers))
        report = ledger.check(
            writes, object_reader(client, BUCKET), lister=lister(client, BUCKET), readers=readers, refuse_retry_s=10
        )
    done = time.monotonic()
    return {
        "readers": readers,
        "entries": len(writes),
        "stable": report.counts["stable"],
        "damaged": report.damaged,
        "unreadable": report.unreadable,
        "bytes_read": report.readback["bytes"],
        "load_ledger_s": round(loaded - started, 2),
        "read_s": report.readback["seconds"],
        "listing_s": report.readback["listing_seconds"],
        "check_s": round(done - loaded, 2),
        "keys_per_s": round(len(writes) / (done - loaded)),
        "peak_rss_mib_before": round(base, 1),
        "peak_rss_mib_after_load": round(after_load, 1),
        "peak_rss_mib": round(_rss_mib(), 1),
        "vm_hwm_mib": round(_hwm_mib(), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.ledger_readback", description=__doc__)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--readers", type=int, nargs="+", default=[8])
    parser.add_argument("--root", type=Path, default=None, help="where the MinIO drives go (default: a temp folder)")
    parser.add_argument("--synthetic", action="store_true", help="a ledger only, no store (see above)")
    parser.add_argument("--check-only", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--write-only", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    # The children: URL and credentials come from the parent's environment.
    env = os.environ
    credentials = Credentials(env["BENCH_ACCESS_KEY"], env["BENCH_SECRET_KEY"]) if "BENCH_URL" in env else None
    if args.check_only is not None:
        print(json.dumps(read_back(env.get("BENCH_URL", ""), credentials, args.check_only, args.readers[0])))
        return 0
    if args.write_only is not None and credentials is not None:
        print(json.dumps({"written": write(env["BENCH_URL"], credentials, args.entries, args.write_only)}))
        return 0
    root = args.root or Path(tempfile.mkdtemp(prefix="chaosgate-bench-"))
    if args.synthetic:
        folder = root / "ledger"
        folder.mkdir(parents=True, exist_ok=True)
        print(json.dumps({"written": write_synthetic(args.entries, folder)}), flush=True)
        for readers in args.readers:
            _child(folder, readers, dict(os.environ))
        return 0
    with LocalMinioCluster(binary=resolve("minio").path, root=root / "minio") as cluster:
        credentials = Credentials(cluster.access_key, cluster.secret_key)
        folder = root / "ledger"
        folder.mkdir(parents=True, exist_ok=True)
        child_env = {
            **os.environ,
            "BENCH_URL": cluster.url(0),
            "BENCH_ACCESS_KEY": cluster.access_key,
            "BENCH_SECRET_KEY": cluster.secret_key,
        }
        _run(["--write-only", str(folder), "--entries", str(args.entries)], child_env, stderr=None)
        for readers in args.readers:
            _child(folder, readers, child_env)
    return 0


def _child(folder: Path, readers: int, env: dict[str, str]) -> None:
    """One read-back in a fresh process, so its peak RSS is its own."""
    _run(["--check-only", str(folder), "--readers", str(readers)], env)


def _run(args: list[str], env: dict[str, str], stderr: int | None = subprocess.PIPE) -> None:
    command = [sys.executable, "-m", "tests.bench.ledger_readback", *args]
    result = subprocess.run(
        command, env=env, check=True, timeout=7200, stdout=subprocess.PIPE, stderr=stderr, text=True
    )
    print(result.stdout.strip(), flush=True)


if __name__ == "__main__":
    sys.exit(main())
