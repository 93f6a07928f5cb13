"""Images in (docs/preprocessing.md), through the C API (libresnetrs.so via ctypes).

* RELEASE: equal to TensorFlow's own ops, tf.io.decode_and_crop_jpeg with TF's defaults (or
  tf.io.decode_png) + TF1's centre crop + tf.compat.v1.image.resize_bicubic, within 1e-3 on the
  0..255 scale, on images made here: odd sizes, portrait and landscape, grayscale, CMYK,
  progressive, 4:2:0 and 4:4:4, PNG with alpha, 16-bit and palette PNG, smaller than S, 4000 px wide.
* TIMM: equal to PIL, called as timm's eval transform calls it (torchvision Resize(int) ->
  PIL resize BICUBIC, CenterCrop), exactly (both give 8-bit values).
* Bad images: each class refused with its status and a message naming the image.
"""

from __future__ import annotations

import functools
import io
import math
import os
import struct
import zlib

import numpy as np
import pytest

import image_capi as C

tf = pytest.importorskip("tensorflow")
Image = pytest.importorskip("PIL.Image")

TOL = 1e-3  # absolute, 0..255 scale


@pytest.fixture(scope="module", autouse=True)
def _library():
    try:
        C.lib()
    except FileNotFoundError as e:
        pytest.fail(str(e))


@functools.lru_cache(maxsize=None)
def smooth_image(h: int, w: int, c: int, seed: int) -> np.ndarray:
    """A photo-like test image: random low-frequency content plus noise (never constant)."""
    rng = np.random.default_rng(seed)
    small = rng.uniform(0, 255, (h // 16 + 2, w // 16 + 2, c))
    img = tf.image.resize(small[None], (h, w), method="bicubic")[0].numpy()
    img += rng.normal(0, 12, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def jpeg(img: np.ndarray, **kw) -> bytes:
    fmt = "grayscale" if img.shape[2] == 1 else "rgb"
    return tf.io.encode_jpeg(img, format=fmt, quality=kw.pop("quality", 90), **kw).numpy()


def png(img: np.ndarray) -> bytes:
    return tf.io.encode_png(img).numpy()


def pil_bytes(im, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def tf_release(data: bytes, size: int, dct_method: str = "") -> np.ndarray:
    """The release's eval transform, written as TF1's resnet_preprocessing.py writes it."""
    is_jpeg = data[:3] == b"\xff\xd8\xff"
    if is_jpeg:
        shape = tf.image.extract_jpeg_shape(data)
    else:
        full = tf.io.decode_png(data, channels=3)
        shape = tf.shape(full)
    h, w = shape[0], shape[1]
    crop = tf.cast((size / (size + 32)) * tf.cast(tf.minimum(h, w), tf.float32), tf.int32)
    oh, ow = ((h - crop) + 1) // 2, ((w - crop) + 1) // 2
    if is_jpeg:
        img = tf.io.decode_and_crop_jpeg(data, tf.stack([oh, ow, crop, crop]), channels=3, dct_method=dct_method)
    else:
        img = full[oh:oh + crop, ow:ow + crop]
    return tf.compat.v1.image.resize_bicubic([img], [size, size])[0].numpy()


def pil_timm(data: bytes, size: int, crop_pct: float) -> np.ndarray:
    """timm's transforms_imagenet_eval (crop_mode 'center') on a PIL image, spelled out:
    Resize(floor(size / crop_pct)) is torchvision's shortest-side resize, which calls
    PIL resize(BICUBIC); CenterCrop(size) offsets are int(round((side - size) / 2.0))."""
    im = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = im.size
    scale = math.floor(size / crop_pct)
    if w <= h:
        nw, nh = scale, int(scale * h / w)
    else:
        nh, nw = scale, int(scale * w / h)
    im = im.resize((nw, nh), Image.BICUBIC)
    top, left = int(round((nh - size) / 2.0)), int(round((nw - size) / 2.0))
    return np.asarray(im.crop((left, top, left + size, top + size)), np.float32)


def ours(data: bytes, size: int, **kw) -> np.ndarray:
    return C.load_memory(data, C.options(size, **kw)).transpose(1, 2, 0)  # NCHW -> HWC


def _cmyk_jpeg() -> bytes:
    rgb = smooth_image(183, 245, 4, 7)
    return pil_bytes(Image.fromarray(rgb, "CMYK"), "JPEG", quality=90)


def _palette_png(transparency: bool) -> bytes:
    im = Image.fromarray(smooth_image(151, 207, 3, 8)).quantize(colors=64)
    return pil_bytes(im, "PNG", **({"transparency": 3} if transparency else {}))


def _png16() -> bytes:
    rng = np.random.default_rng(9)
    img = (smooth_image(129, 171, 3, 9).astype(np.uint16) * 257 + rng.integers(0, 257, (129, 171, 3))).astype(np.uint16)
    return png(img)


# (name, bytes factory, S)
RELEASE_CASES = [
    ("jpeg 4:2:0 landscape, odd", lambda: jpeg(smooth_image(333, 517, 3, 1)), 160),
    ("jpeg 4:4:4 portrait, odd", lambda: jpeg(smooth_image(401, 257, 3, 2), chroma_downsampling=False), 224),
    ("jpeg progressive", lambda: jpeg(smooth_image(300, 451, 3, 3), progressive=True), 192),
    ("jpeg grayscale", lambda: jpeg(smooth_image(211, 303, 1, 4)), 160),
    ("jpeg smaller than S", lambda: jpeg(smooth_image(97, 131, 3, 5)), 224),
    ("jpeg 4000 px wide", lambda: jpeg(smooth_image(2251, 4000, 3, 6)), 256),
    ("jpeg CMYK (Adobe)", _cmyk_jpeg, 160),
    ("png RGB portrait", lambda: png(smooth_image(263, 199, 3, 10)), 160),
    ("png RGBA (alpha dropped)", lambda: png(smooth_image(211, 303, 4, 11)), 160),
    ("png grayscale", lambda: png(smooth_image(177, 149, 1, 12)), 224),
    ("png grayscale + alpha", lambda: png(smooth_image(149, 177, 2, 13)), 192),
    ("png 16-bit", _png16, 160),
    ("png palette", lambda: _palette_png(False), 160),
    ("png palette + tRNS", lambda: _palette_png(True), 160),
]


@pytest.mark.parametrize("name,make,size", RELEASE_CASES, ids=[c[0] for c in RELEASE_CASES])
def test_release_equals_tensorflow(name, make, size):
    data = make()
    got, want = ours(data, size), tf_release(data, size)
    assert got.shape == want.shape == (size, size, 3)
    err = float(np.abs(got - want).max())
    assert err <= TOL, f"{name}: max |ours - TF| = {err}"
    assert float(want.std()) > 5.0  # a real image, not a flat one


def test_release_jpeg_idct_is_tensorflows_default():
    """The comparison can fail: TF with the accurate IDCT differs from its default by far more
    than the tolerance, and we match the default."""
    data = jpeg(smooth_image(333, 517, 3, 1))
    fast, accurate = tf_release(data, 160), tf_release(data, 160, dct_method="INTEGER_ACCURATE")
    assert float(np.abs(fast - accurate).max()) > 1.0
    assert float(np.abs(ours(data, 160) - fast).max()) <= TOL


TIMM_CASES = [
    ("jpeg landscape, crop 0.875", lambda: jpeg(smooth_image(333, 517, 3, 1)), 224, 0.875),
    ("jpeg portrait 4:4:4, rs50 0.91@160", lambda: jpeg(smooth_image(401, 257, 3, 2), chroma_downsampling=False), 160, 0.91),
    ("jpeg progressive, rs101 0.94@192", lambda: jpeg(smooth_image(300, 451, 3, 3), progressive=True), 192, 0.94),
    ("jpeg grayscale, crop 1.0@256", lambda: jpeg(smooth_image(211, 303, 1, 4)), 256, 1.0),
    ("jpeg smaller than S (upscale)", lambda: jpeg(smooth_image(97, 131, 3, 5)), 224, 0.875),
    ("jpeg 4000 px wide", lambda: jpeg(smooth_image(2251, 4000, 3, 6)), 320, 1.0),
    ("png RGBA, crop 0.8 (float trap)", lambda: png(smooth_image(211, 303, 4, 11)), 224, 0.8),
    ("png palette", lambda: _palette_png(False), 160, 0.91),
]


@pytest.mark.parametrize("name,make,size,crop_pct", TIMM_CASES, ids=[c[0] for c in TIMM_CASES])
def test_timm_equals_pil(name, make, size, crop_pct):
    data = make()
    got = ours(data, size, preprocess=C.PREPROCESS_TIMM, crop_pct=crop_pct)
    want = pil_timm(data, size, crop_pct)
    diff = np.abs(got - want)
    assert float(diff.max()) == 0.0, f"{name}: {int((diff > 0).sum())} values differ, max {diff.max()}"


def test_layouts_and_file_equal_memory(tmp_path):
    data = jpeg(smooth_image(203, 301, 3, 21))
    nchw = C.load_memory(data, C.options(160))
    nhwc = C.load_memory(data, C.options(160, layout=C.LAYOUT_NHWC))
    np.testing.assert_array_equal(nhwc, nchw.transpose(1, 2, 0))
    path = tmp_path / "x.jpg"
    path.write_bytes(data)
    np.testing.assert_array_equal(C.load_file(str(path), C.options(160)), nchw)


# ---- bad images -------------------------------------------------------------------------------

def _sof_with_size(data: bytes, h: int, w: int) -> bytes:
    i = data.index(b"\xff\xc0")  # baseline SOF0: FF C0, length(2), precision(1), height(2), width(2)
    return data[:i + 5] + struct.pack(">HH", h, w) + data[i + 9:]


def _sof_precision(data: bytes, bits: int) -> bytes:
    i = data.index(b"\xff\xc0")
    return data[:i + 4] + bytes([bits]) + data[i + 5:]


def _scan_bomb(copies: int) -> bytes:
    """A progressive JPEG whose last scan is repeated: libjpeg only warns about the bogus
    progression, so without a limit every copy is another pass over the coefficients."""
    data = pil_bytes(Image.fromarray(smooth_image(40, 56, 3, 36)), "JPEG", progressive=True)
    i = data.rindex(b"\xff\xda")
    return data[:-2] + data[i:-2] * copies + b"\xff\xd9"


def _png_with_size(data: bytes, h: int, w: int) -> bytes:
    ihdr = data[12:16 + 13]  # b"IHDR" + 13 bytes
    body = b"IHDR" + struct.pack(">II", w, h) + ihdr[12:]
    return data[:12] + body + struct.pack(">I", zlib.crc32(body)) + data[12 + 17 + 4:]


def _expect(status: str, fn, *words):
    with pytest.raises(C.ImageError) as e:
        fn()
    assert e.value.status == status, str(e.value)
    for w in words:
        assert w in e.value.message, f"'{w}' not in: {e.value.message}"
    return e.value.message


SMALL_JPEG = None


def small_jpeg() -> bytes:
    global SMALL_JPEG
    if SMALL_JPEG is None:
        SMALL_JPEG = jpeg(smooth_image(64, 80, 3, 30))
    return SMALL_JPEG


BAD_IMAGES = [
    ("truncated jpeg", lambda: small_jpeg()[: len(small_jpeg()) // 2], "truncated"),
    ("truncated png", lambda: png(smooth_image(64, 80, 3, 31))[:300], "truncated"),
    ("not an image", lambda: b"hello, I am a text file, not a picture\n" * 4, "not a JPEG or PNG"),
    ("gif", lambda: b"GIF89a" + bytes(40), "GIF"),
    ("empty", lambda: b"", "empty"),
    ("jpeg header only", lambda: small_jpeg()[:20], "truncated"),
    ("jpeg bad precision", lambda: _sof_precision(small_jpeg(), 7), "corrupt JPEG"),
    ("jpeg zero height", lambda: _sof_with_size(small_jpeg(), 0, 80), "corrupt JPEG"),
    ("png zero width", lambda: _png_with_size(png(smooth_image(64, 80, 3, 32)), 64, 0), "corrupt PNG"),
    ("jpeg bomb 60000x60000", lambda: _sof_with_size(small_jpeg(), 60000, 60000), "more than the limit"),
    ("png bomb 100000x100000", lambda: _png_with_size(png(smooth_image(64, 80, 3, 33)), 100000, 100000),
     "more than the limit"),
    ("png bad crc", lambda: png(smooth_image(64, 80, 3, 34))[:29] + b"\0\0\0\0" + png(smooth_image(64, 80, 3, 34))[33:],
     "corrupt PNG"),
    ("too thin for the crop", lambda: png(smooth_image(1, 300, 3, 35)), "too small"),
    ("progressive scan bomb", lambda: _scan_bomb(600), "more than 500 scans"),
]


def test_many_scans_below_the_limit_decode():
    C.load_memory(_scan_bomb(400), C.options(64))  # 401 scans: bogus but within the limit


@pytest.mark.parametrize("name,make,word", BAD_IMAGES, ids=[b[0] for b in BAD_IMAGES])
def test_bad_image_refused(name, make, word, tmp_path):
    data = make()
    for preprocess in (C.PREPROCESS_RELEASE, C.PREPROCESS_TIMM):
        if name == "too thin for the crop" and preprocess == C.PREPROCESS_TIMM:
            continue  # timm resizes the short side up first: a 1-pixel-high image is valid there
        o = C.options(160, preprocess=preprocess)
        _expect("IMAGE_INVALID", lambda: C.load_memory(data, o), "image in memory", word)
    path = tmp_path / "bad image.bin"
    path.write_bytes(data)
    out = np.full((3, 160, 160), np.nan, np.float32)
    st = C.lib().resnetrs_image_load_file(os.fsencode(str(path)), C.options(160), out.ctypes.data)
    assert C.STATUS.get(st) == "IMAGE_INVALID"
    msg = C.lib().resnetrs_last_error().decode()
    assert str(path) in msg and word in msg
    assert np.isnan(out).all()  # nothing written on failure


def test_pixel_limit_option():
    data = jpeg(smooth_image(100, 120, 3, 40))
    C.load_memory(data, C.options(64, max_pixels=12000))  # exactly at the limit: accepted
    _expect("IMAGE_INVALID", lambda: C.load_memory(data, C.options(64, max_pixels=11999)), "12000 pixels", "11999")


def test_unreadable_files(tmp_path):
    _expect("IO_ERROR", lambda: C.load_file(str(tmp_path / "missing.jpg"), C.options(64)), "missing.jpg", "cannot open")
    _expect("IO_ERROR", lambda: C.load_file(str(tmp_path), C.options(64)), "not a regular file")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # reading it would block forever: refused without opening
    _expect("IO_ERROR", lambda: C.load_file(str(fifo), C.options(64)), "not a regular file")


def test_threads_decode_in_parallel():
    """ctypes releases the GIL around the call: four threads decode at once and each gets what
    a sequential call gives."""
    from concurrent.futures import ThreadPoolExecutor
    datas = [jpeg(smooth_image(181 + 10 * i, 241, 3, 50 + i), progressive=bool(i % 2)) for i in range(4)]
    datas += [png(smooth_image(151, 173 + 10 * i, 4, 60 + i)) for i in range(4)]
    want = [ours(d, 96) for d in datas]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            got = list(pool.map(lambda d: ours(d, 96), datas))
            for g, w in zip(got, want):
                np.testing.assert_array_equal(g, w)
