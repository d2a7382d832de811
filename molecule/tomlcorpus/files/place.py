"""Put fresh byte-for-byte copies of the TOML corpus (copied to the host as SRC) where the modules run on them.

containerd: every config.toml case in CTD_DIR, the files they import in CTD_DIR/imports.
registries.conf: one directory per case under REG_ROOT, holding registries.conf and registries.conf.d/:
main_<name>.conf is the case's main file (no drop-in); dropin*_<file>.conf is the drop-in <file> beside a
one-line main file.
"""
import os
import shutil
import sys

DROPIN_CASE_MAIN = b'unqualified-search-registries = ["docker.io"]\n'
# What the hostile cases need beside them: an earlier directory of a colon-separated config_path holding a
# _default directory, which containerd reads before the hosts_dir given to the module.
SUPPORT = {"/etc/containerd/tomlcorpus-early.d/_default/hosts.toml":
           b'[host."http://127.0.0.1:5999"]\n  capabilities = ["pull", "resolve"]\n'}
# Where earlier converges wrote hosts.toml files: each converge starts from nothing.
WRITTEN_BEFORE = ["/etc/containerd/certs.d", "/etc/containerd/tomlcorpus-hostsfile.d",
                  "/etc/containerd/tomlcorpus-early.d"]


def read(path):
    with open(path, "rb") as handle:
        return handle.read()


def write(path, data):
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o644)


def main():
    src, ctd_dir, reg_root = sys.argv[1:]
    for directory in [ctd_dir, reg_root] + WRITTEN_BEFORE:
        shutil.rmtree(directory, ignore_errors=True)
    shutil.copytree(os.path.join(src, "containerd_config"), ctd_dir)
    registries = os.path.join(src, "registries_conf")
    for name in sorted(os.listdir(registries)):
        text = read(os.path.join(registries, name))
        case = os.path.join(reg_root, name[:-len(".conf")])
        kind, rest = name.split("_", 1)
        os.makedirs(os.path.join(case, "registries.conf.d"), mode=0o755)
        if kind == "main":
            write(os.path.join(case, "registries.conf"), text)
        else:
            write(os.path.join(case, "registries.conf"), DROPIN_CASE_MAIN)
            write(os.path.join(case, "registries.conf.d", rest), text)
    for path, data in SUPPORT.items():
        write(path, data)


main()
