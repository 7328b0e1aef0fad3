"""Shared helpers of the statistics stage (public to the statistics modules; not re-exported by ``pm``).

Everything here mirrors a small piece of base R / psych so that results agree number for
number with R:

* :func:`as_item_frame` - validate a table of item responses (numeric, not all-NaN, ...),
  raising :class:`~psychometrika.errors.DataError` with the offending column named.
* :func:`pairwise_cor`, :func:`pairwise_cov`, :func:`pairwise_count` - R's
  ``cor(x, use = "pairwise")``, ``cov(x, use = "pairwise")`` and psych's ``pairwiseCount``.
* :func:`is_correlation_matrix` - psych's ``isCorrelation`` test.
* :func:`as_corr_input` - accept either raw data or a correlation matrix (+ ``n_obs``).
* :func:`cov2cor`, :func:`pinv`, :func:`smc`, :func:`sym_eigen`, :func:`cor_smooth` - R's
  ``cov2cor``, psych's ``Pinv``, ``smc``, R's ``eigen`` (descending) and psych's ``cor.smooth``.
* :class:`PsychometrikaWarning` - the warning category of the statistics stage.
* :class:`Summary` and :class:`StatsResult` - the result base class with ``.summary()``.

Every statistics module imports these from here (no module imports another's private names);
``psychometrika.stats._common`` is a deprecated alias of this module.
"""

from __future__ import annotations

import functools
import math
import os
import sys
import threading
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from psychometrika.answers.columns import RESPONDENT_COLUMNS  # noqa: F401  (re-exported for stats modules)
from psychometrika.errors import DataError

__all__: list[str] = []  # helpers: nothing is re-exported by psychometrika.stats

_EPS = np.finfo(float).eps


class PsychometrikaWarning(UserWarning):
    """Warning raised by statistics functions (e.g. items reversed, Heywood case, smoothing)."""


_STATS_DIR = os.path.dirname(os.path.abspath(__file__))


def warn(message: str, stacklevel: int | None = None) -> None:
    """Emit a :class:`PsychometrikaWarning` attributed to the first caller outside the statistics package
    (``stacklevel`` forces a fixed level instead)."""
    if stacklevel is None:
        frame, stacklevel = sys._getframe(1), 1
        while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _STATS_DIR:
            frame, stacklevel = frame.f_back, stacklevel + 1
    warnings.warn(message, PsychometrikaWarning, stacklevel=stacklevel + 1)


# ----------------------------------------------------------------------------- BLAS threads
#: Environment variable: BLAS threads used inside the statistics (default 1; ``0`` = leave BLAS alone).
BLAS_THREADS_ENV = "PSYCHOMETRIKA_BLAS_THREADS"
_blas_state = threading.local()
_controller: Any = None


def _blas_controller() -> Any:
    """threadpoolctl's controller of the loaded BLAS libraries (built once; ``None`` without threadpoolctl)."""
    global _controller
    if _controller is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - threadpoolctl is a dependency
            _controller = False
        else:
            _controller = ThreadpoolController()
    return _controller or None


def blas_threads() -> int:
    """BLAS threads the statistics use: ``$PSYCHOMETRIKA_BLAS_THREADS`` (default 1; 0 = no limit)."""
    raw = os.environ.get(BLAS_THREADS_ENV, "1").strip()
    try:
        return max(int(raw), 0)
    except ValueError:
        raise DataError(f"{BLAS_THREADS_ENV} must be a whole number of threads, got {raw!r}") from None


def small_blas(fn: Callable) -> Callable:
    """Decorator: run ``fn`` with BLAS limited to :func:`blas_threads` threads (threadpoolctl).

    The statistics multiply small matrices (tens of items), where multithreaded BLAS only adds overhead and,
    on a machine busy with other work, threads that wait for each other (10-35x slower). Nested decorated
    calls set the limit once (the outermost call)."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        limit = blas_threads()
        if getattr(_blas_state, "depth", 0) or limit == 0:
            return fn(*args, **kwargs)
        ctl = _blas_controller()
        if ctl is None:
            return fn(*args, **kwargs)
        _blas_state.depth = 1
        try:
            with ctl.limit(limits=limit, user_api="blas"):
                return fn(*args, **kwargs)
        finally:
            _blas_state.depth = 0
    return wrapper


# ----------------------------------------------------------------------------- input checks
def as_item_frame(data: Any, *, what: str = "data", min_rows: int = 2, min_cols: int = 1,
                  allow_constant: bool = True) -> pd.DataFrame:
    """Validate item responses and return them as a float ``DataFrame``.

    Rows are respondents, columns are items; ``NaN`` means missing. Raises
    :class:`DataError` when the input is not 2-D, has non-numeric cells (the column and an
    example value are named), an all-missing column, fewer than ``min_rows`` respondents or
    ``min_cols`` items, or - unless ``allow_constant`` - a column without variance.
    """
    if isinstance(data, pd.Series):
        data = data.to_frame()
    if isinstance(data, np.ndarray):
        if data.ndim != 2:
            raise DataError(f"{what} must be 2-dimensional (respondents x items), got shape {data.shape}")
        data = pd.DataFrame(data, columns=[f"V{i + 1}" for i in range(data.shape[1])])
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"{what} must be a pandas DataFrame or a 2-D numpy array, got {type(data).__name__}")
    if data.shape[1] < min_cols:
        raise DataError(f"{what} needs at least {min_cols} item column(s), got {data.shape[1]}")
    if data.columns.duplicated().any():
        dup = list(data.columns[data.columns.duplicated()])
        raise DataError(f"{what} has duplicated column names: {dup}")
    out = {}
    for col in data.columns:
        s = data[col]
        if pd.api.types.is_bool_dtype(s):
            s = s.astype(float)
        elif not pd.api.types.is_numeric_dtype(s):
            conv = pd.to_numeric(s, errors="coerce")
            bad = s[conv.isna() & s.notna()]
            if len(bad):
                raise DataError(f"column {col!r} of {what} has non-numeric value {bad.iloc[0]!r} "
                                f"(row {bad.index[0]!r}); item responses must be numbers or NaN")
            s = conv
        s = s.astype(float)
        if np.isinf(s).any():
            raise DataError(f"column {col!r} of {what} contains infinite values")
        out[col] = s
    frame = pd.DataFrame(out, index=data.index)
    frame.columns = [str(c) for c in frame.columns]
    if frame.shape[0] < min_rows:
        raise DataError(f"{what} has {frame.shape[0]} respondent(s); at least {min_rows} are needed")
    all_nan = [c for c in frame.columns if frame[c].isna().all()]
    if all_nan:
        raise DataError(f"column(s) {all_nan} of {what} contain no responses (all values missing)")
    if not allow_constant:
        const = constant_columns(frame)
        if const:
            raise DataError(f"column(s) {const} of {what} have no variance (every response is the same)")
    return frame


def constant_columns(frame: pd.DataFrame) -> list[str]:
    """Names of columns whose non-missing values are all equal (or that have < 2 values)."""
    out = []
    for c in frame.columns:
        v = frame[c].dropna().to_numpy()
        if v.size < 2 or np.all(v == v[0]):
            out.append(c)
    return out


def is_correlation_matrix(x: Any, tol: float = 1.5e-8) -> bool:
    """psych's ``isCorrelation``: square, symmetric, unit diagonal, entries within [-1, 1]."""
    a = np.asarray(x, dtype=float) if not isinstance(x, pd.DataFrame) else x.to_numpy(dtype=float)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or np.isnan(a).any():
        return False
    if not np.allclose(a, a.T, rtol=0, atol=100 * tol):
        return False
    if abs(np.prod(np.diag(a)) - 1) > tol:
        return False
    return bool(a.min() >= -1 and a.max() <= 1)


def perfectly_correlated_pairs(r: np.ndarray, names: Sequence[str], tol: float = 1e-10) -> list[tuple[str, str]]:
    """Pairs of variables whose correlation is ±1 (identical items up to sign and scale)."""
    a = np.asarray(r, dtype=float)
    i, j = np.where(np.triu(np.abs(a) >= 1 - tol, 1))
    return [(str(names[x]), str(names[y])) for x, y in zip(i, j)]


def degenerate_reason(r: np.ndarray, names: Sequence[str]) -> str:
    """Words for why a factor model of the correlation matrix ``r`` is degenerate (used in the
    :class:`DataError` when a factor computation fails): identical items, or no correlation at all."""
    pairs = perfectly_correlated_pairs(r, names)
    if pairs:
        shown = ", ".join(f"{a!r} and {b!r}" for a, b in pairs[:5]) + (" ..." if len(pairs) > 5 else "")
        return f"item(s) {shown} are perfectly correlated (identical up to sign and scale)"
    off = np.asarray(r, dtype=float)[~np.eye(len(r), dtype=bool)]
    if off.size and np.all(np.abs(off) < 1e-12):
        return "the items are uncorrelated (every correlation is 0), so there is no common factor"
    return "the correlation matrix is (nearly) singular or the factor solution has no variance"


#: Arithmetic failures of a factor computation on a degenerate matrix, turned into a DataError.
DEGENERATE_ERRORS = (ZeroDivisionError, FloatingPointError, np.linalg.LinAlgError)


def check_correlation_matrix(r: Any, *, what: str = "correlation matrix") -> pd.DataFrame:
    """Validate a correlation matrix given as DataFrame/array; return it as a labelled DataFrame."""
    if isinstance(r, pd.DataFrame):
        names = [str(c) for c in r.columns]
        try:
            a = r.to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:
            raise DataError(f"{what} has non-numeric entries") from exc
    else:
        a = np.asarray(r, dtype=float)
        names = [f"V{i + 1}" for i in range(a.shape[1] if a.ndim == 2 else 0)]
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise DataError(f"{what} must be square, got shape {a.shape}")
    if np.isnan(a).any():
        bad = [names[j] for j in range(a.shape[1]) if np.isnan(a[:, j]).any()]
        raise DataError(f"{what} has missing (NaN) entries in column(s) {bad}; drop those variables")
    if not np.allclose(a, a.T, rtol=0, atol=1e-6):
        raise DataError(f"{what} is not symmetric")
    d = np.diag(a)
    if np.any(d <= 0):
        bad = [names[j] for j in np.where(d <= 0)[0]]
        raise DataError(f"{what} has non-positive diagonal entries for {bad}")
    a = cov2cor((a + a.T) / 2)
    return pd.DataFrame(a, index=names, columns=names)


@dataclass
class CorrInput:
    """Normalised input of functions that accept raw data or a correlation matrix."""

    r: pd.DataFrame                   # correlation matrix (pairwise for raw data)
    n_obs: float | None               # number of observations (None when unknown)
    data: pd.DataFrame | None         # the raw data, when raw data were given
    np_obs: np.ndarray | None         # pairwise counts (raw data only)

    @property
    def names(self) -> list[str]:
        return list(self.r.columns)


def as_corr_input(x: Any, n_obs: float | None = None, *, what: str = "data",
                  min_cols: int = 2) -> CorrInput:
    """Accept raw item responses or a correlation matrix (psych's ``isCorrelation`` rule).

    Raw data give the pairwise correlation matrix, ``n_obs`` = number of rows and the
    pairwise counts; a correlation (or covariance) matrix is rescaled by ``cov2cor``.
    Constant or all-missing columns and correlation matrices with NaN raise :class:`DataError`.
    """
    arr_like = x.to_numpy() if isinstance(x, pd.DataFrame) else x
    try:
        square = np.ndim(arr_like) == 2 and np.shape(arr_like)[0] == np.shape(arr_like)[1]
    except Exception:  # pragma: no cover - defensive
        square = False
    if square and isinstance(x, (pd.DataFrame, np.ndarray)):
        try:
            a = np.asarray(arr_like, dtype=float)
        except (TypeError, ValueError):
            a = None
        looks_like_matrix = (a is not None and np.allclose(a, a.T, atol=1e-8, equal_nan=True)
                             and np.all(np.diag(a) > 0))
        if looks_like_matrix:
            unit_diag = np.allclose(np.diag(a), 1.0)
            if is_correlation_matrix(a) or n_obs is not None or (unit_diag and np.isnan(a).any()):
                r = check_correlation_matrix(x, what="correlation matrix")
                if n_obs is not None and (not np.isfinite(n_obs) or n_obs <= 1):
                    raise DataError(f"n_obs must be a number > 1, got {n_obs!r}")
                if r.shape[1] < min_cols:
                    raise DataError(f"need at least {min_cols} variables, got {r.shape[1]}")
                return CorrInput(r=r, n_obs=None if n_obs is None else float(n_obs), data=None, np_obs=None)
    frame = as_item_frame(x, what=what, min_rows=2, min_cols=min_cols)
    const = constant_columns(frame)
    if const:
        raise DataError(f"column(s) {const} of {what} have no variance, so their correlations are undefined; "
                        "drop them first")
    r = pairwise_cor(frame)
    if np.isnan(r.to_numpy()).any():
        a = r.to_numpy()
        bad = [r.columns[j] for j in range(a.shape[1]) if np.isnan(a[:, j]).any()]
        raise DataError(f"some pairwise correlations are undefined (too few joint responses or no joint "
                        f"variance) for column(s) {bad}")
    if n_obs is not None:
        warn("n_obs is ignored when raw data are given (the number of rows is used)")
    return CorrInput(r=r, n_obs=float(frame.shape[0]), data=frame, np_obs=pairwise_count(frame))


# ----------------------------------------------------------------------------- pairwise stats
def pairwise_cor(frame: pd.DataFrame) -> pd.DataFrame:
    """R's ``cor(x, use = "pairwise")``: each correlation uses the rows where both items are present.

    Means and standard deviations are those of the jointly observed rows (not the column
    means), exactly like R. Pairs without variance give NaN.
    """
    return _pairwise(frame, corr=True)


def pairwise_cov(frame: pd.DataFrame) -> pd.DataFrame:
    """R's ``cov(x, use = "pairwise")`` (denominator n - 1 of each pair's joint observations)."""
    return _pairwise(frame, corr=False)


def _pairwise(frame: pd.DataFrame, corr: bool) -> pd.DataFrame:
    x = frame.to_numpy(dtype=float)
    mask = ~np.isnan(x)
    # centre by column means first (changes nothing mathematically, keeps the sums well conditioned)
    with np.errstate(invalid="ignore"):
        x = x - np.nanmean(x, axis=0) if mask.any() else x
    if mask.all():
        c = x.T @ x / (x.shape[0] - 1)
        c = c - np.outer(x.sum(axis=0), x.sum(axis=0)) / (x.shape[0] * (x.shape[0] - 1))
        if corr:
            with np.errstate(invalid="ignore", divide="ignore"):
                d = np.sqrt(np.diag(c))
                c = c / np.outer(d, d)
            np.fill_diagonal(c, np.where(d > 0, 1.0, np.nan))
        return pd.DataFrame(c, index=frame.columns, columns=frame.columns)
    m = mask.astype(float)
    x0 = np.where(mask, x, 0.0)
    n = m.T @ m                       # joint counts
    s_ij = x0.T @ x0                  # sum x_i x_j over joint rows
    s_i = x0.T @ m                    # [i, j]: sum of x_i over rows where j is present (and i)
    with np.errstate(invalid="ignore", divide="ignore"):
        cross = s_ij - s_i * s_i.T / n
        if corr:
            ss_i = (x0 ** 2).T @ m
            var_i = ss_i - s_i ** 2 / n   # [i, j]: centred SS of x_i over the joint rows
            out = cross / np.sqrt(var_i * var_i.T)
            out[(var_i <= 0) | (var_i.T <= 0)] = np.nan
            diag = np.where(np.diag(var_i) > 0, 1.0, np.nan)
            np.fill_diagonal(out, diag)
        else:
            out = cross / (n - 1)
        out[n < 2] = np.nan
    return pd.DataFrame(out, index=frame.columns, columns=frame.columns)


def pairwise_count(frame: pd.DataFrame) -> np.ndarray:
    """psych's ``pairwiseCount``: number of rows where both items are present."""
    m = frame.notna().to_numpy().astype(float)
    return m.T @ m


# ----------------------------------------------------------------------------- matrix helpers
def cov2cor(c: np.ndarray) -> np.ndarray:
    """R's ``cov2cor``: rescale a covariance matrix to unit diagonal."""
    c = np.asarray(c, dtype=float)
    d = 1.0 / np.sqrt(np.diag(c))
    out = c * np.outer(d, d)
    np.fill_diagonal(out, 1.0)
    return out


def pinv(x: np.ndarray, tol: float = math.sqrt(_EPS)) -> np.ndarray:
    """psych's ``Pinv``: Moore-Penrose inverse dropping singular values below ``tol * d[0]``."""
    u, d, vt = np.linalg.svd(np.asarray(x, dtype=float))
    keep = d > max(tol * d[0], 0)
    return (vt[keep].T / d[keep]) @ u[:, keep].T


def smc(r: np.ndarray) -> np.ndarray:
    """Squared multiple correlations ``1 - 1/diag(R^-1)`` (psych's ``smc``; clamped to [0, 1])."""
    r = cov2cor(np.asarray(r, dtype=float))
    s = 1 - 1 / np.diag(pinv(r))
    s = np.where(s > 1, 1.0, s)
    s = np.where(s < 0, 0.0, s)
    return s


def sym_eigen(a: np.ndarray, only_values: bool = False):
    """R's ``eigen(symmetric = TRUE)``: eigenvalues in decreasing order (and vectors)."""
    a = np.asarray(a, dtype=float)
    a = (a + a.T) / 2
    if only_values:
        return np.linalg.eigvalsh(a)[::-1]
    w, v = np.linalg.eigh(a)
    return w[::-1], v[:, ::-1]


def cor_smooth(r: np.ndarray, eig_tol: float = 1e-12, *, warn_user: bool = True) -> np.ndarray:
    """psych's ``cor.smooth``: if the matrix is not positive definite, set small eigenvalues to
    ``100 * eig_tol``, rescale them to sum to ``p`` and return the nearest correlation matrix.

    psych smooths when the smallest eigenvalue is below machine epsilon; a singular matrix's zero eigenvalue
    comes out of LAPACK as rounding noise of order ``p * eps * max eigenvalue``, either sign, so that is the
    threshold here (the same decision as psych's wherever the decision is not decided by noise)."""
    vals, vecs = sym_eigen(r)
    if vals.min() < max(_EPS, len(vals) * _EPS * vals.max()):
        if warn_user:
            warn("correlation matrix was not positive definite; it was smoothed (psych's cor.smooth)")
        vals = np.where(vals < eig_tol, 100 * eig_tol, vals)
        vals = vals * len(vals) / vals.sum()
        return cov2cor(vecs @ np.diag(vals) @ vecs.T)
    return np.asarray(r, dtype=float)


def r_quantile(x: Sequence[float] | np.ndarray, probs: Iterable[float]) -> np.ndarray:
    """R's default ``quantile`` (type 7)."""
    return np.quantile(np.asarray(x, dtype=float), list(probs), method="linear")


# ----------------------------------------------------------------------------- results
class Summary(str):
    """A printable text block (``str`` whose ``repr`` is the text itself, nice in a REPL)."""

    def __repr__(self) -> str:  # pragma: no cover - cosmetic
        return str(self)


def fmt_frame(df: pd.DataFrame | pd.Series, digits: int = 2) -> str:
    """Format a DataFrame like R's ``print(round(x, digits))``."""
    if isinstance(df, pd.Series):
        df = df.to_frame().T
    with pd.option_context("display.width", 200, "display.max_columns", 50, "display.max_rows", 500):
        return df.round(digits).to_string(na_rep="")


class StatsResult:
    """Base class of statistics results.

    Subclasses are dataclasses whose fields are named like psych's / lavaan's output (dots turned into
    underscores); they implement :meth:`to_frame` (the main table) and :meth:`_summary_lines`. ``summary()`` returns a
    :class:`Summary` (a ``str``) laid out like psych's ``print`` method; ``print(result)``
    prints the same text.
    """

    _title: str = "Result"

    def _summary_lines(self, digits: int) -> list[str]:  # pragma: no cover - overridden
        return []

    def to_frame(self) -> pd.DataFrame:
        """The result's main table as a DataFrame (each subclass documents which)."""
        raise NotImplementedError(f"{type(self).__name__}.to_frame")  # pragma: no cover - every result defines it

    def _scalars(self, *names: str) -> pd.DataFrame:
        """One-row DataFrame of scalar attributes (for :meth:`to_frame`)."""
        return pd.DataFrame([{n: getattr(self, n) for n in names}])

    def summary(self, digits: int = 2) -> Summary:
        """Text report in the layout of psych's ``print`` method (values rounded to ``digits``)."""
        return Summary("\n".join([self._title, *self._summary_lines(digits)]))

    def __str__(self) -> str:
        return str(self.summary())

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self._title.splitlines()[0]}>"


# ----------------------------------------------------------------------------- LLM response tables


def parse_keys(keys: Any, items: list[str]) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Read item keys: ``{item: +1/-1}`` or psych's keys list ``{scale: ["A2", "-A1", ...]}``.

    Returns ``(item -> +1/-1, scale -> member items)``; raises :class:`DataError` for bad keys or
    items not in ``items``.
    """
    if keys is None:
        raise DataError("keys are needed for a wide table",
                        hint="pass {item: 1 or -1} or {scale: ['item', '-reversed_item', ...]}")
    if isinstance(keys, pd.Series):
        keys = keys.to_dict()
    if not isinstance(keys, Mapping):
        raise DataError("keys must be a mapping {item: +1/-1} or {scale: [items, '-reversed']}")
    item_key: dict[str, int] = {}
    scales: dict[str, list[str]] = {}
    for k, v in keys.items():
        if isinstance(v, (int, float, np.integer, np.floating)):
            if v not in (1, -1):
                raise DataError(f"key of item {k!r} must be +1 or -1, got {v!r}")
            item_key[str(k)] = int(v)
        else:
            members = []
            for it in v:
                it = str(it)
                sign = -1 if it.startswith("-") else 1
                name = it[1:] if sign < 0 else it
                item_key[name] = sign
                members.append(name)
            scales[str(k)] = members
    missing = [i for i in item_key if i not in items]
    if missing:
        raise DataError(f"keys name item(s) not in the data: {missing}")
    return item_key, scales

# ----------------------------------------------------------------------------- CI column convention
#: The confidence-interval columns of every statistics table (pingouin / effectsize style): ``CI`` (the level),
#: ``CI_low``, ``CI_high``; for one of several estimates in a row ``<estimate>_CI_low`` / ``<estimate>_CI_high``.
CI_LOW, CI_HIGH = "CI_low", "CI_high"


def z_value(ci: float) -> float:
    """Two-sided normal quantile for a confidence level (1.959964 for ``ci = 0.95``)."""
    from scipy import stats
    if not 0 < ci < 1:
        raise DataError(f"ci must be a level between 0 and 1 (e.g. 0.95), got {ci!r}")
    return float(stats.norm.ppf(1 - (1 - ci) / 2))


class _AliasLoc:
    """``.loc`` of an :class:`AliasFrame`: old column names in the column key are translated."""

    def __init__(self, frame: "AliasFrame"):
        self._frame = frame

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, tuple) and len(key) == 2:
            key = (key[0], self._frame._translate(key[1]))
        return pd.DataFrame.loc.fget(self._frame)[key]  # type: ignore[attr-defined]

    def __setitem__(self, key: Any, value: Any) -> None:
        pd.DataFrame.loc.fget(self._frame)[key] = value  # type: ignore[attr-defined]


def _translate(obj: Any, labels: Any, key: Any) -> Any:
    aliases = getattr(obj, "_column_aliases", None) or {}
    if isinstance(key, str) and key in aliases and key not in labels:
        warnings.warn(f"column {key!r} was renamed {aliases[key]!r}; the old name stops working in the next "
                      "release", DeprecationWarning, stacklevel=4)
        return aliases[key]
    if isinstance(key, list):
        return [_translate(obj, labels, k) for k in key]
    return key


class AliasSeries(pd.Series):
    """A row of an :class:`AliasFrame`: the old column names still read (``row["lower"]``)."""

    _metadata = ["_column_aliases"]

    @property
    def _constructor(self):  # type: ignore[override]
        return AliasSeries

    def __getitem__(self, key: Any) -> Any:
        return super().__getitem__(_translate(self, self.index, key))


class AliasFrame(pd.DataFrame):
    """A DataFrame whose renamed columns can still be read by their old names for one release.

    ``frame["lower"]``, ``frame.lower`` and ``frame.loc[:, "lower"]`` return the renamed column (``CI_low``)
    with a :class:`DeprecationWarning`; the old names are not columns (no duplicated data)."""

    _metadata = ["_column_aliases"]

    @property
    def _constructor(self):  # type: ignore[override]
        return AliasFrame

    @property
    def _constructor_sliced(self):  # type: ignore[override]
        return AliasSeries

    def _translate(self, key: Any) -> Any:
        return _translate(self, self.columns, key)

    def __getitem__(self, key: Any) -> Any:
        return super().__getitem__(self._translate(key))

    def __getattr__(self, name: str) -> Any:
        aliases = object.__getattribute__(self, "__dict__").get("_column_aliases") or {}
        if name in aliases:
            return self[name]
        return super().__getattr__(name)

    @property
    def loc(self) -> _AliasLoc:  # type: ignore[override]
        return _AliasLoc(self)


def renamed_columns(frame: pd.DataFrame, aliases: Mapping[str, str]) -> AliasFrame:
    """``frame`` as an :class:`AliasFrame` in which each old name of ``aliases`` (old -> new) still reads."""
    out = AliasFrame(frame)
    out._column_aliases = {old: new for old, new in aliases.items() if new in frame.columns}
    return out

