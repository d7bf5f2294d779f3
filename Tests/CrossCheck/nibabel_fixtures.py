#!/usr/bin/env python3
"""Write NIfTI reference images with nibabel for the pipe cross-check suite.

Usage:
    nibabel_fixtures.py OUTDIR

For every case this writes, into OUTDIR:

* the image itself: ``<case>.nii``, ``<case>.nii.gz``, or ``<case>.hdr`` plus
  ``<case>.img`` for the NIfTI-1 pair cases;
* ``<case>.f64``: ``img.get_fdata(dtype=np.float64)`` of the image as nibabel
  re-reads it, so scaling is applied exactly as nibabel applies it, written as
  little-endian float64 in Fortran order (x fastest, the on-disk voxel order);
* ``<case>.json``: the header facts nibabel reports for the written file (see
  ``describe`` below for the schema).

Every value in the JSON and .f64 files comes from reloading the written file
with nibabel, never from the in-memory objects used to write it. So the
fixtures record what nibabel *reads*, which is what the Swift reader must match.

All random data comes from ``numpy.random.default_rng`` seeded with the CRC-32
of the case name, so the output is byte-for-byte reproducible.
"""

from __future__ import annotations

import json
import math
import os
import sys
import zlib

import nibabel as nib
import numpy as np

# NIfTI datatype codes used for the per-datatype cases (name, numpy dtype, code).
DATATYPES = [
    ('uint8', np.uint8, 2),
    ('int8', np.int8, 256),
    ('int16', np.int16, 4),
    ('uint16', np.uint16, 512),
    ('int32', np.int32, 8),
    ('uint32', np.uint32, 768),
    ('int64', np.int64, 1024),
    ('uint64', np.uint64, 1280),
    ('float32', np.float32, 16),
    ('float64', np.float64, 64),
]

SHAPE_3D = (5, 4, 3)
SHAPE_4D = (5, 4, 3, 6)

# A plain, non-trivial RAS affine: zooms (2, 2.5, 3) plus a translation.
DEFAULT_AFFINE = np.array(
    [
        [2.0, 0.0, 0.0, -4.5],
        [0.0, 2.5, 0.0, -3.75],
        [0.0, 0.0, 3.0, 6.0],
        [0.0, 0.0, 0.0, 1.0],
    ]
)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def rng_for(name: str) -> np.random.Generator:
    """Deterministic random generator for one case (seeded by CRC-32 of name)."""
    return np.random.default_rng(zlib.crc32(name.encode('ascii')))


def random_data(name: str, dtype, shape) -> np.ndarray:
    """Random array of `dtype` spanning the type's range.

    Integer types: uniform over [min, max] with the exact min, max and 0 placed
    in the first voxels. Float types: wide normal values plus some special
    values (largest finite, smallest normal, smallest subnormal, -0.0).
    """
    rng = rng_for(name)
    dtype = np.dtype(dtype)
    size = int(np.prod(shape))
    if dtype.kind in 'iu':
        info = np.iinfo(dtype)
        flat = rng.integers(info.min, info.max, size=size, dtype=dtype, endpoint=True)
        specials = [info.min, info.max, 0, 1]
        if dtype.kind == 'i':
            specials.append(-1)
    else:
        info = np.finfo(dtype)
        flat = (rng.standard_normal(size) * 1000.0).astype(dtype)
        specials = [
            info.max,
            -info.max,
            info.tiny,  # smallest positive normal
            np.nextafter(dtype.type(0), dtype.type(1)),  # smallest subnormal
            -0.0,
            0.1,
            -1e-30,
        ]
    specials = specials[:size]
    flat[: len(specials)] = np.array(specials, dtype=dtype)
    return flat.reshape(shape, order='F')


def make_header(klass, dtype, shape, endian='<', zooms=None):
    """Fresh header of the image class `klass` with dtype, shape and zooms set."""
    hdr = klass.header_class(endianness=endian)
    hdr.set_data_dtype(dtype)
    hdr.set_data_shape(shape)
    if zooms is not None:
        hdr.set_zooms(zooms)
    return hdr


def default_header(klass, dtype, shape, endian='<', affine=DEFAULT_AFFINE):
    """Header with `affine` stored in both qform and sform, code 1 (scanner).

    This is the layout the pipe writer produces.
    """
    hdr = make_header(klass, dtype, shape, endian)
    zooms = list(hdr.get_zooms())
    zooms[:3] = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))[: min(3, len(zooms))]
    hdr.set_zooms(zooms)
    hdr.set_qform(affine, code=1)
    hdr.set_sform(affine, code=1)
    return hdr


def build(klass, data, hdr, slope=None, inter=None, vox_offset=None):
    """Image from data + a fully prepared header.

    The affine argument is None on purpose: nibabel then writes the header's
    qform/sform fields exactly as prepared instead of re-deriving them.

    nibabel's image constructor resets the "consumable" header fields
    (vox_offset and scl_slope/scl_inter), so these are set on the image's own
    header afterwards. With non-NaN scaling in the header nibabel writes the
    array unscaled and keeps the given raw field values.
    """
    assert data.dtype == hdr.get_data_dtype().newbyteorder('=')
    img = klass(data, None, hdr)
    if slope is not None:
        img.header['scl_slope'] = slope
    if inter is not None:
        img.header['scl_inter'] = inter
    if vox_offset is not None:
        img.header.set_data_offset(vox_offset)
    return img


def rotation(axis, degrees):
    """3x3 rotation matrix about axis 0, 1 or 2."""
    t = math.radians(degrees)
    c, s = math.cos(t), math.sin(t)
    i, j = [k for k in range(3) if k != axis]
    r = np.eye(3)
    r[i, i], r[i, j], r[j, i], r[j, j] = c, -s, s, c
    return r


def affine_from(rzs, trans):
    aff = np.eye(4)
    aff[:3, :3] = rzs
    aff[:3, 3] = trans
    return aff


def tr_seconds(hdr):
    """pixdim[4] in seconds per xyzt_units; None for < 4D or non-time units.

    Time units: 0 (unknown, taken as seconds), 8 s, 16 ms, 24 us. Units 32/40/48
    (Hz, ppm, rad/s) are not times and give None.
    """
    if hdr['dim'][0] < 4:
        return None
    raw = float(hdr['pixdim'][4])
    t_units = int(hdr['xyzt_units']) & 0x38
    if t_units in (0, 8):
        return raw
    if t_units == 16:
        return raw / 1000.0
    if t_units == 24:
        return raw / 1e6
    return None


def header_path(img) -> str:
    """File holding the header: the .hdr of a pair, else the image file."""
    holder = img.file_map.get('header', img.file_map['image'])
    return holder.filename


def finite_float(x):
    """Python float, or None if NaN/inf (JSON has no NaN)."""
    x = float(x)
    return x if math.isfinite(x) else None


# ---------------------------------------------------------------------------
# Writing one case
# ---------------------------------------------------------------------------


def describe(img, raw) -> dict:
    """JSON record for the reloaded image `img` whose on-disk header is `raw`.

    Schema (all keys always present):
      file          image file name (the .hdr for pairs)
      image_file    data file name (== file except for pairs: the .img)
      nifti_version 1 or 2
      magic         'n+1', 'ni1' or 'n+2'
      shape         list of int (nibabel's img.shape)
      datatype      NIfTI datatype code
      endian        'little' or 'big'
      affine        4x4 float, img.affine (nibabel's sform > qform > pixdim choice)
      qform_code, sform_code   int
      qform, sform  4x4 float, header.get_qform() / get_sform() whatever the codes
      qfac          float, pixdim[0] as stored
      zooms         list of float, raw pixdim[1:ndim+1]
      slope, inter  float or null: header.get_slope_inter() (both null when the
                    slope is 0 or not finite, i.e. no scaling is applied)
      tr_seconds    float or null (see tr_seconds())
      xyzt_units, dim_info, intent_code   int
      intent_params [p1, p2, p3] float
      intent_name, descrip   str
      vox_offset    int, on-disk vox_offset (0 for pairs)
      extensions    list of int ecodes, in file order
      axcodes       e.g. 'RAS'
      min, max      finite min / max of the float64 data (null if none finite)
      nan_count, inf_count   int
    """
    data = img.get_fdata(dtype=np.float64)
    finite = data[np.isfinite(data)]
    slope, inter = raw.get_slope_inter()
    is_n2 = isinstance(raw, nib.Nifti2Header)
    return {
        'file': os.path.basename(header_path(img)),
        'image_file': os.path.basename(img.file_map['image'].filename),
        'nifti_version': 2 if is_n2 else 1,
        'magic': raw['magic'].item().decode('ascii'),
        'shape': [int(n) for n in img.shape],
        'datatype': int(raw['datatype']),
        'endian': 'big' if raw.endianness == '>' else 'little',
        'affine': img.affine.tolist(),
        'qform_code': int(raw['qform_code']),
        'sform_code': int(raw['sform_code']),
        'qform': raw.get_qform().tolist(),
        'sform': raw.get_sform().tolist(),
        'qfac': float(raw['pixdim'][0]),
        'zooms': [float(z) for z in raw.get_zooms()],
        'slope': None if slope is None else float(slope),
        'inter': None if inter is None else float(inter),
        'tr_seconds': tr_seconds(raw),
        'xyzt_units': int(raw['xyzt_units']),
        'dim_info': int(raw['dim_info']),
        'intent_code': int(raw['intent_code']),
        'intent_params': [float(raw[f'intent_p{i}']) for i in (1, 2, 3)],
        'intent_name': raw['intent_name'].item().decode('latin-1'),
        'descrip': raw['descrip'].item().decode('latin-1'),
        'vox_offset': int(raw['vox_offset']),
        'extensions': [int(e.get_code()) for e in raw.extensions],
        'axcodes': ''.join(nib.aff2axcodes(img.affine)),
        'min': finite_float(finite.min()) if finite.size else None,
        'max': finite_float(finite.max()) if finite.size else None,
        'nan_count': int(np.isnan(data).sum()),
        'inf_count': int(np.isinf(data).sum()),
    }


def patch_header(path: str, fields: dict) -> None:
    """Overwrite raw header fields of an uncompressed single-file image in place.

    Used for on-disk values nibabel refuses to write itself (e.g. scl_slope NaN).
    """
    assert path.endswith('.nii')
    header_class = type(nib.load(path).header)
    with open(path, 'r+b') as f:
        hdr = header_class.from_fileobj(f, check=False)
        for key, value in fields.items():
            hdr[key] = value
        f.seek(0)
        f.write(hdr.binaryblock)


def write_case(outdir: str, name: str, suffix: str, img, patch=None) -> None:
    """Save `img` as OUTDIR/name+suffix, reload it, write the .json and .f64.

    `patch` optionally maps raw header field names to values to poke into the
    written file before it is re-read.
    """
    path = os.path.join(outdir, name + suffix)
    nib.save(img, path)
    if patch:
        patch_header(path, patch)
    loaded = nib.load(path)
    # Re-read the on-disk header: the loaded image's header has vox_offset and
    # scl_slope/scl_inter "consumed" (reset) by nibabel.
    with nib.openers.ImageOpener(header_path(loaded)) as f:
        raw = type(loaded.header).from_fileobj(f)
    record = describe(loaded, raw)
    data = loaded.get_fdata(dtype=np.float64)
    data.ravel(order='F').astype('<f8').tofile(os.path.join(outdir, name + '.f64'))
    with open(os.path.join(outdir, name + '.json'), 'w') as f:
        json.dump(record, f, indent=1)
        f.write('\n')
    print(
        f"{name}: {record['file']} v{record['nifti_version']} {record['endian']} "
        f"dt={record['datatype']} shape={record['shape']} axcodes={record['axcodes']} "
        f"vox_offset={record['vox_offset']}"
    )


# ---------------------------------------------------------------------------
# Cases. Each generator yields (name, suffix, image) or, for cases whose raw
# header is patched after writing, (name, suffix, image, {field: value}).
# ---------------------------------------------------------------------------


def datatype_cases():
    """Every datatype x endianness x (.nii, .nii.gz), for NIfTI-1 and NIfTI-2."""
    for version, klass in (('n1', nib.Nifti1Image), ('n2', nib.Nifti2Image)):
        for tname, dtype, _code in DATATYPES:
            for endian, ename in (('<', 'le'), ('>', 'be')):
                for suffix, sname in (('.nii', ''), ('.nii.gz', '_gz')):
                    name = f'{version}_{tname}_{ename}{sname}'
                    # Same data for .nii and .nii.gz of one type/endianness.
                    data = random_data(f'{version}_{tname}_{ename}', dtype, SHAPE_3D)
                    hdr = default_header(klass, dtype, SHAPE_3D, endian)
                    yield name, suffix, build(klass, data, hdr)


def scaling_cases():
    """scl_slope / scl_inter handling."""

    def scaled_case(name, slope, inter, klass=nib.Nifti1Image, endian='<', dtype=np.int16):
        data = random_data(name, dtype, SHAPE_3D)
        hdr = default_header(klass, dtype, SHAPE_3D, endian)
        # Raw scl_slope / scl_inter field values, written as given.
        return build(klass, data, hdr, slope=slope, inter=inter)

    yield 'scl_int16_slope_inter', '.nii', scaled_case('scl_int16_slope_inter', 0.5, -10.0)
    yield 'scl_int16_slope_only', '.nii', scaled_case('scl_int16_slope_only', 2.5, 0.0)
    # slope 0 means "no scaling": inter (here 3) is ignored too.
    yield 'scl_int16_slope_zero', '.nii', scaled_case('scl_int16_slope_zero', 0.0, 3.0)
    # slope NaN also means "no scaling". nibabel itself never writes NaN here
    # (it computes and stores 1/0), so the raw field is patched after writing.
    yield 'scl_int16_slope_nan', '.nii', scaled_case('scl_int16_slope_nan', None, None), {
        'scl_slope': np.nan,
        'scl_inter': np.nan,
    }
    # A slope/inter not exactly representable in binary (stored as float32).
    yield 'scl_int16_inexact', '.nii', scaled_case('scl_int16_inexact', 0.1, 1.3)
    yield 'scl_int16_be_gz', '.nii.gz', scaled_case('scl_int16_be_gz', 0.25, 100.0, endian='>')
    yield 'scl_uint8', '.nii', scaled_case('scl_uint8', 1.0 / 255.0, -0.5, dtype=np.uint8)
    # nibabel applies scaling to float data too.
    yield 'scl_float32', '.nii', scaled_case('scl_float32', 2.0, 1.0, dtype=np.float32)
    yield 'n2_scl_int16', '.nii', scaled_case('n2_scl_int16', 0.5, -10.0, klass=nib.Nifti2Image)


def special_float_cases():
    """float32 / float64 data with NaN and +/-inf."""
    for tname, dtype in (('float32', np.float32), ('float64', np.float64)):
        name = f'nan_inf_{tname}'
        data = random_data(name, dtype, SHAPE_3D)
        flat = data.reshape(-1, order='F')  # view: same memory
        flat[[7, 20, 33]] = np.nan
        flat[11] = np.inf
        flat[12] = -np.inf
        hdr = default_header(nib.Nifti1Image, dtype, SHAPE_3D)
        yield name, '.nii', build(nib.Nifti1Image, data, hdr)


def affine_cases():
    """qform / sform precedence, qfac, oblique affines, orientations."""
    klass = nib.Nifti1Image
    dt = np.int16

    def img_with(name, setup, shape=SHAPE_3D, zooms=(2.0, 2.5, 3.0)):
        data = random_data(name, dt, shape)
        hdr = make_header(klass, dt, shape, zooms=zooms)
        setup(hdr)
        return build(klass, data, hdr)

    aff_a = DEFAULT_AFFINE
    # A second, different RAS affine for the "both set, different" case.
    aff_b = affine_from(np.diag([1.5, 1.5, 4.0]), [10.0, -20.0, 30.0])
    # Junk matrices stored in a form whose code is 0: readers must ignore them.
    # The qform junk keeps zooms (2, 2.5, 3) and det > 0, because set_qform
    # also writes pixdim[0:4], which the "neither" fallback affine uses.
    junk_s = affine_from(np.diag([7.0, -7.0, 7.0]), [100.0, 100.0, 100.0])
    junk_q = affine_from(rotation(0, 30.0) @ np.diag([2.0, 2.5, 3.0]), [100.0, 100.0, 100.0])

    def qform_only(h):
        h.set_qform(aff_a, code=1)
        h.set_sform(junk_s, code=0)

    def sform_only(h):
        h.set_qform(junk_q, code=0)
        h.set_sform(aff_a, code=2)

    def both_differ(h):
        h.set_qform(aff_a, code=1)
        h.set_sform(aff_b, code=4)  # MNI; sform wins

    def neither(h):
        # Both codes 0: nibabel falls back to a pixdim-based affine.
        h.set_qform(junk_q, code=0)
        h.set_sform(junk_s, code=0)

    yield 'aff_qform_only', '.nii', img_with('aff_qform_only', qform_only)
    yield 'aff_sform_only', '.nii', img_with('aff_sform_only', sform_only)
    yield 'aff_both_differ', '.nii', img_with('aff_both_differ', both_differ)
    yield 'aff_neither', '.nii', img_with('aff_neither', neither)

    # Left-handed qform: det < 0, so nibabel stores qfac = pixdim[0] = -1.
    aff_lh = affine_from(np.diag([2.0, 2.5, -3.0]), [-4.0, -5.0, 20.0])

    def qfac_neg(h):
        h.set_qform(aff_lh, code=1)
        h.set_sform(None, code=0)

    yield 'aff_qfac_neg', '.nii', img_with('aff_qfac_neg', qfac_neg)

    # Oblique sform: ~15 degree rotation about z, 5 about x, plus shears.
    rot = rotation(2, 15.0) @ rotation(0, 5.0)
    shear = np.array([[1.0, 0.1, 0.05], [0.0, 1.0, 0.2], [0.0, 0.0, 1.0]])
    aff_obl_s = affine_from(rot @ shear @ np.diag([2.0, 2.5, 3.0]), [-12.0, 8.0, -4.0])

    def oblique_sform(h):
        h.set_qform(None, code=0)
        h.set_sform(aff_obl_s, code=2)

    yield 'aff_oblique_sform', '.nii', img_with('aff_oblique_sform', oblique_sform)

    # Oblique qform (pure rotation + zooms, no shear: representable exactly).
    aff_obl_q = affine_from(
        rotation(2, -15.0) @ rotation(1, 10.0) @ np.diag([2.0, 2.5, 3.0]), [5.0, -6.0, 7.0]
    )

    def oblique_qform(h):
        h.set_qform(aff_obl_q, code=1)
        h.set_sform(None, code=0)

    yield 'aff_oblique_qform', '.nii', img_with('aff_oblique_qform', oblique_qform)

    # Oblique and left-handed qform (qfac -1) with the same rotation.
    aff_obl_lh = aff_obl_q @ np.diag([1.0, 1.0, -1.0, 1.0])

    def oblique_qform_lh(h):
        h.set_qform(aff_obl_lh, code=1)
        h.set_sform(None, code=0)

    yield 'aff_oblique_qform_qfac_neg', '.nii', img_with(
        'aff_oblique_qform_qfac_neg', oblique_qform_lh
    )

    # LAS (radiological, det < 0) and LPS (DICOM-like, det > 0) orientations,
    # stored in both forms like the pipe writer does.
    aff_las = affine_from(np.diag([-2.0, 2.5, 3.0]), [4.0, -5.0, -6.0])
    aff_lps = affine_from(np.diag([-2.0, -2.5, 3.0]), [4.0, 5.0, -6.0])
    for oname, aff in (('orient_las', aff_las), ('orient_lps', aff_lps)):
        yield oname, '.nii', build(
            klass, random_data(oname, dt, SHAPE_3D), default_header(klass, dt, SHAPE_3D, affine=aff)
        )


def time_cases():
    """4D images with TR in s, ms, us (xyzt_units 10, 18, 26)."""
    klass = nib.Nifti1Image
    for name, t_unit, tr_raw in (
        ('tr_sec', 'sec', 2.5),
        ('tr_msec', 'msec', 2000.0),
        ('tr_usec', 'usec', 1500000.0),
    ):
        data = random_data(name, np.int16, SHAPE_4D)
        hdr = default_header(klass, np.int16, SHAPE_4D)
        hdr.set_zooms((2.0, 2.5, 3.0, tr_raw))
        hdr.set_xyzt_units('mm', t_unit)
        yield name, '.nii', build(klass, data, hdr)


def extension_cases():
    """Header extensions push vox_offset past 352 (NIfTI-1) / 544 (NIfTI-2)."""
    comment = nib.nifti1.Nifti1Extension(6, b'pipe cross-check: comment extension')
    afni = nib.nifti1.Nifti1Extension(
        4,
        b'<?xml version="1.0" ?>\n<AFNI_attributes self_idcode="XYZ_pipe_cross"'
        b' NIfTI_nums="5,4,3,1,1,16" ni_form="ni_group">\n</AFNI_attributes>\n',
    )
    for name, klass, suffix, exts in (
        ('ext_one', nib.Nifti1Image, '.nii', [comment]),
        ('ext_two', nib.Nifti1Image, '.nii', [comment, afni]),
        ('ext_two_gz', nib.Nifti1Image, '.nii.gz', [comment, afni]),
        ('n2_ext_two', nib.Nifti2Image, '.nii', [comment, afni]),
    ):
        data = random_data(name, np.float32, SHAPE_3D)
        hdr = default_header(klass, np.float32, SHAPE_3D)
        for ext in exts:
            hdr.extensions.append(ext)
        yield name, suffix, build(klass, data, hdr)

    # A vox_offset larger than needed (no extensions, zero padding before data).
    data = random_data('vox_offset_1024', np.int16, SHAPE_3D)
    hdr = default_header(nib.Nifti1Image, np.int16, SHAPE_3D)
    yield 'vox_offset_1024', '.nii', build(nib.Nifti1Image, data, hdr, vox_offset=1024)


def dimension_cases():
    """2D, 5D, 7D and single-volume 4D images."""
    klass = nib.Nifti1Image
    for name, shape in (
        ('dim_2d', (5, 4)),
        ('dim_4d_1vol', (5, 4, 3, 1)),
        ('dim_5d', (4, 3, 2, 3, 2)),
        ('dim_7d', (3, 2, 2, 2, 2, 2, 2)),
    ):
        data = random_data(name, np.float32, shape)
        hdr = make_header(klass, np.float32, shape)
        zooms = [2.0, 2.5, 3.0, 1.5, 1.0, 1.0, 1.0][: len(shape)]
        hdr.set_zooms(zooms)
        if len(shape) >= 3:
            hdr.set_qform(DEFAULT_AFFINE, code=1)
            hdr.set_sform(DEFAULT_AFFINE, code=1)
            hdr.set_xyzt_units('mm', 'sec')
        else:
            # 2D: no 3rd axis in pixdim; store the 2D affine part only.
            aff = np.diag([2.0, 2.5, 1.0, 1.0])
            hdr.set_qform(aff, code=1)
            hdr.set_sform(aff, code=1)
            hdr.set_xyzt_units('mm')
        yield name, '.nii', build(klass, data, hdr)


def metadata_cases():
    """intent_code / intent_p1, descrip, dim_info, slice timing fields."""
    klass = nib.Nifti1Image
    name = 'meta_intent_ttest'
    data = random_data(name, np.float32, SHAPE_3D)
    hdr = default_header(klass, np.float32, SHAPE_3D)
    hdr.set_intent('t test', (12.0,), name='tstat')  # code 3, p1 = df
    hdr['descrip'] = b'pipe cross-check: t-test map, df=12'
    # 0-based axis indices -> stored 1-based: freq=1, phase=2, slice=3 -> 57.
    hdr.set_dim_info(freq=0, phase=1, slice=2)
    yield name, '.nii', build(klass, data, hdr)


def pair_cases():
    """Analyze-style NIfTI-1 .hdr/.img pairs ('ni1' magic)."""
    klass = nib.Nifti1Pair
    for tname, dtype in (('int16', np.int16), ('float32', np.float32)):
        name = f'pair_{tname}'
        data = random_data(name, dtype, SHAPE_3D)
        hdr = default_header(klass, dtype, SHAPE_3D)
        yield name, '.hdr', build(klass, data, hdr)


CASE_GROUPS = [
    datatype_cases,
    scaling_cases,
    special_float_cases,
    affine_cases,
    time_cases,
    extension_cases,
    dimension_cases,
    metadata_cases,
    pair_cases,
]


def main(argv) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        print(f'usage: {os.path.basename(argv[0])} OUTDIR', file=sys.stderr)
        return 2
    outdir = argv[1]
    os.makedirs(outdir, exist_ok=True)
    seen = set()
    for group in CASE_GROUPS:
        for name, suffix, img, *patch in group():
            assert name not in seen, f'duplicate case name {name}'
            seen.add(name)
            write_case(outdir, name, suffix, img, *patch)
    print(f'{len(seen)} cases written to {outdir}')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
