"""Config files: `--config FILE.toml` (flags override it), `tui-trainer config`, and their errors."""

import json
import tomllib

import pytest
from pydantic import BaseModel

from tui_trainer.core.config import RunConfig
from tui_trainer.core.config_file import dump_config, key_lines, run_config

from .helpers import run_cli

run = run_cli


def houses(tmp_path):
    path = tmp_path / "houses.csv"
    rows = [f"{a},{r},{3 * a + 10 * r + 5}" for a, r in zip(range(50, 90), [1, 2, 3, 4] * 10, strict=True)]
    path.write_text("area,rooms,price\n" + "\n".join(rows) + "\n")
    return path


CASES = [
    [],
    ["--algorithm", "adam", "--schedule", "cosine", "--epochs", "4", "--engine", "fused"],
    ["--algorithm", "momentum", "--batch-size", "7", "--epochs", "3", "--dims", "2", "--true-weights", "1,-2", "--noise", "0.1"],
    ["--algorithm", "adam", "--implementation", "scratch", "--no-bias-correction", "--epochs", "2", "--max-steps", "30"],
    ["--algorithm", "rmsprop", "--schedule", "warmup", "--warmup-epochs", "2", "--epochs", "3", "--seed", "7", "--init", "zeros"],
]


@pytest.mark.parametrize("flags", CASES)
def test_the_printed_config_reproduces_the_run_bit_for_bit(capsys, tmp_path, flags):
    code, text, _ = run(capsys, "config", *flags)
    assert code == 0
    path = tmp_path / "run.toml"
    path.write_text(text)
    code, direct, _ = run(capsys, "train", *flags, "--json")
    assert code == 0
    code, from_file, _ = run(capsys, "train", "--config", str(path), "--json")
    assert code == 0
    a, b = json.loads(direct), json.loads(from_file)
    for key in ("weights", "bias", "final_loss", "steps", "algorithm", "engine", "implementation"):
        assert a[key] == b[key], key


def test_a_csv_run_round_trips_without_synthetic_settings(capsys, tmp_path):
    flags = ["--data", str(houses(tmp_path)), "--target", "price", "--features", "area,rooms", "--epochs", "20"]
    config = run_config(None, {"data": {"source": flags[1], "target": "price", "features": "area,rooms"}, "optimizer": {"epochs": 20}}, {})
    text = dump_config(config)
    parsed = tomllib.loads(text)
    assert "samples" not in parsed["data"] and parsed["data"]["features"] == ["area", "rooms"]
    assert RunConfig.model_validate(parsed) == config
    path = tmp_path / "c.toml"
    path.write_text(text)
    a = json.loads(run(capsys, "train", "--config", str(path), "--json")[1])
    b = json.loads(run(capsys, "train", *flags, "--json")[1])
    assert (a["weights"], a["bias"], a["feature_means"]) == (b["weights"], b["bias"], b["feature_means"])


def test_every_setting_of_the_models_is_in_the_printed_file(capsys):
    _, text, _ = run(capsys, "config")
    lines = key_lines(text.replace("# ", ""))  # commented settings count too

    def paths(model, prefix=""):
        for name, field in model.model_fields.items():
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                yield from paths(annotation, f"{prefix}{name}.")
            else:
                yield f"{prefix}{name}"

    missing = [path for path in paths(RunConfig) if path not in lines]
    assert missing == []
    assert RunConfig.model_validate(tomllib.loads(text)) == RunConfig()


def test_flags_override_the_file(capsys, tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('seed = 3\n[optimizer]\nalgorithm = "sgd"\nepochs = 1\nlr = 0.01\n[data]\nsamples = 50\n')
    code, out, _ = run(capsys, "train", "--config", str(path), "--lr", "0.02", "--json")
    summary = json.loads(out)
    assert code == 0 and summary["algorithm"] == "sgd" and summary["steps"] == 40 and summary["lr"] == 0.02


@pytest.mark.parametrize(
    "text, expected",
    [
        ('[optimizer]\nalgorithm = "adam"\nlearning_rate = 3\n', "line 3: optimizer.learning_rate: is not a setting"),
        ('speed = 3\n', "line 1: speed: is not a setting"),
        ('[optimizer]\nlr = "fast"\n', "line 2: optimizer.lr: must be a number, got 'fast'"),
        ('[optimizer]\nepochs = 2.5\n', "line 2: optimizer.epochs: must be a whole number"),
        ('[optimizer]\nlr = -1\n', "line 2: optimizer.lr: must be a finite number greater than 0"),
        ('[optimizer]\nlr = nan\n', "line 2: optimizer.lr: must be a finite number greater than 0"),
        ('[optimizer]\nalgorithm = "newton"\n', "line 2: optimizer.algorithm: must be one of"),
        ('[data]\nfeatures = 3\n', "line 2: data.features"),
        ('optimizer = 3\n', "line 1: optimizer"),
        ('optimizer.lr = 0\n', "line 1: optimizer.lr: must be a finite number greater than 0"),
        ('[optimizer]\nalgorithm = "adam\n', "not valid TOML: "),
        ('[optimizer]\nlr = 0.1\nlr = 0.2\n', "(at line 3"),
    ],
)
def test_a_bad_file_is_one_line_naming_the_key_and_its_line(capsys, tmp_path, text, expected):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    code, out, err = run(capsys, "train", "--config", str(path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("tui-trainer: error: --config ") and expected in err


@pytest.mark.parametrize("make, expected", [
    (lambda p: None, "no such file"),
    (lambda p: p.mkdir(), "is a folder"),
    (lambda p: p.write_bytes(b"\xff\xfe[x]"), "is not UTF-8 text"),
])
def test_a_config_that_is_no_file_is_one_line(capsys, tmp_path, make, expected):
    path = tmp_path / "c.toml"
    make(path)
    code, _, err = run(capsys, "train", "--config", str(path))
    assert code == 2 and err.count("\n") == 1 and expected in err


def test_strings_that_need_escaping_survive(tmp_path):
    name = str(tmp_path / 'we"ird\\na\tme.csv')
    config = RunConfig.model_validate({"data": {"source": name, "target": "pri\"ce"}})
    assert RunConfig.model_validate(tomllib.loads(dump_config(config))) == config
