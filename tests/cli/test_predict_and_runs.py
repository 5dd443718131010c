"""The model in the data's units, `tui-trainer predict`, and `tui-trainer runs`."""

import csv
import io
import json
import random

import numpy as np
import pytest
import torch

from tui_trainer.core.config import DataConfig
from tui_trainer.core.data import load_dataset

from .helpers import run_cli

run = run_cli


@pytest.fixture
def houses(tmp_path):
    rng = random.Random(1)
    path = tmp_path / "houses.csv"
    lines = ["id,area,rooms,price"]
    for i in range(60):
        area, rooms = rng.uniform(50, 150), rng.randint(1, 5)
        lines.append(f"h{i},{area:.2f},{rooms},{120 * area + 3000 * rooms + 5000 + rng.gauss(0, 500):.1f}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def saved(capsys, tmp_path, houses):
    folder = tmp_path / "run"
    code, out, err = run(capsys, "train", "--data", str(houses), "--target", "price", "--features", "area,rooms",
                         "--epochs", "300", "--save", str(folder), "--json")
    assert code == 0, err
    return folder, json.loads(out)


def test_the_summary_gives_the_model_in_the_datas_units(saved, houses):
    _, summary = saved
    w, b, means, stds = summary["weights"], summary["bias"], summary["feature_means"], summary["feature_stds"]
    assert summary["unscaled_weights"] == pytest.approx([w[j] / stds[j] for j in range(2)], rel=1e-12)
    assert summary["unscaled_bias"] == pytest.approx(b - sum(w[j] * means[j] / stds[j] for j in range(2)), rel=1e-12)
    assert summary["unscaled_weights"][0] == pytest.approx(120, rel=0.1)  # price ≈ 120·area + ...
    assert summary["unscaled_weights"][1] == pytest.approx(3000, rel=0.2)


def test_unstandardized_runs_have_no_unscaled_weights(capsys):
    code, out, _ = run(capsys, "train", "--json", "--epochs", "2")
    summary = json.loads(out)
    assert code == 0 and summary["unscaled_weights"] is None and summary["unscaled_bias"] is None


def test_predict_on_the_training_csv_reproduces_the_models_own_predictions(capsys, tmp_path, saved, houses):
    folder, summary = saved
    out_file = tmp_path / "predicted.csv"
    code, out, err = run(capsys, "predict", "--run", str(folder), "--data", str(houses), "--out", str(out_file))
    assert code == 0 and out == "" and err == ""
    rows = list(csv.DictReader(out_file.open()))
    source = list(csv.DictReader(houses.open()))
    assert [r["id"] for r in rows] == [r["id"] for r in source] and list(rows[0]) == ["id", "area", "rooms", "price", "prediction"]
    predicted = np.array([float(r["prediction"]) for r in rows])
    # the model itself, on the rows exactly as training prepared them (standardized float32)
    data = load_dataset(DataConfig(source=str(houses), target="price", features=["area", "rooms"]))  # the run's split and means
    model = torch.nn.Linear(2, 1)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([summary["weights"]]))
        model.bias.copy_(torch.tensor([summary["bias"]]))
        own = model(torch.from_numpy(np.concatenate([data.x_train, data.x_val]))).numpy()[:, 0]
    assert sorted(own.tolist()) == pytest.approx(sorted(predicted.tolist()), rel=1e-6)
    # in data units: unscaled_weights · x + unscaled_bias on the raw columns
    raw = np.array([[float(r["area"]), float(r["rooms"])] for r in source])
    by_formula = raw @ np.array(summary["unscaled_weights"]) + summary["unscaled_bias"]
    assert predicted == pytest.approx(by_formula, rel=1e-5)


def test_predict_writes_to_stdout_and_needs_only_the_feature_columns(capsys, tmp_path, saved):
    folder, _ = saved
    rows = tmp_path / "new.csv"
    rows.write_text("rooms;area\n3;100\n")  # another order, another delimiter, no target
    code, out, _ = run(capsys, "predict", "--run", str(folder), "--data", str(rows))
    table = list(csv.reader(io.StringIO(out), delimiter=";"))
    assert code == 0 and table[0] == ["rooms", "area", "prediction"]
    assert float(table[1][2]) == pytest.approx(120 * 100 + 3000 * 3 + 5000, rel=0.05)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("area,size\n1,2\n", "no column 'rooms', a feature of the run; the columns are: area, size"),
        ("area,rooms\n1,big\n", "row 1, column 'rooms': 'big' is not a number"),
        ("area,rooms\n1,\n", "row 1, column 'rooms' is empty"),
        ("area,rooms\n1,2,3\n", "row 1 has 3 cells, the header 2"),
        ("", "is empty; it needs a header row"),
    ],
)
def test_predict_refuses_bad_rows_in_one_line(capsys, tmp_path, saved, text, expected):
    folder, _ = saved
    rows = tmp_path / "new.csv"
    rows.write_text(text)
    code, out, err = run(capsys, "predict", "--run", str(folder), "--data", str(rows))
    assert code == 2 and out == "" and err.count("\n") == 1 and expected in err, err


def test_predict_refuses_a_missing_run_or_a_damaged_checkpoint(capsys, tmp_path, saved, houses):
    folder, _ = saved
    code, _, err = run(capsys, "predict", "--run", str(tmp_path / "none"), "--data", str(houses))
    assert code == 2 and "--run" in err and "no such folder" in err
    (folder / "checkpoint.pt").write_bytes(b"junk")
    code, _, err = run(capsys, "predict", "--run", str(folder), "--data", str(houses))
    assert code == 2 and err.count("\n") == 1 and "not a tui-trainer checkpoint" in err
    code, _, err = run(capsys, "predict", "--run", str(folder), "--data", str(houses), "--out", str(houses))
    assert code == 2


def test_runs_lists_the_folders(capsys, tmp_path, saved, monkeypatch):
    root = saved[0].parent
    run(capsys, "train", "--algorithm", "adam", "--max-steps", "3", "--save", str(root / "b"))
    (root / "empty").mkdir()
    (root / "c").mkdir()
    (root / "c" / "config.toml").write_text("")  # made, then killed before its first checkpoint
    code, out, _ = run(capsys, "runs", str(root))
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["name", "algorithm", "state", "steps", "final", "loss", "when"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == {"run", "b", "c"}
    assert rows["b"].split()[1:4] == ["adam", "DONE", "3"] and "no checkpoint yet" in rows["c"]
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "runs")
    assert code == 2 and "runs: no such folder" in err


def test_a_classifiers_rows_get_its_class_and_each_classs_probability():
    from tui_trainer.predict import _columns

    outputs = np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 5.0]])
    names, rows = _columns(outputs, ["cat", "dog", "eel"])
    assert names == ["prediction", "probability_cat", "probability_dog", "probability_eel"]
    assert [row[0] for row in rows] == ["cat", "eel"]
    assert sum(float(v) for v in rows[0][1:]) == pytest.approx(1.0)
    assert float(rows[0][1]) == pytest.approx(np.exp(2) / (np.exp(2) + 2))
    assert _columns(outputs)[1][1][0] == "2"  # no labels: the class's index
