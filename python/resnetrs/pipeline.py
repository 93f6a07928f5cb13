"""Decoding that keeps the engine busy (docs/validate.md): K threads decode and preprocess images
into the rows of batch arrays while the caller runs the engine on the batch before.

    with resnetrs.ImageBatches(paths, batch_size=32, size=160) as batches:
        for b in batches:                    # in order; b.pixels [n, 3, 160, 160] float32
            logits = engine(b.pixels)        # rows are the images b.indices (positions in paths)
            ...                              # b.failures: [(position, error)] of images that failed

Memory stays bounded whatever the number of images: at most `prefetch` batches are being filled
ahead of the one the caller holds (a bounded queue of batches), each image is decoded straight into
its row (resnetrs.load_image(..., out=row): no per-image array, no stacking copy), and sources are
read from the iterable only as batches are scheduled. The decoding calls release the GIL, so the
threads run in parallel with each other and with the engine.
"""

from __future__ import annotations

import collections
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Deque, Iterable, Iterator, List, NamedTuple, Optional, Tuple, Union

import numpy as np

from .errors import Error, InvalidArgumentError
from .images import load_image

Source = Union[str, "os.PathLike[str]", bytes]
# A custom loader writes the pixels of `source` into `out` (or raises resnetrs.Error / OSError).
Loader = Callable[[Any, np.ndarray], None]


def default_workers() -> int:
    """The decoding threads used by default: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class Batch(NamedTuple):
    pixels: np.ndarray                   # [n, 3, H, W] (or [n, H, W, 3]) float32, the images that loaded; n may be 0
    indices: List[int]                   # position in the sources of each row of pixels
    failures: List[Tuple[int, Exception]]  # (position, error) of the images of this batch that failed
    decode_s: float                      # seconds spent decoding this batch's images, summed over images


class _Pending(NamedTuple):
    start: int                  # position of the batch's first source
    sources: List[Any]
    pixels: np.ndarray
    futures: List["Future[Tuple[float, Optional[Exception]]]"]


class ImageBatches:
    """An iterator of Batch, in the order of `sources`, each from `batch_size` consecutive sources
    (the last may be shorter; images that fail are left out of `pixels` and named in `failures`).

    sources: paths or bytes (any iterable, read lazily). size: S or (H, W). preprocess, crop_pct,
    layout, max_pixels: as resnetrs.load_image. workers: decoding threads (default: the cores).
    prefetch: batches decoded ahead of the one the caller holds (>= 1). loader: instead of
    load_image, a function loader(source, out) that writes one image's pixels into `out`.
    Close it (or use `with`) when stopping early: close() cancels what is queued and joins the threads.
    """

    def __init__(self, sources: Iterable[Source], batch_size: int, *, size: Union[int, Tuple[int, int]] = 224,
                 preprocess: str = "release", crop_pct: Optional[float] = None, layout: str = "nchw",
                 max_pixels: Optional[int] = None, workers: Optional[int] = None, prefetch: int = 2,
                 loader: Optional[Loader] = None):
        if batch_size < 1:
            raise InvalidArgumentError(f"batch_size {batch_size}: expected >= 1")
        workers = default_workers() if workers is None else workers
        if workers < 1:
            raise InvalidArgumentError(f"workers {workers}: expected >= 1")
        if prefetch < 1:
            raise InvalidArgumentError(f"prefetch {prefetch}: expected >= 1")
        if layout not in ("nchw", "nhwc"):
            raise InvalidArgumentError(f"layout='{layout}': expected 'nchw' or 'nhwc'")
        h, w = (size, size) if isinstance(size, int) else tuple(size)
        self.image_shape = (3, h, w) if layout == "nchw" else (h, w, 3)
        self.batch_size = batch_size
        self.workers = workers
        self.prefetch = prefetch
        if loader is None:
            def loader(source, out, _size=(h, w)):
                load_image(source, size=_size, preprocess=preprocess, crop_pct=crop_pct, layout=layout,
                           max_pixels=max_pixels, out=out)
        self._loader = loader
        self._sources = iter(sources)
        self._next_position = 0
        self._exhausted = False
        self._pending: Deque[_Pending] = collections.deque()
        self._pool: Optional[ThreadPoolExecutor] = ThreadPoolExecutor(workers, thread_name_prefix="resnetrs-decode")
        self._lock = threading.Lock()

    # -- scheduling ------------------------------------------------------------------------------
    def _decode(self, source: Any, out: np.ndarray) -> Tuple[float, Optional[Exception]]:
        """(seconds, None), or (seconds, the error) for an image that cannot be loaded; anything else
        (a bug) propagates to the caller of next()."""
        t = time.perf_counter()
        try:
            self._loader(source, out)
            error = None
        except (Error, OSError) as e:
            error = e
        return time.perf_counter() - t, error

    def _schedule_one(self) -> bool:
        """Reads the next batch of sources and queues its images; False when there are no more."""
        if self._exhausted:
            return False
        chunk = []
        for source in self._sources:
            chunk.append(source)
            if len(chunk) == self.batch_size:
                break
        if len(chunk) < self.batch_size:
            self._exhausted = True
        if not chunk:
            return False
        pixels = np.empty((len(chunk),) + self.image_shape, np.float32)
        assert self._pool is not None
        futures = [self._pool.submit(self._decode, s, pixels[i]) for i, s in enumerate(chunk)]
        self._pending.append(_Pending(self._next_position, chunk, pixels, futures))
        self._next_position += len(chunk)
        return True

    def _fill(self, batches: int) -> None:
        while len(self._pending) < batches and self._schedule_one():
            pass

    # -- iteration -------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Batch]:
        return self

    def __next__(self) -> Batch:
        with self._lock:
            if self._pool is None:
                raise StopIteration
            self._fill(1)
            if not self._pending:
                self.close()
                raise StopIteration
            p = self._pending.popleft()
            self._fill(self.prefetch)  # `prefetch` batches decode while the caller waits for and uses this one
        ok: List[int] = []
        failures: List[Tuple[int, Exception]] = []
        decode_s = 0.0
        for i, f in enumerate(p.futures):
            seconds, error = f.result()
            decode_s += seconds
            if error is None:
                ok.append(i)
            else:
                failures.append((p.start + i, error))
        pixels = p.pixels if len(ok) == len(p.sources) else p.pixels[ok]
        return Batch(pixels, [p.start + i for i in ok], failures, decode_s)

    def close(self) -> None:
        """Stops the decoding threads (queued images are dropped). Idempotent."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        self._pending.clear()

    def __enter__(self) -> "ImageBatches":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
