"""A race: shared start and batch order, each entry exactly a `train` run, divergence stops alone."""

import json
import threading

import pytest

from tui_trainer.core.config import RunConfig, with_optimizer
from tui_trainer.core.control import RunControl
from tui_trainer.core.errors import ConfigError
from tui_trainer.core.events import ParameterPath, RunStarted, StateChanged, StepLosses
from tui_trainer.core.race import Race
from tui_trainer.core.race_events import EntryEvent, RaceFinished, Reach, parse_entries
from tui_trainer.core.trainer import Trainer

BASE = RunConfig.model_validate({"data": {"samples": 300, "dims": 2}})
SPEC = "bgd,sgd:epochs=2,mbgd:batch_size=7,adam:lr=0.1,adam:lr=0.01"


def entry_events(events, index, kind):
    return [e.event for e in events if isinstance(e, EntryEvent) and e.entry == index and isinstance(e.event, kind)]


def losses(events):
    return [loss for event in events for loss in event.losses]


def test_every_entry_ends_exactly_where_train_ends():
    events = []
    result = Race(BASE, parse_entries(SPEC), sink=events.append).run()
    for index, entry in enumerate(parse_entries(SPEC)):
        alone = []
        summary = Trainer(with_optimizer(BASE, entry.optimizer), sink=alone.append).run()
        raced = result.entries[index]
        assert (raced.weights, raced.bias, raced.final_loss, raced.steps) == (
            summary.weights, summary.bias, summary.final_loss, summary.steps
        )
        assert losses(entry_events(events, index, StepLosses)) == losses([e for e in alone if isinstance(e, StepLosses)])


def test_entries_share_their_initial_parameters_and_their_sample_order():
    events = []
    race = Race(BASE, parse_entries(SPEC), sink=events.append)
    race.run()
    starts = [entry_events(events, i, RunStarted)[0].initial for i in range(len(race.entries))]
    assert all((s.weights, s.bias) == (starts[0].weights, starts[0].bias) for s in starts)
    # one row order an epoch, whatever the batch size: the batches are consecutive cuts of it
    orders = [trainer.batches.epoch(0)[0] for trainer in race.trainers if not trainer.batches.full]
    assert len(orders) == 4 and all(order.tolist() == orders[0].tolist() for order in orders)
    sgd, mbgd = race.trainers[1], race.trainers[2]
    assert sgd.batches.batch(0)[0].tolist() == mbgd.batches.batch(0)[0][:1].tolist()  # the same first row


def test_a_diverging_entry_stops_alone_and_the_others_finish():
    race = Race(BASE, parse_entries("sgd:lr=3,adam,bgd"))
    result = race.run()
    diverged, adam, bgd = result.entries
    assert diverged.diverged and diverged.state == "DIVERGED" and diverged.steps_to_optimal is None
    assert diverged.steps < race.trainers[0].total_steps
    assert adam.state == bgd.state == "DONE" and not adam.diverged
    assert (adam.steps, bgd.steps) == (race.trainers[1].total_steps, race.trainers[2].total_steps)
    json.dumps(result.to_dict(), allow_nan=False)  # a diverged entry writes no NaN either


def test_steps_to_optimal_is_the_first_step_within_one_percent_on_the_whole_set():
    events = []
    result = Race(BASE, parse_entries("mbgd"), sink=events.append).run()
    paths = entry_events(events, 0, ParameterPath)
    whole = {step: loss for p in paths for step, loss in zip(p.steps, p.losses, strict=True)}
    reached = result.entries[0].steps_to_optimal
    target = result.optimal_loss * 1.01
    assert whole[reached] <= target and all(whole[s] > target for s in range(1, reached))
    assert 0 < result.entries[0].seconds_to_optimal < 10


def test_a_race_can_be_paused_stepped_and_stopped():
    control, events = RunControl(paused=True), []
    race = Race(RunConfig.model_validate({"data": {"samples": 300}}), parse_entries("sgd:epochs=1000,adam:epochs=1000"),
                sink=events.append, control=control)
    thread = threading.Thread(target=race.run, daemon=True)
    thread.start()
    control.step()
    for _ in range(200):
        if all(trainer.step == 1 for trainer in race.trainers):
            break
        thread.join(0.02)
    assert [trainer.step for trainer in race.trainers] == [1, 1]  # one step each
    control.resume()
    thread.join(0.3)
    control.stop()
    thread.join(10)
    finished = next(e for e in events if isinstance(e, RaceFinished)).result
    assert finished.interrupted and all(entry.state == "STOPPED" for entry in finished.entries)
    race_states = [e.state.value for e in events if isinstance(e, StateChanged)]
    assert race_states[0] == "PAUSED" and race_states[-1] == "STOPPED"


def test_entries_are_parsed_with_shared_settings_and_distinct_names():
    entries = parse_entries("adam, adam:lr=0.1 ,adam,momentum:lr=0.05:momentum=0.8", {"epochs": 3})
    assert [e.name for e in entries] == ["adam", "adam:lr=0.1", "adam#2", "momentum:lr=0.05:momentum=0.8"]
    assert all(e.optimizer.epochs == 3 for e in entries)
    assert entries[1].optimizer.lr == 0.1 and entries[3].optimizer.momentum == 0.8
    assert parse_entries("sgd:epochs=9", {"epochs": 3})[0].optimizer.epochs == 9  # the entry's own wins
    assert parse_entries("adam:weight-decay=0.1")[0].optimizer.weight_decay == 0.1


@pytest.mark.parametrize(
    "spec, message",
    [
        ("", "--entries needs algorithms separated by commas"),
        ("bgd,,sgd", "--entries needs algorithms separated by commas"),
        ("newton", "entry 'newton': algorithm: must be one of"),
        ("adam:lr", "entry 'adam:lr': 'lr' is not setting=value"),
        ("adam:lr=-1", "entry 'adam:lr=-1': lr: must be a finite number greater than 0"),
        ("adam:momentum=0.9", "entry 'adam:momentum=0.9': momentum: does not apply to adam"),
        ("sgd:speed=3", "entry 'sgd:speed=3': speed: is not a setting"),
    ],
)
def test_bad_entries_are_refused_clearly(spec, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        parse_entries(spec)


def test_a_noiseless_optimum_can_be_reached():
    """Its optimal loss (~1e-14) is below what float32 parameters can reach: the target allows for that."""
    result = Race(RunConfig.model_validate({"data": {"samples": 300, "noise": 0}}), parse_entries("bgd,mbgd")).run()
    assert result.optimal_loss < 1e-12
    assert all(entry.steps_to_optimal is not None for entry in result.entries)


def test_within_one_percent_means_one_percent_on_real_data():
    """On Longley (standardized features, employment ~ 65,000) the old float32 allowance of
    1e-6·mean(y²) put the line 8.2% above the optimum; a loss 2% above it is not 'reached'."""
    optimal, scale = 52276.5, 4.3e9  # Longley's optimal loss and mean(y²)
    reach = Reach(optimal, scale)
    assert reach.target == pytest.approx(optimal * 1.01)
    reach.apply(ParameterPath(steps=[10, 20, 30], points=[[0.0]] * 3, losses=[optimal * 1.05, optimal * 1.02, optimal * 1.009]))
    assert reach.step == 30


def test_the_race_reports_its_real_threshold():
    result = Race(BASE, parse_entries("bgd")).run()
    assert result.target_loss == pytest.approx(result.optimal_loss * 1.01)
    assert result.to_dict()["target_loss"] == result.target_loss
