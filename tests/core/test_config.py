"""Every setting is validated with a message a person understands."""

import pytest
from pydantic import ValidationError

from tui_trainer.core.config import (
    PRESETS,
    Algorithm,
    DataConfig,
    OptimizerConfig,
    RunConfig,
)
from tui_trainer.core.validation import explain

_NAMES = [f"'{algorithm.value}'" for algorithm in Algorithm]
ONE_OF_THE_ALGORITHMS = ", ".join(_NAMES[:-1]) + f" or {_NAMES[-1]}"


def message(model, **values) -> str:
    with pytest.raises(ValidationError) as caught:
        model(**values)
    return "; ".join(explain(caught.value, model=model))


def test_unset_hyperparameters_take_the_algorithms_preset():
    for algorithm, preset in PRESETS.items():
        config = OptimizerConfig(algorithm=algorithm)
        assert config.hyperparameters() == preset.defaults
        assert config.batch_size == preset.batch_size
        assert config.epochs == preset.epochs


def test_given_values_override_the_preset_and_strings_are_parsed():
    config = OptimizerConfig(algorithm="adam", lr="0.5", beta1="0.8", batch_size="full", epochs="3")
    assert (config.lr, config.beta1, config.beta2, config.batch_size, config.epochs) == (0.5, 0.8, 0.999, "full", 3)


def test_hyperparameters_of_other_algorithms_are_refused_by_name():
    assert message(OptimizerConfig, algorithm="adam", momentum=0.9) == (
        "momentum: does not apply to adam (it uses lr, beta1, beta2, eps, weight_decay)"
    )
    assert message(OptimizerConfig, algorithm="bgd", alpha=0.9).startswith("alpha: does not apply to bgd")


@pytest.mark.parametrize(
    "values, expected",
    [
        ({"lr": 0}, "lr: must be a finite number greater than 0, got 0.0"),
        ({"lr": -0.1}, "lr: must be a finite number greater than 0, got -0.1"),
        ({"lr": "inf"}, "lr: must be a finite number greater than 0, got inf"),
        ({"lr": "nan"}, "lr: must be a finite number greater than 0, got nan"),
        ({"lr": "fast"}, "lr: must be a number, got 'fast'"),
        ({"lr": True}, "lr: must be a number, got True"),
        ({"algorithm": "momentum", "momentum": 1}, "momentum: must be in [0, 1) (0 allowed, 1 not), got 1.0"),
        ({"algorithm": "momentum", "momentum": -0.1}, "momentum: must be in [0, 1) (0 allowed, 1 not), got -0.1"),
        ({"algorithm": "rmsprop", "alpha": 1.5}, "alpha: must be in [0, 1) (0 allowed, 1 not), got 1.5"),
        ({"algorithm": "adam", "beta1": 1}, "beta1: must be in [0, 1) (0 allowed, 1 not), got 1.0"),
        ({"algorithm": "adam", "beta2": "nan"}, "beta2: must be in [0, 1) (0 allowed, 1 not), got nan"),
        ({"algorithm": "adam", "eps": 0}, "eps: must be a finite number greater than 0, got 0.0"),
        ({"algorithm": "adagrad", "eps": -1e-8}, "eps: must be a finite number greater than 0, got -1e-08"),
        ({"weight_decay": -1}, "weight_decay: must be a finite number >= 0, got -1.0"),
        ({"batch_size": 0}, "batch_size: must be a whole number >= 1 or 'full', got 0"),
        ({"batch_size": "half"}, "batch_size: must be a whole number >= 1 or 'full', got 'half'"),
        ({"batch_size": 2.5}, "batch_size: must be a whole number >= 1 or 'full', got 2.5"),
        ({"epochs": 0}, "epochs: must be a whole number >= 1, got 0"),
        ({"epochs": "ten"}, "epochs: must be a whole number, got 'ten'"),
        # every registered algorithm is offered, in the registry's order
        ({"algorithm": "newton"}, f"algorithm: must be one of {ONE_OF_THE_ALGORITHMS}, got 'newton'"),
        ({"implementation": "numpy"}, "implementation: must be one of 'torch' or 'scratch', got 'numpy'"),
        ({"speed": 1}, "speed: is not a setting"),
    ],
)
def test_optimizer_values_are_refused_with_a_clear_message(values, expected):
    """(ONE_OF_THE_ALGORITHMS: every registered algorithm, in the registry's order.)"""
    assert message(OptimizerConfig, **values) == expected


def test_full_batch_and_zero_are_accepted_where_allowed():
    assert OptimizerConfig(batch_size="FULL").batch_size == "full"
    assert OptimizerConfig(algorithm="momentum", momentum=0).momentum == 0
    assert OptimizerConfig(weight_decay=0).weight_decay == 0


@pytest.mark.parametrize(
    "values, expected",
    [
        ({"val_fraction": 1}, "val_fraction: must be in [0, 1) (0 allowed, 1 not), got 1.0"),
        ({"val_fraction": -0.2}, "val_fraction: must be in [0, 1) (0 allowed, 1 not), got -0.2"),
        ({"samples": 1}, "samples: must be a whole number >= 2, got 1"),
        ({"dims": 0}, "dims: must be a whole number >= 1, got 0"),
        ({"noise": -1}, "noise: must be a finite number >= 0, got -1.0"),
        ({"true_bias": "inf"}, "true_bias: must be a finite number, got inf"),
        ({"true_weights": [1, 2]}, "true_weights has 2 values but dims is 1"),
        ({"seed": -1}, "seed: must be a whole number from 0 to 2^63 - 1, got -1"),
        ({"seed": 2**63}, "seed: must be a whole number from 0 to 2^63 - 1, got 9223372036854775808"),
        ({"target": "y"}, "target only applies to CSV data, not to synthetic data"),
        ({"source": "a.csv", "noise": 1}, "noise only applies to synthetic data, not to a CSV file"),
        ({"source": "a.csv", "features": "a,,b"}, "features: must be column names separated by commas, with none empty"),
        ({"source": "a.csv", "features": "a,b,a"}, "features: names a column twice: a"),
        ({"source": "a.csv", "target": "a", "features": "a,b"}, "the target column 'a' cannot also be a feature"),
        ({"source": ""}, "source: String should have at least 1 character"),
    ],
)
def test_data_values_are_refused_with_a_clear_message(values, expected):
    assert message(DataConfig, **values) == expected


@pytest.mark.parametrize(
    "values, expected",
    [
        ({"device": "gpu"}, "device: must be auto, cpu, cuda, cuda:N or mps, got 'gpu'"),
        ({"init": "ones"}, "init: must be one of 'zeros' or 'normal', got 'ones'"),
        ({"max_steps": 0}, "max_steps: must be a whole number >= 1, got 0"),
        ({"log_every": 0}, "log_every: must be a whole number >= 1, got 0"),
        ({"optimizer": {"lr": -1}}, "optimizer.lr: must be a finite number greater than 0, got -1.0"),
    ],
)
def test_run_values_are_refused_with_a_clear_message(values, expected):
    assert message(RunConfig, **values) == expected


def test_explain_names_fields_as_the_person_knows_them():
    with pytest.raises(ValidationError) as caught:
        RunConfig(optimizer={"lr": 0}, data={"true_weights": [1, 2]})
    names = {"optimizer.lr": "--lr", "data.true_weights": "--true-weights", "data.dims": "--dims"}
    lines = explain(caught.value, names, RunConfig)
    assert lines == ["--lr: must be a finite number greater than 0, got 0.0", "--true-weights has 2 values but --dims is 1"]


def test_settings_are_immutable_and_csv_defaults_standardize():
    config = RunConfig()
    with pytest.raises(ValidationError):
        config.seed = 3
    assert not DataConfig().standardized
    assert DataConfig(source="a.csv").standardized
    assert not DataConfig(source="a.csv", standardize=False).standardized


def test_every_algorithm_has_a_summary_and_a_rule():
    seed_seven = ["bgd", "sgd", "mbgd", "momentum", "adagrad", "rmsprop", "adam"]
    names = [a.value for a in Algorithm]
    assert [name for name in names if name in seed_seven] == seed_seven  # the seed's, in the seed's order
    assert {"nesterov", "adamw"} <= set(names)  # then the two that followed (and whatever comes next)
    assert [PRESETS[name].epochs for name in seed_seven] == [100, 5, 20, 20, 20, 20, 20]  # the seed's defaults stay
    assert PRESETS["adam"].defaults == {"lr": 0.02, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0}
    for algorithm in Algorithm:
        assert PRESETS[algorithm].summary
        assert "lr" in PRESETS[algorithm].defaults
