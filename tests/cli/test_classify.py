"""`tui-trainer train --loss cross-entropy`: classes from clusters or a CSV column, the summary's
classification fields, accuracy in the metrics, and one clear line for each bad class column."""

import json

import pytest

from .test_train import strict_json, train

CLASSIFIER_FIELDS = {"loss", "classes", "accuracy", "val_accuracy", "separable"}


def test_a_three_class_csv_trains_and_reports_its_classes(capsys, tmp_path):
    rows = [f"{i % 7 + (i % 3) * 6},{(i * 5) % 11 - (i % 3) * 4},{['setosa', 'virginica', 'versicolor'][i % 3]}" for i in range(90)]
    path = tmp_path / "flowers.csv"
    path.write_text("length,width,species\n" + "\n".join(rows) + "\n")
    metrics = tmp_path / "m.jsonl"
    code, out, err = train(
        capsys, "--loss", "cross-entropy", "--data", str(path), "--algorithm", "adam", "--epochs", "5", "--json",
        "--metrics", str(metrics),
    )
    assert code == 0, err
    summary = strict_json(out)
    assert summary.keys() >= CLASSIFIER_FIELDS
    assert summary["loss"] == "cross-entropy"
    assert summary["classes"] == ["setosa", "versicolor", "virginica"]  # the model's output order
    assert len(summary["weights"]) == 3 and all(len(row) == 2 for row in summary["weights"])
    assert len(summary["bias"]) == 3
    assert 0 <= summary["accuracy"] <= 1 and 0 <= summary["val_accuracy"] <= 1
    lines = [json.loads(line) for line in metrics.read_text().splitlines()]
    epoch_ends = [line for line in lines if "train_loss" in line]
    assert len(epoch_ends) == 5 and all("accuracy" in line and "val_accuracy" in line for line in epoch_ends)
    assert all("accuracy" not in line for line in lines if "train_loss" not in line)


def test_mse_json_keeps_its_shapes_and_says_its_loss(capsys):
    code, out, _ = train(capsys, "--epochs", "2", "--json")
    summary = strict_json(out)
    assert code == 0
    assert summary["loss"] == "mse" and summary["classes"] is None and summary["accuracy"] is None
    assert isinstance(summary["bias"], float) and all(isinstance(w, float) for w in summary["weights"])


def test_separable_clusters_say_so(capsys):
    code, out, _ = train(capsys, "--loss", "cross-entropy", "--classes", "4", "--dims", "2", "--separation", "12",
                         "--epochs", "3", "--json")
    summary = strict_json(out)
    assert code == 0
    assert summary["separable"] is True and summary["optimal_loss"] == 0
    assert summary["optimal_weights"] is None and summary["hessian_eigenvalues"] is None
    code, out, _ = train(capsys, "--loss", "cross-entropy", "--classes", "4", "--dims", "2", "--separation", "12", "--epochs", "3")
    assert "separable" in out and code == 0


@pytest.mark.parametrize(
    ("csv", "flags", "words"),
    [
        ("a,y\n1,x\n2,x\n3,x\n", [], "holds one class ('x')"),
        ("a,y\n1,x\n2, \n3,z\n4,x\n", [], "row 2, column 'y' (the class) is empty"),
        ("a,y\n" + "\n".join(f"{i},{i / 7:.5f}" for i in range(300)) + "\n", [], "predict it with --loss mse"),
    ],
)
def test_bad_class_columns_exit_2_with_one_line(capsys, tmp_path, csv, flags, words):
    path = tmp_path / "bad.csv"
    path.write_text(csv)
    code, _, err = train(capsys, "--loss", "cross-entropy", "--data", str(path), "--val-fraction", "0", *flags)
    assert code == 2
    assert words in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--classes", "3"], "only applies to classification (cross-entropy)"),
        (["--loss", "mse", "--separation", "3"], "only applies to classification (cross-entropy)"),
        (["--loss", "cross-entropy", "--classes", "1"], "--classes"),
        (["--loss", "cross-entropy", "--separation", "-1"], "--separation"),
        (["--loss", "cross-entropy", "--true-weights", "1"], "true weights only apply to regression"),
        (["--loss", "hinge"], "--loss"),
    ],
)
def test_bad_classification_flags_exit_2(capsys, flags, words):
    code, _, err = train(capsys, *flags)
    assert code == 2
    assert words in err and "Traceback" not in err


def test_a_race_of_classifiers(capsys):
    from tui_trainer.cli import main

    code = main(["race", "--loss", "cross-entropy", "--entries", "bgd,adam", "--max-steps", "20", "--json"])
    out = capsys.readouterr().out
    result = json.loads(out)
    assert code == 0 and result["goal"] == "within 1% of the optimal loss"
    assert all(len(entry["bias"]) == 3 for entry in result["entries"])
