#!/usr/bin/env python3
"""Proves build/lambda/function.zip is self-contained: unzips it into an otherwise empty root
directory (as Lambda does, into /var/task), runs the bootstrap there with chroot against a
Runtime API server in this script (127.0.0.1), with only the kernel's /proc and /dev mounted
in a private mount namespace (as Lambda's sandbox has them), feeds it one S3 put event for eight
uploads in a file store inside the root — the 2.5 MP fixture, a 12 MP phone photo stored sideways
(EXIF orientation 6), a 400×20000 panorama, a 12 MP grid HEIC, a 12 MP JPEG XL and two damaged files, from `make matrix-fixtures` —
and checks the response and the derivatives: the bundle's libvips, not only the tests', makes
the sets and refuses the damaged files. Prints the cold init
it observes (process start → first /next). Needs root (unshare, mount, chroot). Exit 0 on
success.

    Tests/LambdaBundle/empty_root_test.py [build/lambda/function.zip]
"""
import http.server, json, os, shutil, signal, subprocess, sys, tempfile, threading, time, zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
ZIP = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "build/lambda/function.zip")
PHOTO = os.path.join(REPO, "Fixtures/photos/storm.jpg")
MATRIX = os.path.join(REPO, "Fixtures/large/matrix")
# (stored name, event key (form-encoded, as S3 sends it), source file)
UPLOADS = [
    ("storm 1.jpg", "uploads/storm+1.jpg", PHOTO),
    ("sideways.jpg", "uploads/sideways.jpg", os.path.join(MATRIX, "phone-12mp-orientation-6-baseline.jpg")),
    ("tall.jpg", "uploads/tall.jpg", os.path.join(MATRIX, "tall-400x20000.jpg")),
    # HEIC goes through the bundled libheif + libde265 (the wheel's libvips has no HEVC decoder), JPEG XL
    # through the bundled libjxl: an iPhone-shaped grid HEIC (irot + EXIF 6, Display P3, depth map)
    # and a sideways 12 MP JPEG XL
    ("phone.heic", "uploads/phone.heic", os.path.join(MATRIX, "phone-12mp-grid-p3-depth.heic")),
    ("phone-jxl.jxl", "uploads/phone-jxl.jxl", os.path.join(MATRIX, "phone-12mp-orientation-6.jxl")),
    # damaged data must be refused by the bundle's libvips too: nothing published
    ("bad-crc.png", "uploads/bad-crc.png", os.path.join(MATRIX, "damaged-png-crc.png")),
    ("bad-entropy.jpg", "uploads/bad-entropy.jpg", os.path.join(MATRIX, "damaged-jpeg-entropy.jpg")),
]


def record(key, path):
    return {
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-11-25T10:00:00.000Z", "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": "photos"}, "object": {"key": key, "size": os.path.getsize(path)}},
    }

state = {"next_calls": [], "responses": {}, "errors": [], "init_errors": []}
served = threading.Event()
answered = threading.Event()


class RuntimeAPI(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path != "/2018-06-01/runtime/invocation/next":
            return self.reply(404)
        state["next_calls"].append(time.monotonic())
        if not served.is_set():
            served.set()
            body = json.dumps({"Records": [record(key, path) for _, key, path in UPLOADS]}).encode()
            deadline = str(int(time.time() * 1000) + 120_000)
            return self.reply(200, body, [
                ("Lambda-Runtime-Aws-Request-Id", "req-1"), ("Lambda-Runtime-Deadline-Ms", deadline),
                ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:imgfn"),
                ("Lambda-Runtime-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"),
                ("Content-Type", "application/json")])
        answered.wait(120)  # the second /next: hold it, as a frozen Lambda would
        time.sleep(60)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path.endswith("/init/error"):
            state["init_errors"].append(body.decode())
        elif self.path.endswith("/error"):
            state["errors"].append(body.decode())
        elif self.path.endswith("/response"):
            state["responses"][self.path.split("/")[-2]] = body.decode()
        self.reply(202, b'{"status":"OK"}', [("Content-Type", "application/json")])
        answered.set()


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # The held second /next is cut when the bootstrap is killed at the end: not an error.
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


def main():
    if os.geteuid() != 0:
        sys.exit("empty_root_test.py needs root (chroot)")
    if not os.path.exists(ZIP):
        sys.exit(f"{ZIP} is missing: run `make lambda` first")
    root = tempfile.mkdtemp(prefix="imgfn-empty-root-")
    server = Server(("127.0.0.1", 0), RuntimeAPI)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    process = None
    try:
        with zipfile.ZipFile(ZIP) as z:
            for info in z.infolist():
                path = z.extract(info, os.path.join(root, "var/task"))
                os.chmod(path, (info.external_attr >> 16) & 0o777 or 0o644)
        os.makedirs(os.path.join(root, "store/uploads"))
        for name, _, path in UPLOADS:
            if not os.path.exists(path):
                sys.exit(f"{path} is missing: run `make matrix-fixtures` first")
            shutil.copy(path, os.path.join(root, "store/uploads", name))
        contents = sorted(os.listdir(root))
        assert contents == ["store", "var"], contents  # nothing else: no /lib, /usr, /bin
        # Lambda's sandbox has the kernel's /proc and /dev (and a /tmp); provide those, in a
        # private mount namespace, and nothing else.
        for d in ("proc", "dev", "tmp"):
            os.makedirs(os.path.join(root, d))
        env = {
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}",
            "IMGFN_STORE": "file:///store", "LAMBDA_TASK_ROOT": "/var/task", "AWS_REGION": "us-east-1",
            "AWS_LAMBDA_FUNCTION_NAME": "imgfn", "AWS_LAMBDA_LOG_FORMAT": "JSON",
        }
        started = time.monotonic()
        script = (f'mount -t proc proc "{root}/proc" && mount --rbind /dev "{root}/dev" '
                  f'&& exec chroot "{root}" /var/task/bootstrap')
        process = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                                   env={**env, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while not answered.wait(0.2):
            if process.poll() is not None:
                raise AssertionError(f"bootstrap exited with {process.returncode} before answering "
                                     f"(/next calls: {len(state['next_calls'])})")
            if time.monotonic() > deadline:
                raise AssertionError(f"no response within 120 s (/next calls: {len(state['next_calls'])})")
        init_ms = (state["next_calls"][0] - started) * 1000
        assert not state["init_errors"] and not state["errors"], (state["init_errors"], state["errors"])
        response = json.loads(state["responses"]["req-1"])
        assert response.get("ok") == 5 and response.get("failed") == 2, response
        refused = sorted(r["key"] for r in response["results"] if "failed" in r["outcome"])
        assert refused == ["uploads/bad-crc.png", "uploads/bad-entropy.jpg"], response["results"]
        assert all(not r["outcome"]["failed"]["transient"] for r in response["results"] if "failed" in r["outcome"])
        for stem in ("bad-crc", "bad-entropy"):
            assert not os.path.exists(os.path.join(root, "store/derived", stem)), f"{stem}: derivatives were published"
        derived = sorted(os.listdir(os.path.join(root, "store/derived/storm 1")))
        assert "manifest.json" in derived and "w320.webp" in derived and "w2048.avif" in derived, derived
        sideways = json.load(open(os.path.join(root, "store/derived/sideways/manifest.json")))
        assert (sideways["source"]["width"], sideways["source"]["height"]) == (4272, 2848), sideways["source"]
        sizes = {(d["name"], d["format"]): (d["width"], d["height"]) for d in sideways["derivatives"]}
        assert len(sizes) == 10 and sizes[("w320", "jpeg")] == (320, 213) and sizes[("w2048", "avif")] == (2048, 1365), sizes
        tall = json.load(open(os.path.join(root, "store/derived/tall/manifest.json")))
        left_out = sorted(f'{o["name"]}.{o["format"]}' for o in tall["omitted"])
        assert left_out == ["w1280.avif", "w1280.webp", "w2048.avif", "w2048.webp", "w640.webp"], left_out
        assert len(tall["derivatives"]) == 5 and all(o["reason"] for o in tall["omitted"]), tall
        for stem in ("phone", "phone-jxl"):
            phone = json.load(open(os.path.join(root, f"store/derived/{stem}/manifest.json")))
            assert (phone["source"]["width"], phone["source"]["height"]) == (4272, 2848), (stem, phone["source"])
            phone_sizes = {(d["name"], d["format"]): (d["width"], d["height"]) for d in phone["derivatives"]}
            assert len(phone_sizes) == 10 and phone_sizes[("w320", "jpeg")] == (320, 213), (stem, phone_sizes)
        print(f"empty-root run ok (HEIC and JPEG XL included): {len(derived)} files in /store/derived/storm 1/, the sideways photo's set upright, "
              f"the panorama's {len(left_out)} files over WebP/AVIF limits left out, the damaged files refused; "
              f"cold init (process start → first /next) {init_ms:.1f} ms, "
              f"first response after {(time.monotonic() - started) * 1000:.0f} ms")
    finally:
        if process:
            process.send_signal(signal.SIGKILL)
            output = process.communicate()[0].decode(errors="replace")
            if sys.exc_info()[0] is not None:
                print(output[-4000:])
        server.shutdown()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
