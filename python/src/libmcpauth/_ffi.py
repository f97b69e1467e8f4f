"""ctypes declarations of the libmcpauth C API (libmcpauth/include/mcpauth.h).

The library is loaded with ``ctypes.CDLL`` (not ``PyDLL``), so the GIL is released for the
duration of every foreign call: verifications from many threads run in parallel in C.

Lookup order: the copy bundled in the package (``libmcpauth/_lib/libmcpauth.so.1``), then the
path in the ``MCPAUTH_LIBRARY`` environment variable, then ``ctypes.util.find_library``.

Every ``char **`` out parameter is declared as ``c_void_p`` (never ``c_char_p``, which would
copy the text and lose the pointer) and released with ``mcpauth_free`` in a ``finally``.

The calls on the request path (``mcpauth_verify``, ``mcpauth_route``, ``mcpauth_route_complete``)
also exist in a second declaration, :class:`Hot`: the engine handle and the out parameters are
passed as plain addresses, the out parameters being a thread's two preallocated pointers
(:func:`slot`), read back through views without a ``string_at`` call. Same functions, same
arguments; only the Python-side cost of the crossing differs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import threading
from ctypes import POINTER, addressof, c_char_p, c_int, c_size_t, c_uint, c_void_p, sizeof
from pathlib import Path
from typing import Any

__all__ = [
    "lib",
    "library_path",
    "take_string",
    "out_ptr",
    "ENGINE_NO_ENV",
    "ENGINE_PREFETCH",
    "ENGINE_SIGNATURE_ONLY",
    "VERIFY_NONBLOCK",
    "VERIFY_SIGNATURE_ONLY",
    "VERIFY_NO_CACHE",
    "REQUEST_NONBLOCK",
    "ROUTE_NONBLOCK",
    "ROUTE_WITH_TOKEN",
    "FLAGS",
    "check_constants",
    "Hot",
    "hot",
    "Slot",
    "slot",
]

ENGINE_NO_ENV = 0x1
ENGINE_PREFETCH = 0x2
ENGINE_SIGNATURE_ONLY = 0x4
VERIFY_NONBLOCK = 0x1
VERIFY_SIGNATURE_ONLY = 0x2
VERIFY_NO_CACHE = 0x4
REQUEST_NONBLOCK = 0x1
ROUTE_NONBLOCK = 0x1
ROUTE_WITH_TOKEN = 0x2

#: every flag of the header, by its C name: compared at load with mcpauth_constants()
FLAGS: dict[str, int] = {
    "MCPAUTH_ENGINE_NO_ENV": ENGINE_NO_ENV,
    "MCPAUTH_ENGINE_PREFETCH": ENGINE_PREFETCH,
    "MCPAUTH_ENGINE_SIGNATURE_ONLY": ENGINE_SIGNATURE_ONLY,
    "MCPAUTH_VERIFY_NONBLOCK": VERIFY_NONBLOCK,
    "MCPAUTH_VERIFY_SIGNATURE_ONLY": VERIFY_SIGNATURE_ONLY,
    "MCPAUTH_VERIFY_NO_CACHE": VERIFY_NO_CACHE,
    "MCPAUTH_REQUEST_NONBLOCK": REQUEST_NONBLOCK,
    "MCPAUTH_ROUTE_NONBLOCK": ROUTE_NONBLOCK,
    "MCPAUTH_ROUTE_WITH_TOKEN": ROUTE_WITH_TOKEN,
}

_SONAME = "libmcpauth.so.1"


def _candidates() -> list[str]:
    out: list[str] = []
    bundled = Path(__file__).resolve().parent / "_lib" / _SONAME
    if bundled.is_file():
        out.append(str(bundled))
    env = os.environ.get("MCPAUTH_LIBRARY")
    if env:
        out.append(env)
    found = ctypes.util.find_library("mcpauth")
    if found:
        out.append(found)
    return out


_P = POINTER(c_void_p)

# name: (restype, argtypes)
_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "mcpauth_version": (c_char_p, []),
    "mcpauth_version_num": (c_uint, []),
    "mcpauth_strerror": (c_char_p, [c_int]),
    "mcpauth_code_name": (c_char_p, [c_int]),
    "mcpauth_oauth_error": (c_char_p, [c_int]),
    "mcpauth_http_status": (c_int, [c_int]),
    "mcpauth_free": (None, [c_void_p]),
    "mcpauth_engine_new": (c_int, [c_char_p, c_size_t, c_uint, _P, _P]),
    "mcpauth_engine_free": (None, [c_void_p]),
    "mcpauth_engine_config": (c_int, [c_void_p, _P]),
    "mcpauth_verify": (c_int, [c_void_p, c_char_p, c_size_t, c_uint, _P, _P]),
    "mcpauth_map_claims": (c_int, [c_void_p, c_char_p, c_size_t, c_char_p, c_size_t, _P, _P]),
    "mcpauth_decode_unverified": (c_int, [c_char_p, c_size_t, _P, _P]),
    "mcpauth_mint": (c_int, [c_char_p, c_size_t, _P, _P]),
    "mcpauth_handle_request": (c_int, [c_void_p, c_char_p, c_size_t, c_uint, _P]),
    "mcpauth_protected_resource_metadata": (c_int, [c_void_p, _P]),
    "mcpauth_authorization_server_metadata": (c_int, [c_void_p, c_uint, _P]),
    "mcpauth_challenge": (c_int, [c_void_p, c_int, c_char_p, c_char_p, _P]),
    "mcpauth_route": (c_int, [c_void_p, c_char_p, c_size_t, c_uint, _P, _P]),
    "mcpauth_route_complete": (c_int, [c_void_p, c_char_p, c_size_t, c_char_p, c_size_t, c_uint, _P, _P]),
    "mcpauth_constants": (c_int, [_P]),
}


# the request path's calls, declared again with plain addresses for the handle and the out
# parameters (see Hot); the same C functions as in _SIGNATURES
_HOT: dict[str, tuple[Any, list[Any]]] = {
    "verify": ("mcpauth_verify", [c_void_p, c_char_p, c_size_t, c_uint, c_void_p, c_void_p]),
    "route": ("mcpauth_route", [c_void_p, c_char_p, c_size_t, c_uint, c_void_p, c_void_p]),
    "route_complete": ("mcpauth_route_complete",
                       [c_void_p, c_char_p, c_size_t, c_char_p, c_size_t, c_uint, c_void_p, c_void_p]),
    "free": ("mcpauth_free", [c_void_p]),
}


class Hot:
    """The calls of the request path, declared for a cheap crossing: ``verify(handle, token,
    len, flags, out_addr, detail_addr)``, ``route(handle, request, len, flags, out_addr,
    detail_addr)``, ``route_complete(handle, request, len, result, len, flags, out_addr,
    detail_addr)`` and ``free(ptr)``. Addresses are ints (a :class:`Slot`'s ``out`` and
    ``detail``)."""

    __slots__ = ("verify", "route", "route_complete", "free")
    verify: Any
    route: Any
    route_complete: Any
    free: Any

    def __init__(self, cdll: ctypes.CDLL) -> None:
        for attr, (name, argtypes) in _HOT.items():
            fn = cdll[name]  # a function object of its own: the declarations in _SIGNATURES stay
            fn.restype = None if name == "mcpauth_free" else c_int
            fn.argtypes = argtypes
            setattr(self, attr, fn)


_PTR = sizeof(c_void_p)


class Slot:
    """Two ``char *`` out parameters (the result and the detail) in one buffer, with views that
    read them: ``out``/``detail`` are their addresses for a :class:`Hot` call, :meth:`take`
    copies what the call left there and frees it. Taken with :func:`slot`: one per thread,
    reused; a fresh one when the thread's is in use (a call made while another is being read)."""

    __slots__ = ("buf", "busy", "out", "detail", "_out_p", "_out_s", "_det_p", "_det_s")

    def __init__(self) -> None:
        buf = (c_void_p * 2)()
        self.buf = buf
        self.busy = False
        self.out = addressof(buf)
        self.detail = self.out + _PTR
        self._out_p = c_void_p.from_buffer(buf, 0)
        self._out_s = c_char_p.from_buffer(buf, 0)
        self._det_p = c_void_p.from_buffer(buf, _PTR)
        self._det_s = c_char_p.from_buffer(buf, _PTR)

    def take(self) -> tuple[bytes | None, bytes | None]:
        """The result and the detail of the last call, copied (None where the call left NULL);
        both are freed and cleared, and the slot is released for the next call."""
        out = det = None
        try:
            if self._out_p.value:
                out = self._out_s.value
            if self._det_p.value:
                det = self._det_s.value
        finally:
            free = lib.mcpauth_free
            if self._out_p.value:
                free(self._out_p)
                self._out_p.value = None
            if self._det_p.value:
                free(self._det_p)
                self._det_p.value = None
            self.busy = False
        return out, det


class _Slots(threading.local):
    def __init__(self) -> None:
        self.slot = Slot()


_slots = _Slots()


def slot() -> Slot:
    """This thread's :class:`Slot`, marked busy until its :meth:`Slot.take` (a fresh one when
    it is busy)."""
    s: Slot = _slots.slot
    if s.busy:
        s = Slot()
    s.busy = True
    return s


def check_constants(lib_constants: dict[str, Any]) -> None:
    """Raises ImportError when the binding's codes or flags differ from the library's
    (``mcpauth_constants()``): a name missing on either side, or another value."""
    from .errors import Code

    mine_codes = {("MCPAUTH_OK" if c.name == "OK" else "MCPAUTH_E_" + c.name): int(c) for c in Code}
    problems: list[str] = []
    for kind, mine, theirs in (("code", mine_codes, lib_constants.get("codes") or {}),
                               ("flag", FLAGS, lib_constants.get("flags") or {})):
        for name in sorted(set(mine) | set(theirs)):
            if mine.get(name) != theirs.get(name):
                problems.append(f"{kind} {name}: binding {mine.get(name)}, library {theirs.get(name)}")
    if problems:
        raise ImportError("libmcpauth: the Python binding and the loaded library disagree on constants: "
                          + "; ".join(problems))


class _Lib:
    """The loaded library, resolved on first use (importing libmcpauth never fails)."""

    def __init__(self) -> None:
        self._cdll: ctypes.CDLL | None = None
        self._path: str | None = None
        self._hot: Hot | None = None
        self._lock = threading.Lock()

    def _load(self) -> ctypes.CDLL:
        with self._lock:
            if self._cdll is not None:
                return self._cdll
            errors: list[str] = []
            for cand in _candidates():
                try:
                    cdll = ctypes.CDLL(cand)
                except OSError as exc:
                    errors.append(f"{cand}: {exc}")
                    continue
                missing = [n for n in _SIGNATURES if not hasattr(cdll, n)]
                if missing:
                    errors.append(f"{cand}: missing symbols {', '.join(missing)}")
                    continue
                fns = {}
                for name, (restype, argtypes) in _SIGNATURES.items():
                    fn = getattr(cdll, name)
                    fn.restype = restype
                    fn.argtypes = argtypes
                    fns[name] = fn
                check_constants(_constants_of(fns["mcpauth_constants"], fns["mcpauth_free"]))
                for name, fn in fns.items():
                    # bound on the instance: later lookups skip __getattr__
                    setattr(self, name, fn)
                self._hot = Hot(cdll)
                self._cdll = cdll
                self._path = cand
                return cdll
            detail = "; ".join(errors) if errors else "no candidate found"
            raise OSError(
                "libmcpauth could not be loaded (bundled libmcpauth/_lib/libmcpauth.so.1, "
                f"$MCPAUTH_LIBRARY, find_library('mcpauth')): {detail}"
            )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("mcpauth_"):
            return getattr(self._cdll or self._load(), name)
        raise AttributeError(name)

    @property
    def path(self) -> str:
        self._cdll or self._load()
        assert self._path is not None
        return self._path


def _constants_of(fn: Any, free_fn: Any) -> dict[str, Any]:
    out = c_void_p()
    if fn(ctypes.byref(out)) != 0 or not out.value:
        raise ImportError("libmcpauth: mcpauth_constants() failed")
    try:
        doc: dict[str, Any] = json.loads(ctypes.string_at(out.value).decode("utf-8"))
        return doc
    finally:
        free_fn(out)


lib = _Lib()


def hot() -> Hot:
    """The request path's calls (loads the library if needed)."""
    if lib._hot is None:
        lib._load()
    assert lib._hot is not None
    return lib._hot


def library_path() -> str:
    """The file the library was loaded from."""
    return lib.path


def out_ptr() -> c_void_p:
    """A fresh NULL ``char *`` for an out parameter (pass it with ctypes.byref)."""
    return c_void_p()


def take_string(ptr: c_void_p) -> str | None:
    """Copies a library-allocated NUL-terminated UTF-8 buffer and frees it."""
    if not ptr.value:
        return None
    try:
        return ctypes.string_at(ptr.value).decode("utf-8", errors="replace")
    finally:
        lib.mcpauth_free(ptr)
        ptr.value = None


def free(ptr: c_void_p) -> None:
    """Frees a library buffer if set (idempotent)."""
    if ptr.value:
        lib.mcpauth_free(ptr)
        ptr.value = None
