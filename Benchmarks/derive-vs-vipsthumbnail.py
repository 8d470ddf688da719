#!/usr/bin/env python3
"""The default derivative set (320/640/1280/2048 wide; JPEG+WebP, plus AVIF for 1280/2048) made by
one `imgfn derive` process, against one `vipsthumbnail` process per output file, alternated
(A, B, A, B…) so machine drift cancels. Prints medians, the ratio and peak RSS.

Interim tool until the Benchmarks harness exists. Usage:
  Benchmarks/derive-vs-vipsthumbnail.py IMGFN PHOTO [PHOTO…] [--pairs N]
"""
import argparse, os, shutil, statistics, sys, tempfile, time

OUTPUTS = [(320, "jpg[Q=80,interlace,strip]"), (320, "webp[Q=75,strip]"),
           (640, "jpg[Q=80,interlace,strip]"), (640, "webp[Q=75,strip]"),
           (1280, "jpg[Q=80,interlace,strip]"), (1280, "webp[Q=75,strip]"), (1280, "avif[Q=50,strip]"),
           (2048, "jpg[Q=80,interlace,strip]"), (2048, "webp[Q=75,strip]"), (2048, "avif[Q=50,strip]")]


def run(cmd):
    start = time.perf_counter()
    pid = os.posix_spawnp(cmd[0], cmd, os.environ, file_actions=[
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0), (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)])
    _, status, usage = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(cmd)}")
    return (time.perf_counter() - start) * 1000, usage.ru_maxrss / 1024


def ours(imgfn, photo, out):
    shutil.rmtree(out, ignore_errors=True)
    return run([imgfn, "derive", photo, "--out", out])


def peers(photo, out):
    os.makedirs(out, exist_ok=True)
    total, peak = 0.0, 0.0
    for i, (width, fmt) in enumerate(OUTPUTS):
        ms, rss = run(["vipsthumbnail", photo, "-s", f"{width}x", "-o", f"{out}/o{i}.{fmt}"])
        total, peak = total + ms, max(peak, rss)
    return total, peak


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("imgfn")
    ap.add_argument("photos", nargs="+")
    ap.add_argument("--pairs", type=int, default=5)
    args = ap.parse_args()
    out = tempfile.mkdtemp()
    print("| input | imgfn derive median ms | vipsthumbnail ×10 median ms | ratio | imgfn peak RSS MiB | vipsthumbnail peak RSS MiB |")
    print("|---|---|---|---|---|---|")
    for photo in args.photos:
        ours(args.imgfn, photo, f"{out}/a"), peers(photo, f"{out}/b")  # warm up
        a, b = [], []
        for _ in range(args.pairs):
            a.append(ours(args.imgfn, photo, f"{out}/a"))
            b.append(peers(photo, f"{out}/b"))
        ma, mb = statistics.median(t for t, _ in a), statistics.median(t for t, _ in b)
        print(f"| {os.path.basename(photo)} | {ma:.0f} | {mb:.0f} | {ma / mb:.2f} | "
              f"{max(r for _, r in a):.0f} | {max(r for _, r in b):.0f} |", flush=True)


if __name__ == "__main__":
    main()
