"""The build backend of the libmcpauth Python package: scikit-build-core, plus one step for
the sdist. The C core lives one directory up (the repository's CMakeLists.txt and libmcpauth/),
outside the Python project, so ``build_sdist`` first copies what the core's build needs into
``_core/`` (the top CMakeLists.txt, libmcpauth/include, libmcpauth/src, sources.txt, the
version script and the pkg-config template), lets scikit-build-core pack it, and removes the
copy. ``pip install libmcpauth-X.tar.gz`` then builds the core from ``_core/`` like
``pip install ./python`` builds it from the repository (python/CMakeLists.txt picks the
source tree)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from scikit_build_core import build as _skb
from scikit_build_core.build import *  # noqa: F403  (every hook of the PEP 517/660 backend)

_PROJECT = Path(__file__).resolve().parent.parent  # python/
_REPO = _PROJECT.parent
_CORE = _PROJECT / "_core"
_FILES = ("CMakeLists.txt", "libmcpauth/sources.txt", "libmcpauth/mcpauth.map", "libmcpauth/libmcpauth.pc.in")
_DIRS = ("libmcpauth/include", "libmcpauth/src")


def _stage() -> bool:
    if not (_REPO / "libmcpauth" / "sources.txt").is_file():
        return False  # an sdist: _core/ is already there
    if _CORE.exists():
        shutil.rmtree(_CORE)
    for f in _FILES:
        (_CORE / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(_REPO / f, _CORE / f)
    for d in _DIRS:
        shutil.copytree(_REPO / d, _CORE / d, ignore=shutil.ignore_patterns("*.go", "*.o", "__pycache__"))
    return True


def build_sdist(sdist_directory: str, config_settings: dict[str, Any] | None = None) -> str:
    staged = _stage()
    try:
        name: str = _skb.build_sdist(sdist_directory, config_settings)
        return name
    finally:
        if staged:
            shutil.rmtree(_CORE, ignore_errors=True)
