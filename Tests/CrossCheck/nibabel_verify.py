#!/usr/bin/env python3
"""Check NIfTI files written by pipe's Swift writer against nibabel (and nifti_tool).

Usage:
    nibabel_verify.py DIR

DIR holds, per case, ``<case>.nii`` or ``<case>.nii.gz`` (or a ``.hdr``/``.img``
pair) plus ``<case>.json`` and ``<case>.f64`` in the format written by
nibabel_fixtures.py. Required JSON keys: file, shape, datatype, affine,
tr_seconds (may be null), slope, inter (may be null). These optional keys are
checked when present: nifti_version, endian, qform_code, sform_code,
xyzt_units, dim_info, intent_code, descrip, vox_offset, extensions, axcodes,
min, max, nan_count. ``<case>.f64`` holds the expected voxel values after
scaling as little-endian float64 in Fortran order.

Checks per case:
  * nibabel loads the file without any warning or nibabel log record, and
    ``diagnose_binaryblock`` finds nothing, on the on-disk header and on the
    header of the loaded image;
  * shape, datatype code, affine (1e-5 abs), qform_code > 0 and sform_code > 0
    with get_qform() ~ get_sform() ~ expected affine (1e-4 abs), scaling, data
    exactly equal to .f64 (NaN positions must match), TR in seconds (1e-6 rel),
    data section exactly vox_offset + nvoxels * bytes per voxel long;
  * if /usr/bin/nifti_tool exists: -check_hdr and -check_nim (NIfTI-1; for
    NIfTI-2 -disp_nim, because nifti_tool 2.09's check actions only parse
    NIfTI-1 headers) and a -copy_im round trip whose data must equal the
    original's exactly.

Output: one JSON object per case on stdout, {"case", "ok", "problems"}, then
"N passed, M failed". Exit status: 0 if all cases pass, 1 if any fails,
2 on usage errors (no DIR, no cases, unreadable JSON, missing .f64/image ...).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import math
import os
import re
import subprocess
import sys
import tempfile
import warnings

import nibabel as nib
import numpy as np

NIFTI_TOOL = '/usr/bin/nifti_tool'
REQUIRED_KEYS = ('file', 'shape', 'datatype', 'affine', 'tr_seconds', 'slope', 'inter')
# Words that mark a nifti_tool failure (case-insensitive), per the suite spec.
FAILURE_WORDS = re.compile(r'fail|invalid|bad|error', re.IGNORECASE)

AFFINE_ATOL = 1e-5
FORM_ATOL = 1e-4
TR_RTOL = 1e-6
SCALE_RTOL = 1e-6  # scl_slope / scl_inter are stored as float32


class UsageError(Exception):
    """Bad invocation or inconsistent input directory (exit status 2)."""


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


class _ListHandler(logging.Handler):
    """Logging handler that keeps the records it receives."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@contextlib.contextmanager
def capture_nibabel_noise(problems: list[str]):
    """Record every warning and every 'nibabel' log record as a problem."""
    handler = _ListHandler()
    logger = logging.getLogger('nibabel')
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    for w in caught:
        problems.append(f'nibabel warning: {w.category.__name__}: {w.message}')
    for rec in handler.records:
        msg = rec.getMessage()
        if msg:  # nibabel logs passing header checks as empty level-0 messages
            problems.append(f'nibabel log [{rec.name} level {rec.levelno}]: {msg}')


def tr_seconds(hdr):
    """pixdim[4] in seconds per xyzt_units; None for < 4D or non-time units.

    Same rule as nibabel_fixtures.py: time units 0 (unknown, taken as
    seconds), 8 s, 16 ms, 24 us; 32/40/48 (Hz, ppm, rad/s) give None.
    """
    if hdr['dim'][0] < 4:
        return None
    raw = float(hdr.get_zooms()[3])
    t_units = int(hdr['xyzt_units']) & 0x38
    if t_units in (0, 8):
        return raw
    if t_units == 16:
        return raw / 1000.0
    if t_units == 24:
        return raw / 1e6
    return None


def read_raw_header(img):
    """The header exactly as stored on disk (the loaded image's header has
    vox_offset and scl_slope/scl_inter reset by nibabel)."""
    holder = img.file_map.get('header', img.file_map['image'])
    with nib.openers.ImageOpener(holder.filename) as f:
        return type(img.header).from_fileobj(f, check=False)


def data_section_length(img) -> int:
    """Bytes after vox_offset in the (decompressed) image file."""
    path = img.file_map['image'].filename
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        return len(f.read()) - int(img.dataobj.offset)


def effective_scaling(slope, inter):
    """(slope, inter) as applied to the data; None means identity."""
    if slope is None:
        return 1.0, 0.0
    return float(slope), 0.0 if inter is None else float(inter)


def first_mismatch(got: np.ndarray, want: np.ndarray) -> str:
    """Short description of where two equal-shaped float arrays differ."""
    differ = ~((got == want) | (np.isnan(got) & np.isnan(want)))
    idx = tuple(int(i) for i in np.argwhere(differ)[0])
    return (
        f'{int(differ.sum())} voxel(s) differ; first at {idx}: '
        f'got {float(got[idx])!r}, expected {float(want[idx])!r}'
    )


def scrub(text: str, paths: list[str]) -> str:
    """Replace file/directory names in tool output so that names containing
    e.g. 'bad' or 'error' do not look like failures."""
    for p in sorted(set(paths), key=len, reverse=True):
        if p:
            text = text.replace(p, '<PATH>')
    return text


# ---------------------------------------------------------------------------
# nifti_tool checks
# ---------------------------------------------------------------------------


def run_tool(args: list[str], cwd: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [NIFTI_TOOL, *args], capture_output=True, text=True, timeout=120, cwd=cwd
    )


def nifti_tool_checks(path: str, nifti_version: int, orig, scrub_paths) -> list[str]:
    """Run nifti_tool on `path`; return problem strings.

    `orig` is the nibabel image of `path` (None if nibabel could not load it).
    """
    problems = []
    with tempfile.TemporaryDirectory(prefix='nibabel_verify_') as tmp:
        paths = [*scrub_paths, tmp]

        def flagged_lines(text):
            return [ln.strip() for ln in scrub(text, paths).splitlines() if FAILURE_WORDS.search(ln)]

        if nifti_version == 1:
            # -check_hdr / -check_nim print "... IS GOOD for file F" on success
            # and may exit 0 on failure, so the text decides.
            for action, good in (('-check_hdr', 'header IS GOOD'), ('-check_nim', 'nifti_image IS GOOD')):
                res = run_tool([action, '-infiles', path], tmp)
                text = res.stdout + res.stderr
                bad = flagged_lines(text)
                if bad or good not in text or res.returncode != 0:
                    detail = ' | '.join(bad) or scrub(text.strip(), paths) or f'exit {res.returncode}'
                    problems.append(f'nifti_tool {action}: {detail}')
        else:
            # nifti_tool 2.09 -check_hdr/-check_nim parse only nifti_1_header and
            # report FAILURE for every valid NIfTI-2 file; -disp_nim goes through
            # nifti_image_read, which handles NIfTI-2. Its stdout lists header
            # strings (descrip...), so only stderr and the exit code are judged.
            res = run_tool(['-disp_nim', '-infiles', path], tmp)
            bad = flagged_lines(res.stderr)
            if bad or res.returncode != 0:
                detail = ' | '.join(bad) or f'exit {res.returncode}'
                problems.append(f'nifti_tool -disp_nim: {detail}')

        # Round trip: nifti_tool reads and rewrites the image; nibabel must
        # read the copy's data back exactly equal to the original's.
        # nifti_tool 2.09 cannot copy 2-D datasets ("cannot read explict brick
        # list from 2-D dataset"), so those skip the round trip.
        if orig is not None and len(orig.shape) < 3:
            return problems
        copy_path = os.path.join(tmp, 'copy.nii')
        res = run_tool(['-copy_im', '-prefix', copy_path, '-infiles', path], tmp)
        bad = flagged_lines(res.stdout + res.stderr)
        if res.returncode != 0 or bad or not os.path.exists(copy_path):
            detail = ' | '.join(bad) or f'exit {res.returncode}'
            problems.append(f'nifti_tool -copy_im: {detail}')
        elif orig is not None:
            try:
                problems += compare_copy(orig, nib.load(copy_path))
            except Exception as exc:  # noqa: BLE001 - any failure is a finding
                problems.append(f'nifti_tool copy: nibabel cannot read it: {exc!r}')
    return problems


def compare_copy(orig, copy) -> list[str]:
    """Compare nifti_tool's copy with the original, voxel by voxel.

    Arrays are compared flattened in file (Fortran) order, because nifti_tool
    rewrites dim[]: it drops trailing singleton dimensions (5x4x3x1 -> 5x4x3)
    and folds dimensions 5-7 into the 4th (4x3x2x3x2 -> 4x3x2x6). nifti_tool
    also replaces NaN and +/-inf by 0 when it reads float data, so non-finite
    original voxels must be 0 in the copy and are otherwise skipped.
    """
    want_raw = np.asanyarray(orig.dataobj.get_unscaled()).ravel(order='F')
    got_raw = np.asanyarray(copy.dataobj.get_unscaled()).ravel(order='F')
    want = np.asanyarray(orig.dataobj).ravel(order='F')
    got = np.asanyarray(copy.dataobj).ravel(order='F')
    if got.size != want.size:
        return [f'nifti_tool copy: {got.size} voxels (shape {copy.shape}) != {want.size}']
    if copy.get_data_dtype().newbyteorder('=') != orig.get_data_dtype().newbyteorder('='):
        return [f'nifti_tool copy: dtype {copy.get_data_dtype()} != {orig.get_data_dtype()}']
    finite = np.isfinite(want_raw) if want_raw.dtype.kind == 'f' else np.ones(want_raw.shape, bool)
    problems = []
    if not np.array_equal(got_raw[finite], want_raw[finite]) or np.any(got_raw[~finite] != 0):
        problems.append('nifti_tool copy: raw (unscaled) data differ from original')
    elif not np.array_equal(got[finite], want[finite]):
        problems.append('nifti_tool copy: scaled data differ from original (scl_slope/scl_inter?)')
    return problems


# ---------------------------------------------------------------------------
# One case
# ---------------------------------------------------------------------------


def load_case_inputs(directory: str, json_name: str):
    """Parse <case>.json and <case>.f64; raise UsageError if inconsistent."""
    case = json_name[: -len('.json')]
    json_path = os.path.join(directory, json_name)
    try:
        with open(json_path) as f:
            spec = json.load(f)
    except (OSError, ValueError) as exc:
        raise UsageError(f'{json_path}: cannot read JSON: {exc}') from exc
    if not isinstance(spec, dict):
        raise UsageError(f'{json_path}: not a JSON object')
    missing = [k for k in REQUIRED_KEYS if k not in spec]
    if missing:
        raise UsageError(f'{json_path}: missing key(s) {missing}')
    image_path = os.path.join(directory, spec['file'])
    if not os.path.isfile(image_path):
        raise UsageError(f'{json_path}: image file {spec["file"]!r} not found')
    f64_path = os.path.join(directory, case + '.f64')
    if not os.path.isfile(f64_path):
        raise UsageError(f'{json_path}: {case}.f64 not found')
    expected = np.fromfile(f64_path, dtype='<f8')
    return case, spec, image_path, expected


def check_case(spec: dict, path: str, expected_flat: np.ndarray, scrub_paths) -> list[str]:
    """All checks for one case; returns the list of problems (empty = pass)."""
    problems: list[str] = []
    shape = tuple(int(n) for n in spec['shape'])
    exp_affine = np.array(spec['affine'], dtype=np.float64)

    # --- nibabel: load, header diagnostics, all under warning/log capture ----
    img = None
    with capture_nibabel_noise(problems):
        try:
            img = nib.load(path)
            hdr = img.header
            raw = read_raw_header(img)
            data = img.get_fdata(dtype=np.float64)
            qform, sform = hdr.get_qform(), hdr.get_sform()
            affine = img.affine
            slope, inter = raw.get_slope_inter()
        except Exception as exc:  # noqa: BLE001 - any failure is a finding
            problems.append(f'nibabel cannot load/read: {exc!r}')
            img = None
    if img is not None:
        header_class = type(hdr)
        for label, block in (('on-disk', raw.binaryblock), ('loaded', hdr.binaryblock)):
            diag = header_class.diagnose_binaryblock(block)
            if diag:
                problems.append(f'diagnose_binaryblock ({label} header): {diag.strip()}')

        # --- header fields ----------------------------------------------------
        if tuple(img.shape) != shape:
            problems.append(f'shape {list(img.shape)} != expected {list(shape)}')
        if int(hdr['datatype']) != int(spec['datatype']):
            problems.append(f'datatype {int(hdr["datatype"])} != expected {spec["datatype"]}')
        if not np.allclose(affine, exp_affine, rtol=0, atol=AFFINE_ATOL):
            problems.append(f'affine {np.round(affine, 6).tolist()} != expected {exp_affine.tolist()}')
        qcode, scode = int(hdr['qform_code']), int(hdr['sform_code'])
        if qcode <= 0 or scode <= 0:
            problems.append(f'qform_code={qcode} sform_code={scode}; both must be > 0')
        if not np.allclose(qform, sform, rtol=0, atol=FORM_ATOL):
            problems.append(f'qform {np.round(qform, 6).tolist()} != sform {np.round(sform, 6).tolist()}')
        if not np.allclose(qform, exp_affine, rtol=0, atol=FORM_ATOL):
            problems.append(f'qform {np.round(qform, 6).tolist()} != expected affine')
        if not np.allclose(sform, exp_affine, rtol=0, atol=FORM_ATOL):
            problems.append(f'sform {np.round(sform, 6).tolist()} != expected affine')

        got_scl = effective_scaling(slope, inter)
        want_scl = effective_scaling(spec['slope'], spec['inter'])
        if not np.allclose(got_scl, want_scl, rtol=SCALE_RTOL, atol=0):
            problems.append(f'scaling (slope, inter) {got_scl} != expected {want_scl}')

        want_tr = spec['tr_seconds']
        if want_tr is not None:
            got_tr = tr_seconds(hdr)
            if got_tr is None or not math.isclose(got_tr, want_tr, rel_tol=TR_RTOL):
                problems.append(
                    f'TR {got_tr} s (pixdim[4]={float(hdr["pixdim"][4])}, '
                    f'xyzt_units={int(hdr["xyzt_units"])}) != expected {want_tr} s'
                )

        problems += optional_field_checks(spec, img, raw, data)

        # --- data -------------------------------------------------------------
        expected_count = int(np.prod(shape))
        if expected_flat.size != expected_count:
            problems.append(f'.f64 holds {expected_flat.size} values, shape needs {expected_count}')
        elif data.shape == shape:
            want = expected_flat.reshape(shape, order='F')
            if not np.array_equal(data, want, equal_nan=True):
                problems.append('data: ' + first_mismatch(data, want))

        need = int(np.prod(img.shape)) * img.get_data_dtype().itemsize
        have = data_section_length(img)
        if have != need:
            problems.append(
                f'data section is {have} bytes after vox_offset {int(img.dataobj.offset)}, expected {need}'
            )

    # --- nifti_tool -----------------------------------------------------------
    if os.path.exists(NIFTI_TOOL):
        if img is not None:
            version = 2 if isinstance(img.header, nib.Nifti2Header) else 1
        else:
            version = int(spec.get('nifti_version', 1))
        problems += nifti_tool_checks(path, version, img, scrub_paths)
    return problems


def optional_field_checks(spec: dict, img, raw, data) -> list[str]:
    """Compare the optional JSON keys that are present against the file."""
    problems = []
    is_n2 = isinstance(raw, nib.Nifti2Header)
    got = {
        'nifti_version': 2 if is_n2 else 1,
        'endian': 'big' if raw.endianness == '>' else 'little',
        'qform_code': int(raw['qform_code']),
        'sform_code': int(raw['sform_code']),
        'xyzt_units': int(raw['xyzt_units']),
        'dim_info': int(raw['dim_info']),
        'intent_code': int(raw['intent_code']),
        'descrip': raw['descrip'].item().decode('latin-1'),
        'vox_offset': int(raw['vox_offset']),
        'extensions': [int(e.get_code()) for e in raw.extensions],
        'axcodes': ''.join(nib.aff2axcodes(img.affine)),
        'nan_count': int(np.isnan(data).sum()),
    }
    finite = data[np.isfinite(data)]
    got['min'] = float(finite.min()) if finite.size else None
    got['max'] = float(finite.max()) if finite.size else None
    for key, value in got.items():
        if key in spec and spec[key] != value:
            problems.append(f'{key} {value!r} != expected {spec[key]!r}')
    return problems


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def main(argv) -> int:
    if len(argv) != 2:
        print(f'usage: {os.path.basename(argv[0])} DIR', file=sys.stderr)
        return 2
    directory = os.path.abspath(argv[1])
    try:
        if not os.path.isdir(directory):
            raise UsageError(f'{directory}: not a directory')
        json_names = sorted(n for n in os.listdir(directory) if n.endswith('.json'))
        if not json_names:
            raise UsageError(f'{directory}: no <case>.json files')
        # Validate every case's inputs before checking any, so that a usage
        # error never comes with partial results.
        cases = [load_case_inputs(directory, n) for n in json_names]
    except UsageError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2

    passed = failed = 0
    for case, spec, path, expected in cases:
        scrub_paths = [directory, os.path.join(directory, case), path]
        try:
            problems = check_case(spec, path, expected, scrub_paths)
        except Exception as exc:  # noqa: BLE001 - report, keep going
            problems = [f'verifier error: {exc!r}']
        ok = not problems
        passed += ok
        failed += not ok
        print(json.dumps({'case': case, 'ok': ok, 'problems': problems}), flush=True)
    print(f'{passed} passed, {failed} failed')
    return 0 if failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
