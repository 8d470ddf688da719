#!/usr/bin/env python3
"""Whole-process time of `imgfn resize` against `vipsthumbnail`, run alternately (A, B, A, B…)
so machine drift cancels; prints medians, the ratio and each tool's peak RSS.

Interim tool until the Benchmarks harness exists. Usage:
  Benchmarks/resize-vs-vipsthumbnail.py IMGFN PHOTO [PHOTO…] [--pairs N] [--width W]
"""
import argparse, os, statistics, subprocess, sys, tempfile, time


def run(cmd):
    start = time.perf_counter()
    pid = os.posix_spawnp(cmd[0], cmd, os.environ, file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])
    _, status, usage = os.wait4(pid, 0)
    elapsed = (time.perf_counter() - start) * 1000
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(cmd)}")
    return elapsed, usage.ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("imgfn")
    ap.add_argument("photos", nargs="+")
    ap.add_argument("--pairs", type=int, default=15)
    ap.add_argument("--width", type=int, default=320)
    args = ap.parse_args()
    out = tempfile.mkdtemp()
    print(f"| input | imgfn median ms | vipsthumbnail median ms | ratio | imgfn peak RSS MiB | vipsthumbnail peak RSS MiB |")
    print("|---|---|---|---|---|---|")
    for photo in args.photos:
        ours = [args.imgfn, "resize", photo, "--width", str(args.width), "-o", f"{out}/a.jpg"]
        peer = ["vipsthumbnail", photo, "-s", f"{args.width}x", "-o", f"{out}/b.jpg[Q=80,strip]"]
        run(ours), run(peer)  # warm the page cache
        a, b = [], []
        for _ in range(args.pairs):
            a.append(run(ours))
            b.append(run(peer))
        ma, mb = statistics.median(t for t, _ in a), statistics.median(t for t, _ in b)
        print(f"| {os.path.basename(photo)} | {ma:.1f} | {mb:.1f} | {ma / mb:.2f} | "
              f"{max(r for _, r in a):.0f} | {max(r for _, r in b):.0f} |")


if __name__ == "__main__":
    main()
