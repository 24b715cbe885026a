"""Build the Lambda deployment package: couchpay's code plus its runtime dependencies.

    python aws/build_lambda.py --out aws/.serverless/couchpay.zip

Dependencies (``lambda-requirements.txt``) are installed from PyPI as manylinux wheels for the
Lambda runtime's Python and architecture, whatever this machine is; couchpay's own package is
copied from ``src/`` (pure Python). The zip has ``couchpay/`` and the dependencies at its root,
so handlers are ``couchpay/entrypoints/aws_lambda/<module>.handler``. Entries are sorted and
dated 1980-01-01, so the same inputs give the same bytes (and CloudFormation sees no change).
The serverless.yml plugin ``plugins/python-artifact.js`` runs this at package time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PLATFORMS = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}
SKIP_DIRS = {"__pycache__", "static", "bin"}
FIXED_DATE = (1980, 1, 1, 0, 0, 0)


def install_dependencies(target: Path, python_version: str, architecture: str) -> None:
    subprocess.run(  # noqa: S603 - our interpreter, our arguments
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--target",
            str(target),
            "--only-binary=:all:",
            "--implementation",
            "cp",
            "--python-version",
            python_version,
            "--platform",
            PLATFORMS[architecture],
            "--requirement",
            str(HERE / "lambda-requirements.txt"),
        ],
        check=True,
    )


def copy_package(target: Path) -> None:
    shutil.copytree(
        REPO / "src" / "couchpay",
        target / "couchpay",
        ignore=lambda d, names: [n for n in names if n in SKIP_DIRS or n.endswith(".pyc")],
    )


def write_zip(root: Path, out: Path) -> int:
    out.parent.mkdir(parents=True, exist_ok=True)
    files = sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and not (set(p.relative_to(root).parts) & SKIP_DIRS)
    )
    partial = out.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(root).as_posix(), FIXED_DATE)
            mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    partial.replace(out)
    return len(files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--python-version", default="3.11")
    parser.add_argument("--architecture", choices=sorted(PLATFORMS), default="x86_64")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="couchpay-lambda-") as tmp:
        root = Path(tmp)
        install_dependencies(root, args.python_version, args.architecture)
        copy_package(root)
        count = write_zip(root, args.out)
    size = args.out.stat().st_size
    print(f"couchpay Lambda package: {args.out} ({count} files, {size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
