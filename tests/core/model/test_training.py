"""What every trainer shares: the tree floor, the GPU options, the rows of a segment, the
deadline's kind; and the module stays pure (the CatBoost trainer is `adapters.catboost_trainer`)."""

import ast
from pathlib import Path

import pandas as pd
import pytest

from retrain_assets.core.model import training
from retrain_assets.core.model.training import (
    TrainingParams,
    deadline_check_for,
    gpu_options,
    rows,
    tree_floor_of,
)

# What the pure domain never does: files, temporary folders, processes, dynamic imports, CatBoost.
IMPURE = {"shutil", "tempfile", "os", "subprocess", "importlib", "io", "catboost"}


@pytest.mark.parametrize(
    ("min_trees", "iterations", "floor"),
    [
        (50, 300, 50),  # the default floor
        (50, 10, 10),  # a dry run's 10 iterations stay 10
        (0, 300, 1),  # never below one tree
        (300, 300, 300),
    ],
)
def test_the_tree_floor_is_min_trees_capped_by_the_iterations(min_trees, iterations, floor):
    assert tree_floor_of(TrainingParams(min_trees=min_trees, iterations=iterations)) == floor


@pytest.mark.parametrize(
    ("task_type", "options"),
    [("GPU", {"gpu_ram_part": 0.25}), ("CPU", {})],  # CatBoost refuses the option on CPU
)
def test_only_a_gpu_training_passes_its_share_of_the_gpus_memory(task_type, options):
    assert gpu_options(TrainingParams(task_type=task_type, gpu_ram_part=0.25)) == options


def test_the_rows_of_a_segment_are_its_half_open_range_in_the_given_columns():
    frame = pd.DataFrame({"a": range(6), "b": range(10, 16), "label": range(20, 26)})
    got = rows(frame, (2, 5), ["b", "a"])
    assert list(got.columns) == ["b", "a"]
    assert got["a"].tolist() == [2, 3, 4]


def test_the_deadline_is_read_by_callback_on_cpu_and_between_chunks_on_gpu():
    assert deadline_check_for("CPU") == "callback"
    assert deadline_check_for("GPU") == "chunks"


def test_the_training_module_does_no_file_or_process_io_and_imports_no_catboost():
    tree = ast.parse(Path(training.__file__).read_text())
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert "pandas" in imported  # the walk sees the module's imports
    assert not imported & IMPURE
