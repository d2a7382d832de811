"""Podman's own merged view of each registries.conf case (JSON list of case directories in argv[1]).

`podman info --format json` in a private mount namespace where the case's registries.conf and registries.conf.d
are bound over /etc/containers/registries.conf(.d): exactly what Podman, Buildah and Skopeo would read there.
Prints {case directory: {"ok", "registries" (podman's merged view) or "words" (its refusal)}}.
"""
import concurrent.futures
import json
import subprocess
import sys

BIND = ('mount --bind "$1/registries.conf" /etc/containers/registries.conf && '
        'mount --bind "$1/registries.conf.d" /etc/containers/registries.conf.d && '
        "exec podman info --format json")


def view(case):
    run = subprocess.run(["unshare", "-m", "sh", "-c", BIND, "sh", case], capture_output=True, text=True,
                         timeout=120, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root"})
    if run.returncode != 0:
        return {"ok": False, "words": (run.stdout + run.stderr).strip()[-2000:]}
    return {"ok": True, "registries": json.loads(run.stdout).get("registries", {})}


def main():
    cases = json.loads(sys.argv[1])
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        views = dict(zip(cases, pool.map(view, cases)))
    print(json.dumps(views))


main()
