"""Cached chunked generation: worker-count independence, resume after a crash, rank shards."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from sciml.datasets import generate_cached, sample_seed

from sciml.errors import DataError, NonFiniteError

PARAMS = {"pde": "stand-in", "s": 5, "seed": 3}
CALLS: list[int] = []


def fake_chunk(params: dict, start: int, stop: int) -> dict[str, np.ndarray]:
    """A stand-in solver: per-sample seeded noise and its square."""
    CALLS.append(start)
    x = np.stack([np.random.default_rng(sample_seed(params["seed"], 0, i)).standard_normal(
        (1, params["s"])) for i in range(start, stop)])
    return {"x": x.astype(np.float32), "y": (x**2).astype(np.float32)}


def crash_after_two_chunks(params: dict, start: int, stop: int) -> dict[str, np.ndarray]:
    if start >= 2 * 3:
        raise KeyboardInterrupt("simulated crash")
    return fake_chunk(params, start, stop)


def nan_chunk(params: dict, start: int, stop: int) -> dict[str, np.ndarray]:
    out = fake_chunk(params, start, stop)
    out["y"][0, 0, 0] = np.nan
    return out


def wrong_count_chunk(params: dict, start: int, stop: int) -> dict[str, np.ndarray]:
    out = fake_chunk(params, start, stop)
    return {"x": out["x"][:1], "y": out["y"]}


def _run(root: Path, fn=fake_chunk, n: int = 10, **kw) -> dict[str, np.ndarray]:
    return generate_cached("fake", PARAMS, n, fn, chunk_size=3, root=root, progress=False, **kw)


def _leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if p.name.endswith(".tmp"))


def test_generates_once_then_reads_cache(tmp_path: Path) -> None:
    CALLS.clear()
    first = _run(tmp_path)
    assert first["x"].shape == (10, 1, 5) and first["y"].dtype == np.float32
    assert sorted(CALLS) == [0, 3, 6, 9]
    np.testing.assert_allclose(first["y"], first["x"].astype(np.float64) ** 2, rtol=1e-6)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 1 and files[0].startswith("fake-") and files[0].endswith(".h5")
    CALLS.clear()
    again = _run(tmp_path)
    assert CALLS == []
    np.testing.assert_array_equal(again["x"], first["x"])


def test_samples_do_not_depend_on_chunking(tmp_path: Path) -> None:
    a = _run(tmp_path / "a")
    b = generate_cached("fake", PARAMS, 10, fake_chunk, chunk_size=4, root=tmp_path / "b",
                        progress=False)
    np.testing.assert_array_equal(a["x"], b["x"])
    c = _run(tmp_path / "c", n=4)  # a prefix of the same sample stream
    np.testing.assert_array_equal(c["x"], a["x"][:4])


def test_result_independent_of_worker_count(tmp_path: Path) -> None:
    one = _run(tmp_path / "one", workers=1)
    two = _run(tmp_path / "two", workers=2, start_method="fork")
    np.testing.assert_array_equal(one["x"], two["x"])
    np.testing.assert_array_equal(one["y"], two["y"])


@pytest.mark.slow
def test_spawned_workers(tmp_path: Path) -> None:
    """The default start method: workers import sciml and unpickle the chunk function."""
    one = _run(tmp_path / "one", workers=1)
    three = _run(tmp_path / "three", workers=3)
    np.testing.assert_array_equal(one["y"], three["y"])


def test_resumes_after_crash(tmp_path: Path) -> None:
    reference = _run(tmp_path / "reference")
    root = tmp_path / "crashed"
    with pytest.raises(KeyboardInterrupt):
        _run(root, fn=crash_after_two_chunks)
    assert not list(root.glob("*.h5")), "no cache file may exist after a crash"
    parts = sorted(p.name for p in root.glob("*.parts/*"))
    assert parts == ["chunk000000.h5", "chunk000001.h5"]
    assert _leftovers(root) == []
    CALLS.clear()
    resumed = _run(root)
    assert sorted(CALLS) == [6, 9], "chunks written before the crash are not regenerated"
    np.testing.assert_array_equal(resumed["x"], reference["x"])
    np.testing.assert_array_equal(resumed["y"], reference["y"])
    assert not list(root.glob("*.parts")), "part files are removed after the merge"


def test_torchrun_ranks_write_shards_and_merge(tmp_path: Path) -> None:
    reference = _run(tmp_path / "single")
    root = tmp_path / "sharded"
    results: dict[int, dict] = {}
    errors: list[BaseException] = []

    def rank(r: int) -> None:
        try:
            results[r] = _run(root, rank=r, world_size=2, shard_timeout=60)
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=rank, args=(r,)) for r in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    shards = sorted(p.name for p in root.glob("*.h5"))
    assert len(shards) == 2 and shards[0].endswith("-shard0of2.h5")
    assert shards[1].endswith("-shard1of2.h5")
    for r in (0, 1):
        np.testing.assert_array_equal(results[r]["x"], reference["x"])
    CALLS.clear()
    merged = _run(root)  # a later single-process reader merges the shards
    assert CALLS == []
    np.testing.assert_array_equal(merged["y"], reference["y"])


def test_rank_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(ValueError, match="RANK"):
        _run(tmp_path)


def test_corrupt_cache_file_is_named(tmp_path: Path) -> None:
    _run(tmp_path)
    (path,) = tmp_path.glob("*.h5")
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataError, match="delete") as info:
        _run(tmp_path)
    assert path.name in str(info.value)


def test_non_finite_chunk_and_wrong_sample_count(tmp_path: Path) -> None:
    with pytest.raises(NonFiniteError, match="'y'.*NaN"):
        _run(tmp_path / "nan", fn=nan_chunk)
    assert not list((tmp_path / "nan").glob("*.h5"))
    with pytest.raises(DataError, match="'x' has shape"):
        _run(tmp_path / "count", fn=wrong_count_chunk)


def test_bad_start_method(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="start_method.*'threads'"):
        _run(tmp_path, start_method="threads")


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_bad_counts(tmp_path: Path, bad) -> None:
    with pytest.raises(ValueError, match="n_samples"):
        generate_cached("fake", PARAMS, bad, fake_chunk, chunk_size=3, root=tmp_path)
    with pytest.raises(ValueError, match="chunk_size"):
        generate_cached("fake", PARAMS, 4, fake_chunk, chunk_size=bad, root=tmp_path)
