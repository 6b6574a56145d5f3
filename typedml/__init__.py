"""typedml: pipelines whose stages carry units, shapes and dtypes in their signatures.

Public API is what this module exports. Modules whose names start with an underscore are
private: their contents may change without notice.
"""

import typing as _typing

from ._angles import angle_registry as angle_registry
from ._annotations import Axis as Axis
from ._annotations import Q as Q
from ._annotations import Unit as Unit
from ._check import CheckReport as CheckReport
from ._checkfile import FileReport as FileReport
from ._checkfile import check_file as check_file
from ._checkfile import check_source as check_source
from ._compile_cache import enable_compilation_cache as enable_compilation_cache
from ._cost import Budget as Budget
from ._cost import CostReport as CostReport
from ._cost import StageCost as StageCost
from ._debug import DebugRun as DebugRun
from ._errors import BodyError as BodyError
from ._errors import ContractError as ContractError
from ._errors import ConversionWarning as ConversionWarning
from ._errors import Diagnostic as Diagnostic
from ._errors import DistributedError as DistributedError
from ._errors import Fix as Fix
from ._errors import InputError as InputError
from ._errors import Location as Location
from ._errors import NonFiniteError as NonFiniteError
from ._errors import PrecisionWarning as PrecisionWarning
from ._errors import Related as Related
from ._errors import StageDefinitionError as StageDefinitionError
from ._errors import TypedMLError as TypedMLError
from ._errors import TypedMLWarning as TypedMLWarning
from ._errors import WiringError as WiringError
from ._files import FileChunks as FileChunks
from ._files import file_chunks as file_chunks
from ._ipython import load_ipython_extension as load_ipython_extension
from ._ipython import unload_ipython_extension as unload_ipython_extension
from ._kinds import Kind as Kind
from ._kinds import Kinds as Kinds
from ._kinds import get_kinds as get_kinds
from ._kinds import kinds as kinds
from ._kinds import use_kinds as use_kinds
from ._parquet import parquet_chunks as parquet_chunks
from ._parquet import write_parquet as write_parquet
from ._pipeline import Pipeline as Pipeline
from ._pipeline import pipeline as pipeline
from ._quantity import Quantity as Quantity
from ._quantity import QuantityLike as QuantityLike
from ._refine import Bounded as Bounded
from ._refine import Finite as Finite
from ._refine import Increasing as Increasing
from ._refine import Integer as Integer
from ._refine import NonNegative as NonNegative
from ._refine import Positive as Positive
from ._refine import Probability as Probability
from ._refine import Refinement as Refinement
from ._shard import ShardedPipeline as ShardedPipeline
from ._stage import Stage as Stage
from ._stage import stage as stage
from ._stream import StreamStats as StreamStats
from ._stream import npy_chunks as npy_chunks
from ._stream import stream as stream
from ._summary import Comparison as Comparison
from ._summary import RunReport as RunReport
from ._summary import Shift as Shift
from ._summary import ValueSummary as ValueSummary
from ._tables import Columns as Columns
from ._tables import columns as columns
from ._traced import checkify as checkify
from ._units import get_registry as get_registry
from ._units import set_registry as set_registry
from ._units import use_registry as use_registry
from ._xarray import xarray_chunks as xarray_chunks

__version__ = "0.1.0"

__all__ = [
    "Axis",
    "BodyError",
    "Bounded",
    "Budget",
    "CheckReport",
    "Columns",
    "Comparison",
    "ContractError",
    "ConversionWarning",
    "CostReport",
    "DebugRun",
    "Diagnostic",
    "DistributedError",
    "FileChunks",
    "FileReport",
    "Finite",
    "Fix",
    "Increasing",
    "InputError",
    "Integer",
    "Kind",
    "Kinds",
    "Location",
    "NonFiniteError",
    "NonNegative",
    "Pipeline",
    "Positive",
    "PrecisionWarning",
    "Probability",
    "Q",
    "Quantity",
    "QuantityLike",
    "Refinement",
    "Related",
    "RunReport",
    "ShardedPipeline",
    "Shift",
    "Stage",
    "StageCost",
    "StageDefinitionError",
    "StreamStats",
    "TypedMLError",
    "TypedMLWarning",
    "Unit",
    "ValueSummary",
    "WiringError",
    "angle_registry",
    "check_file",
    "check_source",
    "checkify",
    "columns",
    "enable_compilation_cache",
    "file_chunks",
    "get_kinds",
    "get_registry",
    "kinds",
    "load_ipython_extension",
    "npy_chunks",
    "parquet_chunks",
    "pipeline",
    "set_registry",
    "stage",
    "stdlib",
    "stream",
    "unload_ipython_extension",
    "use_kinds",
    "use_registry",
    "write_parquet",
    "xarray_chunks",
]

if _typing.TYPE_CHECKING:
    from . import stdlib as stdlib


def __getattr__(name: str) -> _typing.Any:
    # The standard library of stages is loaded on first use: ``import typedml`` then parses no
    # stage signature and builds no unit registry.
    if name == "stdlib":
        import importlib

        return importlib.import_module(".stdlib", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "stdlib"})
