"""Synthetic data, CSV loading, splitting and standardization, and every CSV error."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from tui_trainer.core.config import DataConfig
from tui_trainer.core.data import load_dataset, read_csv
from tui_trainer.core.errors import DataError
from tui_trainer.core.synthetic import synthetic_true_weights


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def csv_config(path, **values):
    return DataConfig(source=path, **values)


def test_synthetic_data_follows_the_true_line_and_is_seeded():
    config = DataConfig(samples=4000, dims=3, noise=0.1, true_bias=-1.5, val_fraction=0)
    data = load_dataset(config)
    assert data.x_train.shape == (4000, 3) and data.y_train.shape == (4000, 1)
    assert data.x_train.dtype == np.float32
    residual = data.y_train - data.x_train @ np.array(data.true_weights, dtype=np.float32).reshape(-1, 1) - data.true_bias
    assert abs(residual.std() - 0.1) < 0.01 and abs(residual.mean()) < 0.01
    again = load_dataset(config)
    assert np.array_equal(data.x_train, again.x_train) and np.array_equal(data.y_train, again.y_train)
    other = load_dataset(config.model_copy(update={"seed": 1}))
    assert not np.array_equal(data.x_train, other.x_train)


def test_synthetic_true_values_are_reported_and_settable():
    default = load_dataset(DataConfig())
    assert default.true_weights == (3.0,) and default.true_bias == 0.8
    assert default.feature_means is None  # synthetic data is not standardized by default
    assert synthetic_true_weights(DataConfig(dims=3))[0] == 3.0
    given = load_dataset(DataConfig(dims=2, true_weights=[1.5, -2], true_bias=0))
    assert given.true_weights == (1.5, -2.0) and given.true_bias == 0.0


def test_validation_split_sizes_and_disjointness():
    data = load_dataset(DataConfig(samples=100, val_fraction=0.25))
    assert (data.n_train, data.n_val) == (75, 25)
    rows = {tuple(r) for r in np.hstack([data.x_train, data.y_train])}
    assert not rows & {tuple(r) for r in np.hstack([data.x_val, data.y_val])}
    assert load_dataset(DataConfig(samples=100, val_fraction=0)).n_val == 0


def test_csv_defaults_target_last_column_and_standardizes(tmp_path):
    path = write(tmp_path, "a,b,price\n1,10,3\n2,20,5\n3,30,7\n4,40,9\n")
    data = load_dataset(csv_config(path, val_fraction=0))
    assert data.feature_names == ("a", "b") and data.target_name == "price"
    assert data.feature_means == pytest.approx((2.5, 25.0))
    assert data.feature_stds == pytest.approx((np.std([1, 2, 3, 4]), np.std([10, 20, 30, 40])))
    assert data.x_train.mean(axis=0) == pytest.approx([0, 0], abs=1e-6)
    assert data.x_train.std(axis=0) == pytest.approx([1, 1], abs=1e-6)
    assert sorted(data.y_train.ravel().tolist()) == [3, 5, 7, 9]  # the target is never scaled
    assert data.true_weights is None and data.true_bias is None


def test_csv_target_features_and_no_standardize(tmp_path):
    path = write(tmp_path, "name,y,x1,x2\nann,1,2,3\nbob,4,5,6\ncid,7,8,9\n")
    data = load_dataset(csv_config(path, target="y", features=["x2"], standardize=False, val_fraction=0))
    assert data.feature_names == ("x2",) and data.target_name == "y"
    assert sorted(data.x_train.ravel().tolist()) == [3, 6, 9]
    assert data.feature_means is None


def test_standardization_uses_training_rows_only(tmp_path):
    rows = "\n".join(f"{i},{2 * i}" for i in range(10))
    data = load_dataset(csv_config(write(tmp_path, "x,y\n" + rows + "\n"), val_fraction=0.3))
    assert data.n_val == 3
    assert data.x_train.mean() == pytest.approx(0, abs=1e-6)
    raw_train = data.x_train * data.feature_stds[0] + data.feature_means[0]
    assert data.feature_means[0] == pytest.approx(float(raw_train.mean()), abs=1e-4)


def test_constant_column_keeps_its_scale(tmp_path):
    data = load_dataset(csv_config(write(tmp_path, "c,x,y\n5,1,1\n5,2,2\n5,3,3\n"), val_fraction=0))
    assert data.feature_stds[0] == 1.0
    assert np.all(data.x_train[:, 0] == 0)


def test_quoted_cells_bom_and_blank_lines_are_fine(tmp_path):
    path = tmp_path / "q.csv"
    path.write_bytes('\ufeff"x","y"\n"1","2"\n\n3,4\n'.encode("utf-8"))
    data = load_dataset(csv_config(str(path), val_fraction=0, standardize=False))
    assert data.feature_names == ("x",) and sorted(data.x_train.ravel().tolist()) == [1, 3]


@pytest.mark.parametrize(
    "text, settings, expected",
    [
        ("x,y\n1,2\nabc,3\n", {}, "row 2, column 'x': 'abc' is not a number"),
        ("x,y\n1,2\n3,\n", {}, "row 2, column 'y' is empty"),
        ("x,y\n1,2\n3, \n", {}, "row 2, column 'y' is empty"),
        ("x,y\n1,2\nnan,3\n", {}, "row 2, column 'x': 'nan' is not a finite number"),
        ("x,y\n1,inf\n2,3\n", {}, "row 1, column 'y': 'inf' is not a finite number"),
        ("x,y\n1,2\n", {}, "has 1 data row(s); at least 2 are needed"),
        ("x,y\n", {}, "has 0 data row(s); at least 2 are needed"),
        ("", {}, "is empty; it needs a header row and at least 2 data rows"),
        ("x,y\n1,2\n3,4,5\n", {}, "row 2 has 3 cells but the header has 2"),
        ("x,y\n1,2\n3,4\n", {"target": "price"}, "no column 'price' (the target); the columns are: x, y"),
        ("x,y\n1,2\n3,4\n", {"features": ["z"]}, "no column 'z' (the feature); the columns are: x, y"),
        ("y\n1\n2\n", {}, "has one column; it needs a target and at least one feature"),
        ("x,x,y\n1,2,3\n4,5,6\n", {}, "the header names column 'x' more than once"),
        ("x,,y\n1,2,3\n4,5,6\n", {}, "the header row has an empty column name (column 2)"),
    ],
)
@pytest.mark.parametrize("halves", [False, True], ids=["whole", "halves"])
def test_csv_problems_name_file_row_and_column(tmp_path, monkeypatch, text, settings, expected, halves):
    from tui_trainer.core import data

    if halves:  # the fast reader reads even a tiny file as two halves: its doubts still reach the exact reader
        monkeypatch.setattr(data, "SPLIT_BYTES", 0)
        monkeypatch.setattr(data, "SPLIT_CPUS", 1)
    path = write(tmp_path, text)
    with pytest.raises(DataError) as caught:
        load_dataset(csv_config(path, **settings))
    assert str(caught.value).startswith(f"{path}: {expected}")


def test_missing_file_folder_and_binary_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_dataset(csv_config(str(tmp_path / "nope.csv")))
    with pytest.raises(DataError, match="is a folder"):
        load_dataset(csv_config(str(tmp_path)))
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"x,y\n\xff\xfe,1\n")
    with pytest.raises(DataError, match="is not UTF-8 text"):
        load_dataset(csv_config(str(binary)))


def test_text_columns_outside_the_features_are_ignored_but_named_when_used(tmp_path):
    path = write(tmp_path, "name,x,y\nann,1,2\nbob,2,4\ncid,3,6\n")
    assert load_dataset(csv_config(path, features=["x"], val_fraction=0)).dims == 1
    with pytest.raises(DataError, match=r"row 1, column 'name': 'ann' is not a number"):
        load_dataset(csv_config(path))


def test_split_leaving_no_training_rows_is_refused(tmp_path):
    path = write(tmp_path, "x,y\n1,2\n3,4\n")
    with pytest.raises(DataError, match=r"leaves 1 training row\(s\) of 2; at least 2 are needed"):
        load_dataset(csv_config(path, val_fraction=0.5))


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_semicolon_tab_and_pipe_separated_files_are_read_by_their_header(tmp_path, delimiter):
    rows = [["area", "rooms", "price"], ["1,5", "2", "10"], ["2", "3", "20"], ["3", "5", "30"]]
    text = "\n".join(delimiter.join(f'"{cell}"' if "," in cell else cell for cell in row) for row in rows)
    path = write(tmp_path, text.replace("1,5", "1.5") + "\n")
    table = read_csv(Path(path), "price")
    assert table.feature_names == ("area", "rooms") and table.target_name == "price"
    assert table.x.tolist() == [[1.5, 2.0], [2.0, 3.0], [3.0, 5.0]]


def test_a_comma_inside_quotes_does_not_decide_the_delimiter(tmp_path):
    path = write(tmp_path, '"size, m²";price\n1;2\n3;4\n')
    assert read_csv(Path(path)).feature_names == ("size, m²",)


def test_a_single_column_file_hints_at_the_delimiters(tmp_path):
    path = write(tmp_path, "x y\n1 2\n3 4\n")
    with pytest.raises(DataError, match=r"has one column; .* separated by commas \(or ; tab \|"):
        read_csv(Path(path))


def test_a_path_from_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    name = Path(write(tmp_path, "x,y\n1,2\n3,4\n5,6\n")).name
    data = load_dataset(csv_config("~/" + name, val_fraction=0))
    assert data.n_train == 3


# --- the columnar reader ------------------------------------------------------------------


def test_a_clean_file_is_read_by_the_columnar_reader_not_row_by_row(tmp_path, monkeypatch):
    from tui_trainer.core import data

    def refuse(*args):
        raise AssertionError("fell back to the row-by-row reader")

    monkeypatch.setattr(data, "_read_csv_exact", refuse)
    path = tmp_path / "clean.csv"
    path.write_bytes('\ufeff"a";b;"price"\r\n1.5;-2;3e2\r\n\r\n"4";5;6\r\n'.encode())
    table = read_csv(path)
    assert table.feature_names == ("a", "b") and table.target_name == "price"
    assert table.x.tolist() == [[1.5, -2.0], [4.0, 5.0]] and table.y.tolist() == [[300.0], [6.0]]


def test_progress_reports_bytes_read_up_to_the_whole_file(tmp_path):
    path = tmp_path / "many.csv"
    path.write_text("x,y\n" + "".join(f"{i},{i * 2}\n" for i in range(200_000)))
    calls = []
    data = load_dataset(csv_config(str(path), val_fraction=0), progress=lambda done, total: calls.append((done, total)))
    size = path.stat().st_size
    assert data.n_train == 200_000 and len(calls) > 2
    assert calls[-1] == (size, size) and all(total == size for _, total in calls)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_a_cell_longer_than_pythons_csv_allows_is_still_refused(tmp_path):
    path = write(tmp_path, "note,x,y\n" + "a" * 140_000 + ",1,2\nb,3,4\n")
    with pytest.raises(DataError, match=r"cannot be read .*field larger than field limit"):
        read_csv(Path(path), features=["x"])


def test_split_standardize_and_float32_in_place_match_the_plain_way(tmp_path):
    """The streamed path equals gather, standardize in float64, then cast: up to float32 rounding
    (the rows wait in float32, less a shift per chunk), even for a column with a large offset that
    float32 alone would lose. The means and stds are within 1e-7 of a std (float32 rounding of the
    spread) plus 1e-12 of the mean (float64 rounding of the offset) of the exact ones."""
    rng = np.random.default_rng(3)
    values = rng.standard_normal((1001, 4)) * [1, 5, 0.001, 2] + [0, 100, 1e6, -3]
    path = tmp_path / "big-offset.csv"
    np.savetxt(path, values, delimiter=",", header="a,b,c,y", comments="", fmt="%.17g")
    config = csv_config(str(path), val_fraction=0.2, seed=7)
    data = load_dataset(config)
    order = np.random.default_rng([7, 2]).permutation(1001)
    train, val = order[200:], order[:200]
    means, stds = values[train, :3].mean(axis=0), values[train, :3].std(axis=0)
    allowed = 1e-7 * stds + 1e-12 * np.abs(means)
    assert np.all(np.abs(np.array(data.feature_means) - means) <= allowed)
    assert np.all(np.abs(np.array(data.feature_stds) - stds) <= allowed)
    for rows, x, y in ((train, data.x_train, data.y_train), (val, data.x_val, data.y_val)):
        expected = ((values[rows, :3] - means) / stds).astype(np.float32)
        assert x.dtype == np.float32 and x.flags.c_contiguous and np.allclose(x, expected, rtol=0, atol=1e-6)
        assert np.array_equal(y, values[rows, 3:].astype(np.float32))


def refuse_the_exact_reader(monkeypatch):
    from tui_trainer.core import data

    def refuse(*args):
        raise AssertionError("fell back to the row-by-row reader")

    monkeypatch.setattr(data, "_read_csv_exact", refuse)
    return data


def test_load_dataset_reads_a_clean_file_in_halves_without_the_exact_reader(tmp_path, monkeypatch):
    data = refuse_the_exact_reader(monkeypatch)
    values = np.random.default_rng(5).standard_normal((3000, 3))
    path = tmp_path / "clean.csv"
    np.savetxt(path, values, delimiter=",", header="a,b,y", comments="", fmt="%.17g", newline="\r\n")
    whole = [load_dataset(csv_config(str(path), seed=3, standardize=flag)) for flag in (False, True)]
    monkeypatch.setattr(data, "SPLIT_BYTES", 0)
    monkeypatch.setattr(data, "SPLIT_CPUS", 1)
    monkeypatch.setattr(data, "ARROW_BLOCK", 4096)  # many blocks, so many chunks, on each side of the middle
    halves = [load_dataset(csv_config(str(path), seed=3, standardize=flag)) for flag in (False, True)]
    for name in ("x_train", "y_train", "x_val", "y_val"):
        assert np.array_equal(getattr(whole[0], name), getattr(halves[0], name)), name
        # standardized: each chunk's shift rounds its own way in float32
        assert np.allclose(getattr(whole[1], name), getattr(halves[1], name), rtol=0, atol=1e-6), name
    halves = halves[1:]
    train = np.random.default_rng([3, 2]).permutation(3000)[600:]
    assert np.array_equal(halves[0].y_train.ravel(), values[train, 2].astype(np.float32))
    assert read_csv(path).values.tolist() == values.tolist()


def test_a_quote_after_the_first_block_reads_again_understanding_quotes(tmp_path, monkeypatch):
    """The first block has no quote, so Arrow reads without quoting, in halves; a quoted cell
    later (here one holding the delimiter, in a column left out) starts Arrow again, not the exact reader."""
    data = refuse_the_exact_reader(monkeypatch)
    monkeypatch.setattr(data, "SPLIT_BYTES", 0)
    monkeypatch.setattr(data, "SPLIT_CPUS", 1)
    monkeypatch.setattr(data, "ARROW_BLOCK", 1024)
    rows = [f"{i},note,{i * 2}" for i in range(2000)]
    rows[1500] = '1500,"a, b",3000'
    path = tmp_path / "late-quote.csv"
    path.write_text("x,text,y\n" + "\n".join(rows) + "\n")
    table = read_csv(path, features=["x"])
    assert table.values.tolist() == [[i, i * 2] for i in range(2000)]


def test_numbers_in_halves_equal_numbers_whole(tmp_path, monkeypatch):
    """Blank lines, CRLF and the last line without its break: the middle falls where it falls."""
    from tui_trainer.core import data

    text = "\ufeffa;b;y\r\n" + "".join(f"{i}.25;{-i};{i % 7}e3\r\n" + ("\r\n" if i % 11 == 0 else "") for i in range(5000)) + "1;2;3"
    path = tmp_path / "semicolons.csv"
    path.write_bytes(text.encode())
    whole = read_csv(path).values
    monkeypatch.setattr(data, "SPLIT_BYTES", 0)
    monkeypatch.setattr(data, "SPLIT_CPUS", 1)
    for block in (512, 4096, 1 << 20):
        monkeypatch.setattr(data, "ARROW_BLOCK", block)
        assert np.array_equal(read_csv(path).values, whole)
    assert len(whole) == 5001


MEMORY_CHILD = textwrap.dedent('''
    import json, sys
    from tui_trainer.core import data
    from tui_trainer.core.config import DataConfig
    from tui_trainer.core.data import load_dataset

    data.ARROW_BLOCK = 1 << 16  # Arrow's buffers peak near 40 blocks: kept small, what is measured is ours
    data.SPLIT_BYTES = 1 << 40  # one thread: a second one's heap is a fixed overhead too

    def status(key):
        with open("/proc/self/status") as handle:
            return next(int(line.split()[1]) * 1024 for line in handle if line.startswith(key))

    load_dataset(DataConfig(source=sys.argv[2]))  # imports, Arrow's threads and pools: the fixed overhead
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")  # the peak resident memory starts again from here
    before = status("VmRSS:")
    data = load_dataset(DataConfig(source=sys.argv[1]))
    final = sum(a.nbytes for a in (data.x_train, data.y_train, data.x_val, data.y_val))
    print(json.dumps({"added": status("VmHWM:") - before, "final": final}))
''')


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="Linux: resets the peak resident memory")
def test_loading_a_csv_never_holds_a_float64_table_or_two_copies(tmp_path):
    """Peak resident memory while loading stays near the final float32 arrays (measured 1.4 times
    them), well under what a float64 (n, d + 1) table alone takes, twice them: the old way's floor
    (measured 3.0). A ratio, with a wide margin either side."""
    rng = np.random.default_rng(0)
    big, small = tmp_path / "big.csv", tmp_path / "small.csv"
    for path, rows in ((big, 600_000), (small, 1000)):
        np.savetxt(path, rng.standard_normal((rows, 11)), delimiter=",", header=",".join(f"c{i}" for i in range(11)),
                   comments="", fmt="%.5f")
    out = subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(big), str(small)], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2]).stdout
    measured = json.loads(out.splitlines()[-1])
    assert measured["added"] < 2.0 * measured["final"], measured
