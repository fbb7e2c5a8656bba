"""Downloading dataset files: official mirrors, MD5 verification, atomic writes, a cache folder.

Every download goes to a temporary file next to its destination and is renamed into place only
after its MD5 checksum matched, so an interrupted or corrupted transfer never leaves a file that
a later run would mistake for the real one. ``_fetch`` is the one function that touches the
network (tests replace it).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

__all__ = ["default_data_dir", "calculate_md5", "check_integrity", "download_url"]

USER_AGENT = "deepgrad (https://pypi.org/project/deepgrad)"
_CHUNK = 1 << 20


def default_data_dir() -> Path:
    """The dataset cache folder: ``$DEEPGRAD_DATA`` if set, else ``~/.cache/deepgrad``.

    Returns:
        The folder as a ``Path`` (not created here).

    Example:
        >>> default_data_dir()  # doctest: +SKIP
        PosixPath('/home/me/.cache/deepgrad')
    """
    configured = os.environ.get("DEEPGRAD_DATA")
    if configured:
        return Path(configured).expanduser()
    return Path("~/.cache/deepgrad").expanduser()


def resolve_root(root) -> Path:
    """``root`` as a ``Path`` with ``~`` expanded; ``None`` means :func:`default_data_dir`."""
    return default_data_dir() if root is None else Path(os.fspath(root)).expanduser()


def calculate_md5(path, chunk_size: int = _CHUNK) -> str:
    """Hex MD5 digest of a file, read in chunks (MD5 checks integrity here, not authenticity)."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_integrity(path, md5: str | None = None) -> bool:
    """True when ``path`` is a file and (if ``md5`` is given) its MD5 digest equals ``md5``."""
    if not os.path.isfile(path):
        return False
    return md5 is None or calculate_md5(path) == md5


def _fetch(url: str, destination, timeout: float = 60.0) -> None:
    """Copy the body of ``url`` into the open binary file ``destination``.

    Raises ``OSError`` (``urllib.error.URLError`` is one) when the server cannot be reached.
    """
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - fixed URLs
        shutil.copyfileobj(response, destination, _CHUNK)


def download_url(urls: str | Sequence[str], root, filename: str | None = None,
                 md5: str | None = None) -> Path:
    """Download a file into ``root``, trying each mirror in turn, and verify its MD5 checksum.

    An existing file whose checksum matches is kept without downloading. The transfer goes to
    a temporary file in ``root`` that is renamed over ``root/filename`` only once its checksum
    matched, so readers never see a partial file.

    Args:
        urls: one URL or a list of mirror URLs of the same file, tried in order.
        root: destination folder (created if missing).
        filename: name to save under; defaults to the last part of the first URL.
        md5: expected hex MD5 digest; ``None`` skips verification.

    Returns:
        The path of the verified file.

    Raises:
        RuntimeError: every mirror failed (unreachable, or wrong checksum); the message names
            each URL with its error, the destination, and how to place the file by hand.

    Example:
        >>> download_url("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        ...              "data", md5="c58f30108f718f92721af3b95e74349a")  # doctest: +SKIP
    """
    urls = [urls] if isinstance(urls, str) else list(urls)
    root = Path(os.fspath(root)).expanduser()
    filename = filename or urls[0].rstrip("/").rsplit("/", 1)[-1]
    target = root / filename
    if check_integrity(target, md5):
        return target
    root.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        handle = tempfile.NamedTemporaryFile(dir=root, prefix=f".{filename}.", suffix=".part",
                                             delete=False)
        try:
            with handle:
                _fetch(url, handle)
            if md5 is not None and (got := calculate_md5(handle.name)) != md5:
                failures.append(f"{url}: MD5 checksum mismatch (expected {md5}, got {got})")
                continue
            os.replace(handle.name, target)
            return target
        except OSError as error:  # URLError, HTTPError, timeouts, disk errors
            reason = getattr(error, "reason", None) or error
            failures.append(f"{url}: {reason}")
        finally:
            if os.path.exists(handle.name):
                os.unlink(handle.name)
    tried = "\n  ".join(failures)
    raise RuntimeError(
        f"could not download {filename} to {target}:\n  {tried}\n"
        f"If this machine is offline, download the file elsewhere from {urls[0]} and place it "
        f"at {target} (or point root / --data-dir at a folder that holds it)."
    )
