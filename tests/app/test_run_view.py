"""The view-model: events in, what the screen shows out."""

from tui_trainer.app.run_view import RunView
from tui_trainer.core.config import RunConfig
from tui_trainer.core.events import RunState, StateChanged, StepLosses
from tui_trainer.core.trainer import Trainer
from tui_trainer.engine.protocol import RunFailed


def test_a_whole_run_fills_the_view():
    view = RunView()
    config = RunConfig.model_validate({"optimizer": {"algorithm": "adam"}, "data": {"dims": 2}})
    Trainer(config, sink=view.apply).run()
    assert view.state is RunState.DONE and view.step == 500 and view.epoch == 20
    assert len(view.train) == 500 and len(view.validation) == 20
    rows = view.parameter_rows()
    assert [row.name for row in rows] == ["w[x1]", "w[x2]", "b"]
    assert set(rows[0].state) == {"m", "v"} and rows[0].true == 3.0 and rows[-1].true == 0.8
    assert view.distance_to_optimum() < 0.1
    assert view.steps_per_s > 0 and view.optimal_loss > 0


def test_reset_forgets_everything_and_failures_show_as_error():
    view = RunView()
    view.apply(StateChanged(RunState.RUNNING))
    view.apply(StepLosses(1, 1, [1.0, 0.5], [0.1, 0.1], [0.01, 0.02]))
    assert view.active and view.last_loss == 0.5
    view.reset()
    assert view.state is RunState.IDLE and len(view.train) == 0 and view.parameter_rows() == []
    view.apply(RunFailed("data.csv: no such file"))
    assert view.state is RunState.ERROR and view.message == "data.csv: no such file" and not view.active
