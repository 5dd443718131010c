"""The form's logic: what is shown, and typed text into a validated RunConfig."""

from tui_trainer.app.form import build_config, preset_values, values_from_config, visible_text_fields
from tui_trainer.core.config import RunConfig


def test_a_config_survives_the_round_trip_through_the_form():
    for settings in (
        {},
        {"optimizer": {"algorithm": "adam", "lr": 0.05, "beta1": 0.8}, "seed": 3, "init": "zeros"},
        {"optimizer": {"algorithm": "momentum", "batch_size": 7}, "data": {"dims": 2, "true_weights": [1, -2], "noise": 0}},
        {"data": {"source": "houses.csv", "target": "price", "features": ["a", "b"], "standardize": False}},
        {"max_steps": 10, "device": "cpu"},
        {"engine": "fused", "optimizer": {"algorithm": "rmsprop"}},
        {"optimizer": {"algorithm": "sgd", "schedule": "step", "step_every": 2, "gamma": 0.3}},
        {"optimizer": {"schedule": "warmup"}},
        {"data": {"standardize": True}},
    ):
        config = RunConfig.model_validate(settings)
        rebuilt, problems = build_config(values_from_config(config))
        assert problems == {} and rebuilt == config


def test_only_the_algorithms_own_hyperparameters_are_shown():
    values = values_from_config(RunConfig.model_validate({"optimizer": {"algorithm": "rmsprop"}}))
    names = {field.name for field in visible_text_fields(values)}
    assert {"lr", "alpha", "eps", "weight_decay"} <= names
    assert not names & {"momentum", "beta1", "beta2"}


def test_bad_text_is_reported_by_field_and_blank_means_default():
    values = values_from_config(RunConfig())
    values.update({"optimizer.lr": "0", "optimizer.epochs": "many", "data.noise": ""})
    config, problems = build_config(values)
    assert config is None
    assert problems == {
        "optimizer.lr": "must be a finite number greater than 0, got 0.0",
        "optimizer.epochs": "must be a whole number, got 'many'",
    }
    values.update({"optimizer.lr": "0.3", "optimizer.epochs": "4"})
    config, _ = build_config(values)
    assert config.optimizer.lr == 0.3 and config.data.noise == 0.5


def test_switching_algorithm_loads_its_preset():
    values = values_from_config(RunConfig())
    values["optimizer.algorithm"] = "adam"
    values.update(preset_values("adam"))
    config, problems = build_config(values)
    assert problems == {} and config.optimizer == RunConfig.model_validate({"optimizer": {"algorithm": "adam"}}).optimizer


def test_csv_without_a_path_and_cross_field_problems():
    values = values_from_config(RunConfig())
    values["data.kind"] = "csv"
    assert build_config(values) == (None, {"data.source": "choose a CSV file (a path)"})
    values.update({"data.source": "a.csv", "data.target": "y", "data.features": "x,y"})
    assert build_config(values)[1] == {"data": "the target column 'y' cannot also be a feature"}


def test_a_classification_survives_the_round_trip_and_shows_its_own_fields():
    for settings in (
        {"loss": "cross-entropy"},
        {"loss": "cross-entropy", "data": {"classes": 4, "separation": 2.5, "dims": 3}, "optimizer": {"algorithm": "adam"}},
        {"loss": "cross-entropy", "data": {"source": "flowers.csv", "target": "species"}},
    ):
        config = RunConfig.model_validate(settings)
        values = values_from_config(config)
        rebuilt, problems = build_config(values)
        assert problems == {} and rebuilt == config
    shown = {field.path for field in visible_text_fields(values_from_config(RunConfig.model_validate({"loss": "cross-entropy"})))}
    assert {"data.classes", "data.separation"} <= shown and not shown & {"data.true_weights", "data.true_bias"}
    shown = {field.path for field in visible_text_fields(values_from_config(RunConfig()))}
    assert not shown & {"data.classes", "data.separation"}
    assert preset_values("adam", "cross-entropy")["optimizer.epochs"] == str(10 * int(preset_values("adam")["optimizer.epochs"]))


def test_a_bad_class_count_or_separation_is_refused_with_the_clis_words():
    values = values_from_config(RunConfig())
    values.update({"loss": "cross-entropy", "data.classes": "1"})
    assert build_config(values)[1] == {"data.classes": "must be a whole number >= 2, got 1"}
    values.update({"data.classes": "3", "data.separation": "-1"})
    assert "data.separation" in build_config(values)[1]
