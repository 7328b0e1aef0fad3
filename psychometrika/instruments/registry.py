"""Finding and loading instruments: built-in files plus installed plugins.

Discovery order:

1. the instruments shipped with psychometrika (the repository's ``instruments/`` folder, installed as
   ``psychometrika/_builtin_instruments``);
2. plugins announced through the entry-point group ``psychometrika.instruments``. An entry point names
   either a module/package whose folder holds ``*.yaml`` files, or a callable returning an iterable of
   :class:`~psychometrika.instruments.schema.Instrument` objects or paths to YAML files.

Plugins run code only through their installed entry point; a data file is never executed.
"""

from __future__ import annotations

import importlib.metadata as md
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Iterable

from ..errors import InstrumentError
from ..yamlio import load_model
from .schema import Instrument

ENTRY_POINT_GROUP = "psychometrika.instruments"
_SUFFIXES = (".yaml", ".yml")


def builtin_dir() -> Path:
    """Folder of the instruments shipped with the package."""
    here = Path(__file__).resolve().parent.parent
    installed = here / "_builtin_instruments"
    if installed.is_dir():
        return installed
    return here.parent / "instruments"


def load_instrument_file(path: str | Path) -> Instrument:
    """Load and validate one instrument YAML file.

    Raises
    ------
    InstrumentError
        naming the file, line, column and field of the first problem, with a hint.
    """
    inst, digest = load_model(path, Instrument, InstrumentError, what="instrument file")
    inst._source = str(path)
    inst._sha256 = digest
    return inst


@dataclass(frozen=True)
class Source:
    """Where an instrument was found: ``builtin`` or ``plugin:<entry point name>``."""

    origin: str
    path: str | None


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in _SUFFIXES and p.is_file())


def _from_entry_point(ep: md.EntryPoint) -> Iterable[Instrument | InstrumentError]:
    """The instruments of one plugin; a broken file is yielded as its error (the plugin's other files and
    every other plugin still load)."""
    obj = ep.load()
    if isinstance(obj, ModuleType):
        folders = [Path(p) for p in getattr(obj, "__path__", [])] or [Path(obj.__file__).parent]
        for folder in folders:
            for f in _yaml_files(folder):
                yield _try_load(f)
        return
    if callable(obj):
        for entry in obj():
            if isinstance(entry, Instrument):
                yield entry
            elif isinstance(entry, (str, Path)):
                yield _try_load(entry)
            else:
                yield InstrumentError(f"plugin {ep.name!r} returned {type(entry).__name__}; expected Instrument "
                                      "objects or paths to YAML files")
        return
    raise InstrumentError(f"plugin entry point {ep.name!r} ({ep.value}) is neither a module nor a callable")


def _try_load(path: str | Path) -> Instrument | InstrumentError:
    try:
        return load_instrument_file(path)
    except InstrumentError as exc:
        return exc


_problems: list[str] = []


def catalogue_problems() -> list[str]:
    """Instrument files and plugins that failed to load (each was skipped; the rest is listed)."""
    _catalogue()
    return list(_problems)


@lru_cache(maxsize=1)
def _catalogue() -> tuple[dict[str, tuple[Instrument, Source]], dict[str, str]]:
    found: dict[str, tuple[Instrument, Source]] = {}
    _problems.clear()
    folder = builtin_dir()
    if folder.is_dir():
        for f in _yaml_files(folder):
            inst = load_instrument_file(f)
            found[inst.id] = (inst, Source("builtin", str(f)))
    for ep in md.entry_points(group=ENTRY_POINT_GROUP):
        try:
            for inst in _from_entry_point(ep):
                if isinstance(inst, InstrumentError):
                    _problems.append(f"instrument plugin {ep.name!r}: skipped a broken file: {inst}")
                    warnings.warn(_problems[-1], stacklevel=2)
                    continue
                if inst.id in found:
                    warnings.warn(f"plugin {ep.name!r} provides instrument {inst.id!r}, which is already provided "
                                  f"by {found[inst.id][1].origin}; keeping the first", stacklevel=2)
                    continue
                found[inst.id] = (inst, Source(f"plugin:{ep.name}", inst.source))
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not hide the others
            _problems.append(f"instrument plugin {ep.name!r} failed to load and was skipped: {exc}")
            warnings.warn(_problems[-1], stacklevel=2)
    aliases: dict[str, str] = {}
    for iid, (inst, _) in found.items():
        for a in inst.aliases:
            if a not in found:
                aliases.setdefault(a, iid)
    return found, aliases


def refresh() -> None:
    """Forget the cached catalogue (after installing a plugin in the same process)."""
    _catalogue.cache_clear()


def list_instruments() -> list[tuple[Instrument, Source]]:
    """Every available instrument with where it came from, sorted by id."""
    found, _ = _catalogue()
    return [found[k] for k in sorted(found)]


def resolve_id(name: str) -> str:
    found, aliases = _catalogue()
    if name in found:
        return name
    if name in aliases:
        return aliases[name]
    close = sorted(k for k in list(found) + list(aliases) if name.lower()[:3] in k.lower())
    raise InstrumentError(f"no instrument with id {name!r}",
                          hint=f"did you mean one of {close}?" if close else
                          "`psychometrika instruments list` shows the available ids")


def load_instrument(path_or_id: str | Path) -> Instrument:
    """Load an instrument by id (built-in or plugin, aliases allowed) or from a YAML file path.

    Examples
    --------
    >>> import psychometrika as pm
    >>> bfi = pm.load_instrument("bfi-44")            # doctest: +SKIP
    >>> mine = pm.load_instrument("my_scale.yaml")    # doctest: +SKIP
    """
    p = Path(path_or_id)
    if p.suffix in _SUFFIXES or p.exists() or "/" in str(path_or_id):
        return load_instrument_file(p)
    iid = resolve_id(str(path_or_id))
    inst = _catalogue()[0][iid][0]
    if iid != str(path_or_id) and inst.alias_note:
        warnings.warn(f"{path_or_id!r} is an alias of {iid!r}: {inst.alias_note}", stacklevel=2)
    return inst
